"""Rolling-origin evaluation of a window forecaster."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone

from ._windows import _as_frame, _resolve_columns, make_windows


def forecast_errors(
    actual: np.ndarray, forecast: np.ndarray, history: np.ndarray, season_length: int = 1
) -> dict[str, float]:
    """MAE, RMSE, MASE and sMAPE of one forecast.

    MASE divides the MAE by the in-sample MAE of the seasonal naive forecast
    on ``history`` (Hyndman & Koehler, 2006); sMAPE is in percent,
    ``mean(2 |y - f| / (|y| + |f|))``, with 0/0 counted as 0.
    """
    err = np.asarray(actual, dtype=float) - np.asarray(forecast, dtype=float)
    mae = float(np.mean(np.abs(err)))
    naive = np.abs(history[season_length:] - history[:-season_length])
    scale = float(np.mean(naive)) if len(naive) else np.nan
    denom = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(2 * np.abs(err), denom, out=np.zeros_like(denom, dtype=float), where=denom > 0)
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mase": mae / scale if scale and scale > 0 else np.nan,
        "smape": float(100 * np.mean(ratio)),
    }


def backtest(
    estimator,
    data,
    *,
    lookback: int,
    horizon: int,
    start: int | None = None,
    step: int | None = None,
    refit: bool = False,
    window: str = "expanding",
    season_length: int = 1,
    target: Hashable | None = None,
    covariates: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Rolling-origin evaluation: forecast ``horizon`` steps from many origins.

    At origin ``o`` the model has seen observations ``[:o]`` only and
    forecasts ``[o, o + horizon)``. Without ``refit`` a clone of the
    estimator is fitted once, on the data before the first origin, and every
    origin is predicted in one batched call; with ``refit`` a clone is fitted
    at each origin on the data before it (``window="expanding"``) or on the
    same number of steps as the first fit, ending at the origin
    (``window="sliding"``).

    Parameters
    ----------
    estimator : estimator taking windows, e.g. TCNForecaster
    data : Series, DataFrame or array-like of shape (n_steps,) or (n_steps, n_columns)
    lookback, horizon : int
    start : int, default=None
        Position of the first origin; 80% of the series when None.
    step : int, default=None
        Steps between origins; ``horizon`` when None.
    refit : bool, default=False
    window : {"expanding", "sliding"}, default="expanding"
    season_length : int, default=1
        Period of the seasonal naive forecast that scales MASE.
    target, covariates
        As in :func:`make_windows`.

    Returns
    -------
    scores : DataFrame
        One row per origin (indexed by the label of the last observed step)
        with columns ``mae``, ``rmse``, ``mase``, ``smape``, and a last row
        ``"overall"`` with their means.
    """
    if window not in ("expanding", "sliding"):
        raise ValueError(f"window={window!r} is not supported; expected 'expanding' or 'sliding'.")
    frame = _as_frame(data)
    columns = _resolve_columns(frame, target, covariates)
    values = frame[columns].to_numpy(dtype=np.float64)
    n = len(values)
    start = int(0.8 * n) if start is None else start
    step = horizon if step is None else step
    origins = np.arange(start, n - horizon + 1, step)
    if start < lookback + horizon or len(origins) == 0:
        raise ValueError(
            f"start={start} leaves no room: it needs start >= lookback + horizon = "
            f"{lookback + horizon} for a first fit and start + horizon <= n_steps = {n}."
        )

    def fit(lo: int, hi: int):
        """A clone of the estimator fitted on the windows inside ``values[lo:hi]``."""
        X, y = make_windows(
            values[lo:hi],
            lookback=lookback,
            horizon=horizon,
            target=0,
            covariates=list(range(1, len(columns))) or None,
        )
        return clone(estimator).fit(X, y)

    def windows(at) -> np.ndarray:
        """Input windows ending just before each origin in ``at``."""
        X = np.stack([values[o - lookback : o] for o in at])
        return X[:, :, 0] if len(columns) == 1 else X

    if refit:
        forecasts = np.stack([
            np.ravel(fit(o - start if window == "sliding" else 0, o).predict(windows([o])))
            for o in origins
        ])
    else:
        forecasts = np.reshape(fit(0, start).predict(windows(origins)), (len(origins), -1))

    target_values = values[:, 0]
    rows = [
        forecast_errors(target_values[o : o + horizon], f, target_values[:o], season_length)
        for o, f in zip(origins, forecasts)
    ]
    scores = pd.DataFrame(rows, index=pd.Index(frame.index[origins - 1], name="origin"))
    scores.loc["overall"] = scores.mean()
    return scores
