"""The main job: fit the three estimators on offline data beside scikit-learn baselines."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits, make_friedman1
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor

from ._classifier import ResNetClassifier
from ._forecaster import TCNForecaster
from ._regressor import ResidualMLPRegressor
from .datasets import make_seasonal_series
from .timeseries import make_windows


def _compare(task: str, models: dict, X, y, stratify=None) -> list[dict]:
    """Fit each model on 75% of the data and score it on the rest."""
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=stratify
    )
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_tr, y_tr)
        seconds = time.perf_counter() - start
        rows.append(
            {"task": task, "model": name, "score": model.score(X_te, y_te), "fit_s": seconds}
        )
    return rows


def _classification(epochs: int, iterations: int) -> list[dict]:
    X, y = load_digits(return_X_y=True)
    models = {
        "ResNetClassifier (ResNet-20 on 8x8 images)": ResNetClassifier(
            input_shape=(1, 8, 8), max_epochs=epochs, batch_size=64, random_state=0
        ),
        "MLPClassifier": MLPClassifier(max_iter=iterations, random_state=0),
        "HistGradientBoostingClassifier": HistGradientBoostingClassifier(
            max_iter=min(iterations, 100), random_state=0
        ),
    }
    return _compare("digits (accuracy)", models, X / 16, y, stratify=y)


def _regression(epochs: int, iterations: int) -> list[dict]:
    X, y = make_friedman1(n_samples=2000, noise=1.0, random_state=0)
    models = {
        "ResidualMLPRegressor": ResidualMLPRegressor(max_epochs=epochs, random_state=0),
        "MLPRegressor": MLPRegressor(max_iter=iterations, random_state=0),
        "HistGradientBoostingRegressor": HistGradientBoostingRegressor(
            max_iter=min(iterations, 100), random_state=0
        ),
    }
    return _compare("friedman1 (R^2)", models, X, y)


def _forecasting(epochs: int, member: bool = True) -> list[dict]:
    period, lookback, horizon, n_test = 24, 72, 24, 240
    series = make_seasonal_series(2000, period=period, random_state=0).to_numpy()
    train = series[:-n_test]
    X_tr, y_tr = make_windows(train, lookback=lookback, horizon=horizon)
    # Forecast origins every `horizon` steps over the held-out end of the series.
    origins = np.arange(len(series) - n_test, len(series) - horizon + 1, horizon)
    X_te = np.stack([series[o - lookback : o] for o in origins])
    y_te = np.stack([series[o : o + horizon] for o in origins])
    start = time.perf_counter()
    # ets="auto": the statistical member, weighed on validation windows (most of the fit)
    ets = "auto" if member else False
    tcn = TCNForecaster(max_epochs=epochs, ets=ets, random_state=0).fit(X_tr, y_tr)
    seconds = time.perf_counter() - start
    naive = np.stack([series[o - period : o] for o in origins])[:, :horizon]
    return [
        {
            "task": "seasonal series (MAE, lower is better)",
            "model": "TCNForecaster",
            "score": mean_absolute_error(y_te, tcn.predict(X_te)),
            "fit_s": seconds,
        },
        {
            "task": "seasonal series (MAE, lower is better)",
            "model": "seasonal naive",
            "score": mean_absolute_error(y_te, naive),
            "fit_s": 0.0,
        },
    ]


def run_demo(quick: bool = False) -> pd.DataFrame:
    """Fit every estimator and its baselines; return the table of test scores and fit times.

    Every model fits on one CPU thread (ours by default, scikit-learn's
    baselines under ``threadpoolctl``), so the times compare like with like
    and hold beside other work on the machine.

    Parameters
    ----------
    quick : bool, default=False
        Train everything briefly, baselines included, and leave the
        forecaster's statistical member out (a smoke test in seconds, not a
        measurement).
    """
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows = (
            _classification(2 if quick else 15, 10 if quick else 300)
            + _regression(2 if quick else 100, 10 if quick else 500)
            + _forecasting(2 if quick else 30, member=not quick)
        )
    return pd.DataFrame(rows)
