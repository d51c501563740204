"""The skorch internals skresnet/_net.py relies on are still there (pinned: skorch < 1.5)."""

import inspect

import numpy as np
from skorch import NeuralNet

from skresnet import ResidualMLPRegressor


def test_private_skorch_names_used_by_the_net_exist():
    """_set_training, _zero_grad_optimizer and _optimizers behave as train_step expects."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    net = ResidualMLPRegressor(max_epochs=1, device="cpu").fit(X, X[:, 0]).net_
    assert callable(net._set_training) and callable(net._zero_grad_optimizer)
    assert list(net._optimizers) == ["optimizer"]
    params = inspect.signature(NeuralNet._zero_grad_optimizer).parameters
    assert "set_to_none" in params


def test_partial_fit_still_needs_our_override():
    """skorch's partial_fit swallows KeyboardInterrupt around fit_loop; ours re-implements it."""
    source = inspect.getsource(NeuralNet.partial_fit)
    assert "except KeyboardInterrupt" in source and "self.fit_loop(" in source
    assert "on_train_begin" in source and "on_train_end" in source
