"""scikit-learn's MLP names for the training history: loss_curve_, validation_scores_, best_*."""

import math

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster
from skresnet._callbacks import kept_epoch
from skresnet.datasets import make_seasonal_series
from skresnet.timeseries import make_windows


def _series_windows():
    series = make_seasonal_series(400, period=12, random_state=0)
    return make_windows(series, lookback=24, horizon=6)


@pytest.mark.parametrize("quantiles", [None, (0.1, 0.5, 0.9)])
def test_validation_score_is_the_score_of_the_kept_epoch(quantiles):
    X, y = _series_windows()
    est = TCNForecaster(
        max_epochs=4,
        early_stopping=True,
        quantiles=quantiles,
        channels=8,
        random_state=0,
        refit=False,
        ets=False,  # the history scores the network; predict would add the member
    ).fit(X, y)
    n_valid = math.ceil(est.validation_fraction * len(X))
    assert len(est.validation_scores_) == est.n_iter_ == len(est.loss_curve_)
    kept = kept_epoch(est.history_)
    best = est.history_[kept - 1]["valid_score"] if kept else None
    if "start_kept" not in est.history_[-1]:
        # early stopping restored the best epoch: its recorded score is predict's R2
        assert best == pytest.approx(est.score(X[-n_valid:], y[-n_valid:]), abs=1e-4)
    assert est.best_loss_ is None  # a validation split was held out, as sklearn's MLP
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_classifier_scores_are_accuracies():
    X, y = make_classification(300, 8, random_state=0)
    clf = ResNetClassifier(max_epochs=3, early_stopping=True, random_state=0).fit(X, y)
    n_valid = clf._n_validation(len(X))  # validation_fraction="auto": 0.3 before a refit
    assert n_valid == math.ceil(0.3 * len(X))
    for score in clf.validation_scores_:
        assert 0 <= score <= 1
        assert score * n_valid == pytest.approx(round(score * n_valid), abs=1e-3)


def test_without_validation_the_best_loss_is_the_lowest_training_loss():
    X, y = make_regression(200, 5, random_state=0)
    reg = ResidualMLPRegressor(max_epochs=4, early_stopping=False, random_state=0).fit(X, y)
    assert reg.validation_scores_ is None and reg.best_validation_score_ is None
    np.testing.assert_allclose(reg.loss_curve_, reg.history_[:, "train_loss"])
    assert reg.best_loss_ == min(reg.loss_curve_)


def test_the_kept_epoch_is_the_one_early_stopping_restored():
    X, y = make_regression(300, 5, noise=30, random_state=0)
    reg = ResidualMLPRegressor(
        max_epochs=40,
        early_stopping=True,
        linear_start=False,
        n_iter_no_change=3,
        random_state=0,
        refit=False,
    ).fit(X, y)
    stopper = dict(reg.net_.callbacks_)["early_stopping"]
    if "start_kept" in reg.history_[-1]:
        assert kept_epoch(reg.history_) == 0
    else:
        assert kept_epoch(reg.history_) == stopper.best_epoch_
        assert sum(bool(row.get("kept")) for row in reg.history_) == 1
