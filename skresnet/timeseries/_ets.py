"""Exponential smoothing of each window, the statistical member of a forecaster's combination.

Each window's target is smoothed on its own by statsmodels' Holt-Winters
(``ExponentialSmoothing``: additive damped trend, a multiplicative season for
positive windows and an additive one otherwise, parameters and initial
states estimated by least squares), in the window's own units so that the forecast scales
exactly with the window. Nothing here is fitted across windows: the smoothing
parameters and initial states come from each window alone, as a per-series
``AutoETS`` would from its history. Damped-trend smoothing is the strongest
single method of the M3 competition's monthly and quarterly series (Hyndman et
al., 2008, "Forecasting with Exponential Smoothing", ch. 2) and the trend a
combination with a network keeps from running away.
"""

from __future__ import annotations

import warnings

import numpy as np

# A seasonal model needs two full seasons to set its initial states; below that the
# window is smoothed without a season. Longer seasons than _MAX_SEASON are not smoothed
# (as R's ets and statsforecast's AutoETS do): one state per step of the season makes
# the fit slow and noisy, and the network reads such seasons from the window.
_MIN_SEASONS = 2
_MAX_SEASON = 24
# Weights of the network in the combination, chosen on validation windows.
COMBINATION_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _window_unit(values: np.ndarray) -> float:
    """The window's mean absolute value (1 for an all-zero window)."""
    unit = float(np.mean(np.abs(values)))
    return unit if unit > 0 and np.isfinite(unit) else 1.0


def smooth_window(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Damped-trend Holt-Winters forecast of ``horizon`` steps after ``values``.

    Parameters
    ----------
    values : ndarray of shape (lookback,)
        One window of the target, oldest first.
    horizon : int
    season : int
        Season length (1, over 24, or a window shorter than two seasons: no
        season).

    Returns
    -------
    forecast : ndarray of shape (horizon,)
        NaN where the smoothing failed or gave non-finite values (a constant
        window, too few points).
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    unit = _window_unit(values)
    z = np.asarray(values, dtype=np.float64) / unit
    if np.ptp(z) == 0.0:  # flat window: its level is the forecast
        return np.full(horizon, z[-1] * unit)
    seasonal = None
    if 1 < season <= _MAX_SEASON and len(z) >= _MIN_SEASONS * season:
        seasonal = "mul" if z.min() > 0 else "add"
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            model = ExponentialSmoothing(
                z,
                trend="add",
                damped_trend=True,
                seasonal=seasonal,
                seasonal_periods=season if seasonal else None,
                initialization_method="estimated",
            )
            # L-BFGS-B from statsmodels' starting values, without its brute-force grid:
            # a quarter of the time, and as accurate on 13 short series (median MASE
            # 0.957 against 0.966; docs/defaults.md)
            fitted = model.fit(method="L-BFGS-B", use_brute=False)
            out = np.asarray(fitted.forecast(horizon), dtype=np.float64)
    except (ValueError, np.linalg.LinAlgError):
        return np.full(horizon, np.nan)
    if out.shape != (horizon,) or not np.all(np.isfinite(out)):
        return np.full(horizon, np.nan)
    return out * unit


def smooth_windows(target: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """:func:`smooth_window` of every row of ``target`` (shape ``(n, lookback)``),
    shape ``(n, horizon)``."""
    out = np.empty((len(target), horizon))
    for i, values in enumerate(target):
        out[i] = smooth_window(values, horizon, season)
    return out


def combine(model: np.ndarray, smoothed: np.ndarray, weight: float, median: int = 0) -> np.ndarray:
    """``weight * model + (1 - weight) * smoothed``, the model alone where smoothing failed.

    ``model`` is ``(n, horizon)`` or quantiles ``(n, horizon, n_quantiles)`` with
    the median at ``median``; quantiles are shifted by what the combination moves
    the median, so their spread stays the model's (and its calibration's).
    """
    if weight >= 1.0:
        return model
    center = model if model.ndim == 2 else model[..., median]
    shift = (1.0 - weight) * (smoothed - center)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    return model + (shift if model.ndim == 2 else shift[..., None])


def choose_weight(model: np.ndarray, smoothed: np.ndarray, actual: np.ndarray, unit: np.ndarray):
    """The weight of :data:`COMBINATION_WEIGHTS` whose combination has the lowest mean
    absolute error on these windows, each error in its series' ``unit``; ties go to
    the larger weight (the model alone first).

    Parameters
    ----------
    model, smoothed, actual : ndarray of shape (n, horizon)
    unit : ndarray of shape (n,)

    Returns
    -------
    weight : float
    errors : dict of float to float
        The mean scaled error of each weight.
    """
    errors = {}
    for weight in COMBINATION_WEIGHTS:
        combined = combine(model, smoothed, weight)
        errors[weight] = float(np.mean(np.abs(combined - actual) / unit[:, None]))
    best = min(errors.values())
    weight = max(w for w, e in errors.items() if e <= best * (1 + 1e-9))
    return weight, errors
