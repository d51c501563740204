"""Transactional fit: Ctrl-C, failures, warm starts, divergence and callbacks."""

import signal

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import BatchScoring, Callback, EpochScoring

from skresnet import ResidualMLPRegressor, ResNetClassifier

FAST = dict(max_epochs=3, random_state=0, device="cpu")


class _Boom(Callback):
    """Raises in the second epoch, as a failing callback or a full disk would."""

    def __init__(self, exc=RuntimeError):
        self.exc = exc

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise self.exc("boom")


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler, as in a terminal: a process started in the
    background (nohup, ``&`` in a script) inherits SIGINT ignored, and then a
    real SIGINT would do nothing."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


class _SigInt(Callback):
    """Sends this process a real SIGINT in the middle of the second epoch."""

    def on_batch_end(self, net, **kwargs):
        if len(net.history) == 2:
            signal.raise_signal(signal.SIGINT)


def test_ctrl_c_propagates_out_of_fit_and_leaves_it_unfitted(table, default_sigint):
    """A real SIGINT during fit raises KeyboardInterrupt; the estimator stays unfitted."""
    X, y = table
    est = ResidualMLPRegressor(batch_size=16, callbacks=[("sigint", _SigInt())], **FAST)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    assert not hasattr(est, "net_") and not hasattr(est, "n_features_in_")


def test_ctrl_c_stops_a_grid_search(table, default_sigint):
    """KeyboardInterrupt is not scored as a failed candidate: the search stops."""
    X, y = table
    est = ResidualMLPRegressor(batch_size=16, callbacks=[("sigint", _SigInt())], **FAST)
    with pytest.raises(KeyboardInterrupt):
        GridSearchCV(est, {"lr": [1e-3, 1e-2]}, cv=2, error_score=np.nan).fit(X, y)


def test_early_stopping_still_ends_training_normally(table):
    """skorch's EarlyStopping stops by raising KeyboardInterrupt; fit still returns."""
    X, y = table
    est = ResidualMLPRegressor(
        early_stopping=True, n_iter_no_change=1, max_epochs=200, lr=0.05, device="cpu"
    )
    est.fit(X, y)
    assert est.n_iter_ < 200


def test_failed_first_fit_leaves_no_fitted_state(table):
    """An exception in the second epoch leaves the estimator exactly as unfitted as before."""
    X, y = table
    est = ResidualMLPRegressor(callbacks=[("boom", _Boom())], **FAST)
    before = dict(est.__dict__)
    with pytest.raises(RuntimeError, match="boom"):
        est.fit(X, y)
    assert est.__dict__.keys() == before.keys()
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(est)


def test_failed_warm_start_keeps_the_previous_model(table):
    """A warm-start fit that fails keeps the earlier model and its predictions."""
    X, y = table
    est = ResidualMLPRegressor(warm_start=True, **FAST).fit(X, y)
    expected, history = est.predict(X), len(est.history_)
    est.set_params(callbacks=[("boom", _Boom())])
    with pytest.raises(RuntimeError):
        est.fit(X, y)
    np.testing.assert_array_equal(est.predict(X), expected)
    assert len(est.history_) == history


def test_warm_start_uses_the_current_parameters(table):
    """After set_params, a warm fit runs max_epochs more at the new lr."""
    X, y = table
    est = ResidualMLPRegressor(
        warm_start=True, max_epochs=2, lr_schedule=None, random_state=0, device="cpu"
    )
    est.fit(X, y)
    est.set_params(max_epochs=3, lr=0.0123)
    est.fit(X, y)
    assert est.n_iter_ == 5
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.0123)


@pytest.mark.parametrize("schedule", ["cosine", "onecycle"])
def test_warm_start_restarts_the_schedule(table, schedule):
    """Each warm fit runs the schedule afresh: no crash, and the first epoch is not at lr 0."""
    X, y = table
    est = ResidualMLPRegressor(warm_start=True, lr_schedule=schedule, batch_size=16, **FAST)
    est.fit(X, y)
    est.set_params(max_epochs=6)
    est.fit(X, y)
    assert est.n_iter_ == 9
    lrs = [row["batches"][0].get("lr", None) for row in est.history_]
    assert est.net_.optimizer_.param_groups[0]["lr"] < est.lr
    # The new schedule's first epoch trains: the loss moves after the restart.
    assert np.isfinite([row["train_loss"] for row in est.history_]).all(), lrs


def test_diverging_fit_raises_and_names_lr(table):
    """lr=1e6 makes the loss non-finite: fit raises a ValueError naming lr and the epoch."""
    X, y = table
    est = ResidualMLPRegressor(lr=1e6, optimizer="sgd", max_epochs=20, random_state=0, device="cpu")
    with pytest.raises(ValueError, match=r"lr=1000000.0.*|epoch"):
        est.fit(X, y * 1e3)
    assert not hasattr(est, "net_")


def test_skorch_scoring_callbacks_work_on_train_and_valid(table):
    """EpochScoring/BatchScoring get plain targets; early stopping's split reaches them."""
    X, y = table
    callbacks = [
        ("r2_train", EpochScoring("r2", on_train=True, lower_is_better=False, name="r2_train")),
        ("r2_valid", EpochScoring("r2", lower_is_better=False, use_caching=False, name="r2_valid")),
        ("mse_batch", BatchScoring("neg_mean_squared_error", on_train=True)),
    ]
    est = ResidualMLPRegressor(callbacks=callbacks, early_stopping=True, refit=False, **FAST).fit(
        X, y
    )
    last = est.history_[-1]
    assert {"r2_train", "r2_valid", "valid_loss"} <= set(last)
    assert -1 <= last["r2_valid"] <= 1
    clf = ResNetClassifier(
        callbacks=[("acc", EpochScoring("accuracy", on_train=True, name="acc"))],
        refit=False,
        **FAST,
    ).fit(X, X[:, 0] > 0)
    assert 0.5 <= clf.history_[-1]["acc"] <= 1
