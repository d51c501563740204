"""The statistical member of a forecaster's combination: exponential smoothing and Theta.

Each window's target is forecast on its own by two statsmodels models, in
the window's own units so that the forecast scales exactly with the window:

- Holt-Winters (``ExponentialSmoothing``): additive damped trend, a
  multiplicative or additive season for positive windows (the lower AICc)
  and an additive one otherwise, parameters and initial states estimated
  by least squares. Damped-trend
  smoothing is the strongest single method of the M3 competition's monthly
  and quarterly series (Hyndman et al., 2008, "Forecasting with Exponential
  Smoothing", ch. 2). A season of 13 to 24 steps (hourly data's day) is
  taken out by STL instead and the adjusted window smoothed with the same
  damped trend (``STLForecast``; Cleveland et al., 1990; the ``stlf`` of
  Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", 2nd
  ed., 6.8), see :func:`stl_smoothing`.
- Theta (``ThetaModel``): simple exponential smoothing with a share of the
  linear trend's drift (the theta line, chosen by the errors at the last
  origins of the window, as the optimized Theta method of Fiorucci et al.,
  2016, chooses it; the classical method's half without such origins), on
  the window deseasonalized by a classical decomposition when a seasonality
  test finds a season (Assimakopoulos & Nikolopoulos, 2000; the M3
  competition's winner, Hyndman & Billah, 2003).

The member's forecast is their weighted mean, two thirds Holt-Winters and
one third Theta: combining forecasters of different kinds is more accurate
on average than either, and than choosing one per series (Makridakis et
al., 2020, the M4 competition); Holt-Winters, the stronger of the two on
a series' history, counts twice (docs/defaults.md#forecasting). Nothing here is
fitted across windows: every parameter comes from the window alone, as a
per-series ``AutoETS`` or ``AutoTheta`` would from its history.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._windows import evenly

# A seasonal model needs two full seasons to set its initial states; below that the
# window is smoothed without a season. Holt-Winters does not smooth seasons longer than
# _MAX_SEASON (as R's ets and statsforecast's AutoETS do): one state per step of the
# season makes the fit slow and noisy. Theta's classical decomposition takes any season
# (weekly data's 52 weeks); for such a season the member is Theta alone, Holt-Winters
# reading none of it (docs/defaults.md).
_MIN_SEASONS = 2
_MAX_SEASON = 24
# Holt-Winters' seasons are at most _MAX_HW_SEASON steps; a longer one, up to _MAX_SEASON,
# STL takes out and a damped trend smooths the rest (stl_smoothing). On windows of 72
# and histories of 1000 steps of four hourly series (24-step season) the member's MASE
# was 9% and 13% lower that way, and its fits 7 and 3 times faster; with seasons of 4, 7
# and 12 steps (fpp2's quarterly and monthly series, daily births) Holt-Winters was
# 3-7% better (docs/defaults.md).
_MAX_HW_SEASON = 12
# The exponential smoothing of Holt-Winters and of the STL-adjusted window: an additive
# damped trend, initial states estimated; L-BFGS-B from statsmodels' starting values,
# without its brute-force grid: a quarter of the time, as accurate (docs/defaults.md).
_DAMPED_TREND = {"trend": "add", "damped_trend": True, "initialization_method": "estimated"}
_FIT_OPTIONS = {"method": "L-BFGS-B", "use_brute": False}
# Decimal digits of a window in its units (see in_units).
_DIGITS = 9
# Holt-Winters' and Theta's weights in the member (docs/defaults.md#forecasting).
MEMBER_WEIGHTS = np.array([2.0, 1.0])
# Weights of the network in the combination, chosen on validation windows.
COMBINATION_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
# One forecaster alone (weight 0 or 1) is chosen only where its validation error is
# below (1 - ALONE_MARGIN) times the nearest combination's: validation windows rank
# the network above its later test errors (births weekly: alone 3.5% worse on the test
# than three quarters, though 1.4% better on validation; docs/defaults.md).
ALONE_MARGIN = 0.03


def _window_unit(values: np.ndarray) -> float:
    """The window's mean absolute value (1 for an all-zero window)."""
    unit = float(np.mean(np.abs(values)))
    return unit if unit > 0 and np.isfinite(unit) else 1.0


def in_units(values: np.ndarray) -> tuple[np.ndarray, float]:
    """``(z, unit)``: the window divided by its :func:`_window_unit`, on a grid of
    ``1e-9`` units. A rescaled window (the series times ``c``) then gives the
    optimizers bit-identical input and the same fits, where a last-digit difference
    could move L-BFGS-B to another optimum or flip :func:`holt_winters`' choice."""
    unit = _window_unit(values)
    return np.round(np.asarray(values, dtype=np.float64) / unit, _DIGITS), unit


def window_units(target: np.ndarray) -> np.ndarray:
    """:func:`_window_unit` of each row of ``target`` (shape ``(n, lookback)``)."""
    return np.array([_window_unit(row) for row in target], dtype=np.float64)


def smooth_window(
    values: np.ndarray, horizon: int, season: int, history: bool = False
) -> np.ndarray:
    """The statistical member's forecast of ``horizon`` steps after ``values``: 2/3 of
    :func:`holt_winters` (:func:`stl_smoothing` for a season of 13 to 24 steps) and 1/3
    of :func:`theta` (the one that succeeded, if only one did).

    Parameters
    ----------
    values : ndarray of shape (lookback,)
        One window of the target, oldest first.
    horizon : int
    season : int
        Season length (1: no season).
    history : bool, default=False
        Whether ``values`` is a series' history (a ``context``), on which Theta's
        line is chosen at the last origins (:func:`choose_theta`); a window alone
        keeps the classical line: it holds one earlier origin or none of a monthly
        or quarterly horizon, and predicting windows stays as fast as before.

    Returns
    -------
    forecast : ndarray of shape (horizon,)
        NaN where both failed.
    """
    z, unit = in_units(values)
    if np.ptp(z) == 0.0:  # flat window: its level is the forecast
        return np.full(horizon, z[-1] * unit)
    # a season over _MAX_SEASON steps only Theta reads: Holt-Winters is not fitted
    theta_only = season > _MAX_SEASON and _has_seasons(z, season, long=True)
    if theta_only:
        smoothed = np.full(horizon, np.nan)
    elif season > _MAX_HW_SEASON and _has_seasons(z, season):
        smoothed = stl_smoothing(z, horizon, season)
    else:
        smoothed = holt_winters(z, horizon, season)
    forecasts = np.stack([smoothed, theta(z, horizon, season, choose=history)])
    usable = np.all(np.isfinite(forecasts), axis=1)
    if not usable.any():
        return np.full(horizon, np.nan)
    return np.average(forecasts[usable], axis=0, weights=MEMBER_WEIGHTS[usable]) * unit


def _forecast_or_nan(fit, z: np.ndarray, horizon: int) -> np.ndarray:
    """``fit()``'s forecast of ``horizon`` steps after ``z``; NaN where ``z`` has fewer
    than 4 points, or statsmodels failed or gave values of another shape or non-finite."""
    if len(z) < 4:
        return np.full(horizon, np.nan)
    # statsmodels' first import puts "always" filters for its warnings in front of the
    # filters in place: imported inside the block below, they would outrank its "ignore"
    import statsmodels.tools.sm_exceptions  # noqa: F401
    import statsmodels.tsa.forecasting.stl  # noqa: F401
    import statsmodels.tsa.forecasting.theta  # noqa: F401
    import statsmodels.tsa.holtwinters  # noqa: F401

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = np.asarray(fit(), dtype=np.float64)
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        return np.full(horizon, np.nan)
    ok = out.shape == (horizon,) and np.all(np.isfinite(out))
    return out if ok else np.full(horizon, np.nan)


def _has_seasons(z: np.ndarray, season: int, long: bool = False) -> bool:
    """Whether a season of ``season`` steps is modelled on ``z``: a season of 2 to 24
    steps (of any length from 2 with ``long``, as Theta does), and two full seasons of
    data."""
    short = season <= _MAX_SEASON or long
    return 1 < season and short and len(z) >= _MIN_SEASONS * season


def theta(values: np.ndarray, horizon: int, season: int, choose: bool = True) -> np.ndarray:
    """Theta method forecast of ``horizon`` steps after ``values`` (statsmodels'
    ``ThetaModel``: multiplicative deseasonalization for positive windows, additive
    otherwise, where its seasonality test finds the season), its theta chosen
    among :data:`THETAS` by :func:`choose_theta` (``choose=False``: 2, the classical
    method's).

    ``values`` is a window in units near 1 (see :func:`smooth_window`); the
    arguments and the NaN on failure are :func:`holt_winters`'s.
    """
    z = np.asarray(values, dtype=np.float64)
    chosen = choose_theta(z, horizon, season) if choose else 2.0
    return _forecast_or_nan(
        lambda: _theta_fit(z, season).forecast(horizon, theta=chosen), z, horizon
    )


# The theta lines the Theta forecast chooses from (2: the classical method's), and how
# many origins at the end of the series, ``horizon`` steps apart, judge them.
THETAS = (1.0, 1.5, 2.0, 3.0, 5.0)
_THETA_ORIGINS = 3


def choose_theta(z: np.ndarray, horizon: int, season: int) -> float:
    """The theta of :data:`THETAS` whose forecasts from the last ``_THETA_ORIGINS``
    origins of ``z`` (each fitted on the values before it) had the least absolute
    error; 2 where none of them leaves the fit its season or 4 values.

    The optimized Theta method (Fiorucci et al., 2016) chooses the weight of the
    long-run trend line per series, which the classical method fixes at 2; here it
    is chosen by rolling-origin evaluation of statsmodels' ``ThetaModel``, whose
    forecast takes any theta. On a series' history (benchmarks/panels.py's
    origins) the Theta forecast went from 1.465 to 1.428 on Australian
    accommodation, 1.284 to 1.171 on arrivals (docs/defaults.md).
    """
    # imported before the filters below (see _forecast_or_nan)
    import statsmodels.tools.sm_exceptions  # noqa: F401
    import statsmodels.tsa.forecasting.theta  # noqa: F401

    seasonal = _has_seasons(z, season, long=True)
    errors = np.zeros(len(THETAS))
    counted = 0
    for k in range(1, _THETA_ORIGINS + 1):
        cut = len(z) - k * horizon
        if cut < 4 or _has_seasons(z[:cut], season, long=True) != seasonal:
            break
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                fit = _theta_fit(z[:cut], season)
                forecasts = np.stack([fit.forecast(horizon, theta=t) for t in THETAS])
            except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
                break
        error = np.mean(np.abs(forecasts - z[cut : cut + horizon]), axis=1)
        if not np.all(np.isfinite(error)):
            break
        errors += error
        counted += 1
    if not counted:
        return 2.0
    # ties go to the theta nearest the classical 2
    return min(zip(errors, np.abs(np.array(THETAS) - 2.0), THETAS, strict=True))[2]


def _theta_fit(z: np.ndarray, season: int):
    """statsmodels' ``ThetaModel`` fitted on ``z`` (its results)."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    seasonal = _has_seasons(z, season, long=True)
    return ThetaModel(
        z,
        period=season if seasonal else 1,
        deseasonalize=seasonal,
        method="multiplicative" if z.min() > 0 else "additive",
    ).fit()


def holt_winters(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Damped-trend Holt-Winters forecast of ``horizon`` steps after ``values``.

    A positive window's season is fitted both multiplicative and additive, and
    the fit of the lower AICc forecasts (as ``AutoETS`` chooses a model's
    form, Hyndman et al., 2008, ch. 7); a window with zeros or negative
    values takes the additive season.

    Parameters
    ----------
    values : ndarray of shape (lookback,)
        One window of the target, oldest first, in units near 1 (see
        :func:`smooth_window`).
    horizon : int
    season : int
        Season length (1, over 24, or a window shorter than two seasons: no
        season).

    Returns
    -------
    forecast : ndarray of shape (horizon,)
        NaN where every fit failed or gave non-finite values (fewer than 4
        points, a degenerate window).
    """
    z = np.asarray(values, dtype=np.float64)
    if not _has_seasons(z, season):
        forms = (None,)
    else:
        forms = ("mul", "add") if z.min() > 0 else ("add",)
    aicc = {}

    def forecast(seasonal):
        fit = _fit_holt_winters(z, season, seasonal)
        aicc[seasonal] = fit.aicc
        return fit.forecast(horizon)

    forecasts = {s: _forecast_or_nan(lambda s=s: forecast(s), z, horizon) for s in forms}
    usable = [s for s in forms if np.all(np.isfinite(forecasts[s]))]
    if not usable:
        return np.full(horizon, np.nan)
    # a NaN AICc ranks last; ties keep the first form
    return forecasts[min(usable, key=lambda s: np.nan_to_num(aicc[s], nan=np.inf))]


def _fit_holt_winters(z: np.ndarray, season: int, seasonal: str | None):
    """One damped-trend Holt-Winters fit of ``z`` (statsmodels' results)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    return ExponentialSmoothing(
        z, seasonal=seasonal, seasonal_periods=season if seasonal else None, **_DAMPED_TREND
    ).fit(**_FIT_OPTIONS)


def stl_smoothing(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """STL forecast of ``horizon`` steps after ``values``: the season taken out by
    statsmodels' ``STL`` (LOESS, Cleveland et al., 1990), the seasonally adjusted
    window forecast by damped-trend exponential smoothing and the last season's
    pattern added back (``STLForecast``).

    Holt-Winters fits one initial state per step of the season by least squares:
    with a day of hourly steps that is 24 of about 30 parameters, slow to optimize
    and noisy on a few days of data, where STL's smoothed season costs no
    optimization (docs/defaults.md).

    Parameters
    ----------
    values : ndarray of shape (lookback,)
        One window of the target, at least two seasons long, in units near 1
        (see :func:`smooth_window`).
    horizon : int
    season : int
        Season length, at least 2.

    Returns
    -------
    forecast : ndarray of shape (horizon,)
        NaN where the fit failed or gave non-finite values.
    """
    from statsmodels.tsa.forecasting.stl import STLForecast
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    z = np.asarray(values, dtype=np.float64)

    def forecast():
        stl = STLForecast(z, ExponentialSmoothing, model_kwargs=_DAMPED_TREND, period=season)
        return stl.fit(fit_kwargs=_FIT_OPTIONS).forecast(horizon)

    return _forecast_or_nan(forecast, z, horizon)


def smooth_windows(target, horizon: int, season: int, history: bool = False) -> np.ndarray:
    """:func:`smooth_window` of every row of ``target`` (windows of shape ``(n, lookback)``,
    or with ``history`` a list of histories), shape ``(n, horizon)``.

    The fits run on one BLAS thread, at ``predict`` too (a fit holds it to
    ``fit_threads`` already): each optimizes a few parameters with scipy's
    L-BFGS-B, whose vector operations only wait on a second OpenBLAS thread
    (13.2 ms a fit of 11 parameters on two, 4.9 ms on one; docs/defaults.md).
    """
    from threadpoolctl import threadpool_limits

    out = np.empty((len(target), horizon))
    with threadpool_limits(limits=1, user_api="blas"):
        for i, values in enumerate(target):
            out[i] = smooth_window(values, horizon, season, history)
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


def choose_weight(
    model: np.ndarray,
    smoothed: np.ndarray,
    actual: np.ndarray,
    unit: np.ndarray,
    weights=COMBINATION_WEIGHTS,
    alone_margin: float = 0.0,
):
    """The weight of ``weights`` whose combination has the lowest mean absolute error
    on these windows, each error in its series' ``unit``; ties go to the larger
    weight (the model alone first). The smallest or largest weight (one forecaster
    alone, of three or more weights) must beat its neighbour by ``alone_margin``;
    else the neighbour is chosen.

    Parameters
    ----------
    model, smoothed, actual : ndarray of shape (n, horizon)
    unit : ndarray of shape (n,)
    weights : sequence of float, default=COMBINATION_WEIGHTS
    alone_margin : float, default=0.0
        The relative error an end of ``weights`` must win by (:data:`ALONE_MARGIN`).

    Returns
    -------
    weight : float
    errors : dict of float to float
        The mean scaled error of each weight.
    """
    errors = {}
    for weight in weights:
        combined = combine(model, smoothed, weight)
        errors[weight] = float(np.mean(np.abs(combined - actual) / unit[:, None]))
    best = min(errors.values())
    weight = max(w for w, e in errors.items() if e <= best * (1 + 1e-9))
    grid = sorted(errors)
    if alone_margin > 0 and len(grid) >= 3 and weight in (grid[0], grid[-1]):
        neighbour = grid[1] if weight == grid[0] else grid[-2]
        if errors[weight] >= (1 - alone_margin) * errors[neighbour]:
            weight = neighbour
    return weight, errors


def weighing_rows(candidates, series, first: int, horizon: int, count: int):
    """``(rows, weigh)``: the validation ``candidates`` the member forecasts (all of them
    where at most ``count``, else ``count`` of those with :func:`unseen_targets`,
    :func:`evenly`) and which of those rows weigh the combination (the unseen)."""
    unseen = candidates[unseen_targets(candidates, series, first, horizon)]
    rows = candidates if len(candidates) <= count else evenly(unseen, count)
    return rows, np.isin(rows, unseen)


def unseen_targets(rows: np.ndarray, series: np.ndarray, first: int, horizon: int) -> np.ndarray:
    """Whether each validation window of ``rows`` forecasts only steps that no
    training window had as a target.

    Windows from ``first`` on validate, those before train; within a series
    they are in time order, one step apart (``make_windows``' stride 1). The
    first ``horizon - 1`` validation windows of a series share target steps
    with its last training windows, which the network has fitted and the
    statistical member has not, so errors there favour the network. Leaving
    them out is the purging of time-series cross-validation with overlapping
    targets (López de Prado, 2018, "Advances in Financial Machine Learning",
    ch. 7). Windows of a larger stride are left out alike (conservatively).

    Parameters
    ----------
    rows : ndarray of int, each at least ``first``
    series : ndarray of shape (n_windows,)
        Each window's series.
    first : int
    horizon : int

    Returns
    -------
    unseen : ndarray of bool, shape (len(rows),)
    """
    later = np.asarray(series)[first:]
    _, codes = np.unique(later, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], codes[order])  # first position of each series
    rank = np.empty(len(later), dtype=np.int64)
    rank[order] = np.arange(len(later)) - starts  # 0 for a series' first validation window
    return rank[np.asarray(rows, dtype=np.int64) - first] >= horizon - 1


def rolling_errors(
    history: np.ndarray, horizon: int, season: int, lookback: int, max_origins: int = 12
) -> np.ndarray:
    """Errors of :func:`smooth_window` forecasts from the last origins of ``history``.

    Each origin's forecast reads the history before it; its error is divided by
    the mean absolute value of the ``lookback`` steps before the origin (the
    window a forecast from there would read), so errors of a growing series
    stay comparable and scale with the data.

    Parameters
    ----------
    history : ndarray of shape (n_steps,)
    horizon, season, lookback : int
    max_origins : int, default=12
        The most recent origins with a whole horizon after them, at most this
        many; none before two seasons (or 4 steps) of history.

    Returns
    -------
    errors : ndarray of shape (n_origins, horizon)
        Actual minus forecast, in window units; rows where the fit failed dropped.
    """
    history = np.asarray(history, dtype=np.float64)
    first = max(4, _MIN_SEASONS * season if season > 1 else 4)
    last = len(history) - horizon
    errors = []
    for origin in range(last, max(first, last - max_origins + 1) - 1, -1):
        error = origin_error(history, origin, horizon, season, lookback)
        if np.all(np.isfinite(error)):
            errors.append(error)
    return np.asarray(errors).reshape(-1, horizon)


def origin_error(
    history: np.ndarray, origin: int, horizon: int, season: int, lookback: int
) -> np.ndarray:
    """Actual minus :func:`smooth_window`'s forecast of the ``horizon`` steps from
    ``origin`` of ``history`` (read before it), divided by the mean absolute value of
    the ``lookback`` steps before the origin; NaN where the fit failed."""
    forecast = smooth_window(history[:origin], horizon, season, history=True)
    unit = _window_unit(history[max(0, origin - lookback) : origin])
    return (history[origin : origin + horizon] - forecast) / unit
