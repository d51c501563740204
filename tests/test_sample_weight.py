"""sample_weight means repeated rows: same training loss and gradient for integer weights."""

import numpy as np
import pytest
import torch

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster
from skresnet._data import TensorData


def _loss_and_grads(est, X, y, w):
    """Training loss of the fitted network on (X, y, w), in eval mode, and its gradients."""
    X = np.asarray(X, dtype=np.float32)
    target = est.target_encoder_.transform(y)
    weight = est.target_encoder_.weight(y, w.astype(np.float32))
    data = TensorData(X, est.input_spec_.sample_shape(X), target, weight)
    Xb, yb = data.batch(slice(None), torch.device("cpu"))
    net = est.net_
    net.module_.eval()  # no dropout, so both losses see the same network
    net.module_.zero_grad()
    loss = net.get_loss(net.infer(Xb), yb, X=Xb)
    loss.backward()
    grads = [p.grad.clone() for p in net.module_.parameters()]
    return loss.item(), grads


@pytest.mark.parametrize(
    "Est, extra",
    [
        (ResNetClassifier, {}),
        (ResidualMLPRegressor, {}),
        (TCNForecaster, {}),
        (TCNForecaster, {"quantiles": (0.1, 0.5, 0.9)}),
    ],
    ids=["ResNetClassifier", "ResidualMLPRegressor", "TCNForecaster", "TCNForecaster-quantiles"],
)
def test_integer_weights_equal_repeated_rows(Est, extra):
    """Loss and gradient on (X, y, w) equal those on rows repeated w times, zeros included."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 6))
    y = np.arange(30) % 3 if Est is ResNetClassifier else rng.normal(size=30)
    w = rng.integers(0, 4, size=30)
    w[:3] = [0, 1, 3]
    est = Est(max_epochs=2, random_state=0, device="cpu", **extra).fit(X, y)
    loss_w, grads_w = _loss_and_grads(est, X, y, w)
    repeat = np.repeat(np.arange(30), w)
    loss_r, grads_r = _loss_and_grads(est, X[repeat], y[repeat], np.ones(len(repeat)))
    assert loss_w == pytest.approx(loss_r, rel=1e-5)
    for gw, gr in zip(grads_w, grads_r, strict=True):
        torch.testing.assert_close(gw, gr, rtol=1e-4, atol=1e-6)


def test_weights_change_the_fit():
    """Up-weighting one region of the data pulls the regressor's fit toward it."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 1))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    y_conflict = np.r_[y, -y]
    X2 = np.r_[X, X]
    w = np.r_[np.full(200, 5.0), np.ones(200)]
    est = ResidualMLPRegressor(max_epochs=30, random_state=0, device="cpu")
    pred = est.fit(X2, y_conflict, sample_weight=w).predict(X)
    assert np.corrcoef(pred, y)[0, 1] > 0.9
