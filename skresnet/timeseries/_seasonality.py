"""A season that the seasonal naive forecast misses, found in a panel's first differences.

The linear start reads the season of the seasonal naive forecast that fits the
training windows best. On a panel of trending series with a mild season (prison
populations by quarter) that is the last value: a forecast four quarters old lags
the trend by more than the season is worth. The statistical member models trend and
season apart, so it needs the season itself. Differencing removes the trend, and a
season shows as the autocorrelation of the differences at its lag.

- The candidate is the lag, from 2 to half a window, at which the windows' first
  differences autocorrelate most on average (each window in its own units), of
  the lags where that autocorrelation peaks: persistent growth makes it decay
  from lag 1 instead.
- It is the member's season only if the series' histories show it more often than
  chance: each series' differences are tested at that lag (one-sided, 5%, Bartlett's
  bound as in the M4 competition's seasonality test, Makridakis et al., 2020), and
  the count of series that pass must be significant for a binomial at 5% per series
  (at 1%, divided by the number of lags searched, as the lag was chosen among them).
  A single series can never pass that way, so its season stays the start's.

On fpp3's prison panel (32 quarterly series; the start reads no season) 8 series
pass at lag 4 (p = 1.4e-4, against 0.01 / 5 lags searched), and the model's MASE
went from 1.509 to 1.437 (docs/defaults.md).
"""

from __future__ import annotations

import numpy as np

from ._windows import evenly

# The windows the candidate lag is read from, spread evenly (as the start's priors).
_MAX_ROWS = 50_000
# Each series' test: one-sided, 5% (the normal quantile); the panel's: a binomial
# over the series at _PANEL_LEVEL.
_SERIES_Z = 1.645
_SERIES_LEVEL = 0.05
_PANEL_LEVEL = 0.01
# A single series' test of a given lag, one-sided at _PANEL_LEVEL.
_SINGLE_Z = 2.326
# A divisor of the season is its fundamental period where the histories repeat at that
# lag within this factor of their error at the season itself.
_DIVISOR_TOLERANCE = 1.2
# ... and where the member's errors at the last _CHECK_ORIGINS origins (a horizon apart)
# of at most _CHECK_SERIES series' histories are lower with the divisor.
_CHECK_ORIGINS = 6
_CHECK_SERIES = 5


def _lags(lookback: int) -> range:
    """The lags a season is searched among: 2 to half a window of ``lookback``."""
    return range(2, lookback // 2 + 1)


def differenced_season(target: np.ndarray) -> int:
    """The lag (2 to ``lookback // 2``) at which the windows' first differences
    autocorrelate most on average among the lags where that autocorrelation peaks
    (above the lags on either side), or 1 where no peak is positive.

    A season's lag is a peak; growth that persists (quarterly GDP, seasonally
    adjusted) makes the differences autocorrelate at every short lag, decaying from
    lag 1, with no peak.

    Parameters
    ----------
    target : ndarray of shape (n_windows, lookback)

    Returns
    -------
    season : int
    """
    target = np.asarray(target, dtype=np.float64)
    lags = _lags(target.shape[1])
    if not lags:  # a window too short to search (and whose differences have no mean)
        return 1
    target = target[evenly(np.arange(len(target)), _MAX_ROWS)]
    diffs = np.diff(target, axis=1)
    diffs = diffs - diffs.mean(axis=1, keepdims=True)
    power = np.einsum("ij,ij->i", diffs, diffs)
    moving = power > 0  # a window of constant steps has no autocorrelation
    diffs, power = diffs[moving], power[moving]
    if not len(diffs):
        return 1
    last = lags[-1]
    # lags 1 to last + 1 (the neighbours of the lags searched), as far as the differences go
    acf = [
        np.mean(np.einsum("ij,ij->i", diffs[:, m:], diffs[:, :-m]) / power)
        for m in range(1, min(last + 1, diffs.shape[1] - 1) + 1)
    ]
    peaks = [
        (acf[m - 1], m)
        for m in lags
        if acf[m - 1] > acf[m - 2] and (m >= len(acf) or acf[m - 1] > acf[m])
    ]
    best = max(peaks, default=(0.0, 1))
    return best[1] if best[0] > 0 else 1


def shows_season(history: np.ndarray, season: int, z: float = _SERIES_Z) -> bool:
    """Whether ``history``'s first differences autocorrelate at lag ``season`` beyond
    the one-sided bound ``z`` standard errors out (Bartlett's, for the
    autocorrelations below that lag; 1.645: 5%)."""
    from statsmodels.tsa.stattools import acf

    diffs = np.diff(np.asarray(history, dtype=np.float64))
    if len(diffs) < 2 * season + 2 or np.ptp(diffs) == 0.0:
        return False
    r = acf(diffs, nlags=season, fft=False)
    bound = z * np.sqrt((1 + 2 * np.sum(r[1:season] ** 2)) / len(diffs))
    return bool(r[season] > bound)


def confirmed_season(histories: list[np.ndarray], season: int) -> int:
    """``season`` where the ``histories`` (one per series) show it at 1%, else 1.

    A single series by :func:`shows_season` at 2.326 standard errors (one-sided);
    a panel by a count of series that show it at 5% that is significant for a
    binomial at 1% (the lag being given, not searched). For the season a linear
    start chose on held-out windows over the last value, as on the quarterly
    ``JohnsonJohnson`` (MASE 3.86 to 2.75 with the member reading it), and which
    an annual series' noise can also choose (``discoveries``: lag 7, not shown).
    """
    from scipy.stats import binomtest

    if len(histories) == 1:
        return season if shows_season(histories[0], season, _SINGLE_Z) else 1
    shown = sum(shows_season(h, season) for h in histories)
    p = binomtest(shown, len(histories), _SERIES_LEVEL, alternative="greater").pvalue
    return season if p < _PANEL_LEVEL else 1


def _lag_errors(history: np.ndarray, lags: range) -> np.ndarray | None:
    """Mean absolute difference of ``history`` at each lag in ``lags``, or None where
    the history is too short for the longest lag or constant."""
    history = np.asarray(history, dtype=np.float64)
    if len(history) < 2 * lags[-1] + 2 or np.ptp(history) == 0.0:
        return None
    return np.array([np.mean(np.abs(history[m:] - history[:-m])) for m in lags])


def fundamental_season(
    histories: list[np.ndarray], season: int, horizon: int, lookback: int
) -> int:
    """The shortest divisor ``d`` of ``season`` (``1 < d < season``) at which the
    ``histories`` repeat nearly as well as at ``season``, and from which the
    statistical member forecasts them better, else ``season``.

    A seasonal naive forecast of two years back can fit a monthly series' windows
    best by chance (``nottem``'s temperatures: its error 22% below a year back's),
    and a member smoothing a 24-month season reads each month twice as seldom
    (MASE 0.638, against 0.553 with 12; AutoETS 0.555). A candidate ``d`` must
    repeat the history: the mean absolute difference at lag ``d`` (each series'
    own, divided by its difference at ``season``, averaged over the series) is a
    local minimum (below lags ``d - 1`` and ``d + 1``) and at most
    :data:`_DIVISOR_TOLERANCE` times that at ``season``. A week of half-hours
    (taylor's electricity demand, 336) fails there: a day back differs 3.3 times
    as much, weekends apart. A half year passes on ``DutchSales`` (1.166), whose
    months differ all the same; so the member then forecasts the last
    :data:`_CHECK_ORIGINS` origins, ``horizon`` steps apart, of up to
    :data:`_CHECK_SERIES` histories with either season, and ``d`` is taken only
    where its mean absolute error is the lower.

    Parameters
    ----------
    histories : list of ndarray of shape (n_steps,)
        One per series.
    season, horizon, lookback : int

    Returns
    -------
    season : int
    """
    divisors = [d for d in range(2, season) if season % d == 0]
    if not divisors:
        return season
    lags = range(1, season + 1)
    errors = [e for e in (_lag_errors(h, lags) for h in histories) if e is not None]
    if errors and all(e[-1] == 0.0 for e in errors):  # every history repeats exactly
        return next((d for d in divisors if all(e[d - 1] == 0.0 for e in errors)), season)
    ratios = [e / e[-1] for e in errors if e[-1] > 0.0]
    if not ratios:
        return season
    ratio = np.mean(ratios, axis=0)  # ratio[m - 1]: lag m
    for d in divisors:
        local = ratio[d - 1] < ratio[d - 2] and ratio[d - 1] < ratio[d]
        if local and ratio[d - 1] <= _DIVISOR_TOLERANCE:
            return d if _forecasts_better(histories, d, season, horizon, lookback) else season
    return season


def _forecasts_better(histories, short: int, season: int, horizon: int, lookback: int) -> bool:
    """Whether the member's mean absolute error at the last :data:`_CHECK_ORIGINS`
    origins, ``horizon`` steps apart, of at most :data:`_CHECK_SERIES` of the
    ``histories`` (spread evenly) is lower with a season of ``short`` steps than of
    ``season``: each origin's forecast reads the history before it, its error in
    units of the ``lookback`` steps before the origin."""
    from . import _ets as ets

    chosen = [histories[i] for i in evenly(np.arange(len(histories)), _CHECK_SERIES)]
    errors = {short: [], season: []}
    for history in chosen:
        history = np.asarray(history, dtype=np.float64)
        last = len(history) - horizon
        origins = range(last, last - _CHECK_ORIGINS * horizon, -horizon)
        for origin in (o for o in origins if o >= 2 * season):
            found = {m: ets.origin_error(history, origin, horizon, m, lookback) for m in errors}
            if all(np.all(np.isfinite(f)) for f in found.values()):
                for m, error in found.items():
                    errors[m].append(np.mean(np.abs(error)))
    if not errors[season]:
        return False
    return float(np.mean(errors[short])) < float(np.mean(errors[season]))


def panel_season(target: np.ndarray, histories: list[np.ndarray]) -> int:
    """:func:`differenced_season` of the windows ``target``, where the ``histories``
    (one per series) show it beyond chance (module docstring); else 1."""
    from scipy.stats import binomtest

    season = differenced_season(target)
    if season == 1 or len(histories) < 2:
        return 1
    shown = sum(shows_season(h, season) for h in histories)
    p = binomtest(shown, len(histories), _SERIES_LEVEL, alternative="greater").pvalue
    # the lag was chosen among the lags searched, on the same series: Bonferroni
    searched = max(1, len(_lags(np.asarray(target).shape[1])))
    return season if p < _PANEL_LEVEL / searched else 1
