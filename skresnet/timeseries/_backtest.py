"""Rolling-origin evaluation of a window forecaster."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Hashable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._validation import caller_stacklevel
from ._conformal import walk
from ._windows import (
    check_positive_int,
    make_windows,
    series_values,
    squeeze_channels,
    window_before,
)


def forecast_errors(
    actual: np.ndarray,
    forecast: np.ndarray,
    history: np.ndarray,
    season_length: int = 1,
) -> dict[str, float]:
    """MAE, RMSE, MASE and sMAPE of one forecast.

    MASE divides the MAE by the in-sample MAE of the seasonal naive forecast
    on ``history`` (Hyndman & Koehler, 2006); sMAPE is in percent,
    ``mean(2 |y - f| / (|y| + |f|))``, with 0/0 counted as 0.
    """
    actual, forecast, history = _scored(actual, forecast, history, season_length)
    err = actual - forecast
    mae = float(np.mean(np.abs(err)))
    denom = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(
        2 * np.abs(err), denom, out=np.zeros_like(denom, dtype=float), where=denom > 0
    )
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mase": _scaled(mae, history, season_length),
        "smape": float(100 * np.mean(ratio)),
    }


def _scored(actual, forecast, history, season_length, levels=None):
    """``actual``, ``forecast`` and ``history`` as float arrays, or a ValueError that
    names the one of the wrong shape: ``forecast`` is ``(len(actual),)``, or with
    ``levels`` the quantiles ``(len(actual), len(levels))``."""
    check_positive_int("season_length", season_length)
    actual = np.asarray(actual, dtype=float)
    forecast = np.asarray(forecast, dtype=float)
    history = np.asarray(history, dtype=float)
    if actual.ndim != 1 or history.ndim != 1:
        raise ValueError(
            f"actual and history must be 1-D (one series); got shapes {actual.shape} and "
            f"{history.shape}."
        )
    name, expected = "forecast", actual.shape
    if levels is not None:
        name, expected = "quantiles", (len(actual), len(levels))
    if forecast.shape != expected:
        raise ValueError(
            f"{name} has shape {forecast.shape}, but actual has {len(actual)} steps; "
            f"expected {expected} (one {'value' if levels is None else 'row of quantiles'} "
            "per step of actual)."
        )
    return actual, forecast, history


def _scaled(error: float, history: np.ndarray, season_length: int) -> float:
    """``error`` over the in-sample MAE of the seasonal naive forecast on ``history``
    (Hyndman & Koehler, 2006); NaN when that MAE is 0 or undefined."""
    naive = np.abs(history[season_length:] - history[:-season_length])
    scale = float(np.mean(naive)) if len(naive) else np.nan
    return error / scale if scale and scale > 0 else np.nan


def backtest(
    estimator,
    data,
    *,
    lookback: int,
    horizon: int,
    start: int | None = None,
    step: int | None = None,
    refit: bool = False,
    recalibrate: bool = True,
    window: str = "expanding",
    season_length: int = 1,
    target: Hashable | None = None,
    covariates: Sequence[Hashable] | None = None,
    future_covariates: Sequence[Hashable] | None = None,
    groups: Hashable | Sequence | None = None,
) -> pd.DataFrame:
    """Rolling-origin evaluation: forecast ``horizon`` steps from many origins.

    At origin ``o`` the model has seen observations ``[:o]`` only and
    forecasts ``[o, o + horizon)``. Without ``refit`` a clone of the
    estimator is fitted once, on the data before the first origin, and every
    origin is predicted in one batched call; with ``refit`` a clone is fitted
    at each origin on the data before it (``window="expanding"``) or on the
    same number of steps as the first fit, ending at the origin
    (``window="sliding"``). A conformally calibrated quantile model fitted
    once is kept calibrated as it would be in use: before each origin, the
    windows whose targets became known since the previous one go to its
    ``update_calibration`` (``recalibrate=False``: the fit's calibration
    throughout). The target and ``covariates`` are used up to the
    origin only; ``future_covariates``, known in advance, also over the
    horizon after it. With ``groups``, one global model is fitted on the
    windows of every series and positions (``start``, origins) are counted
    within each series, which suits series aligned in time.

    Parameters
    ----------
    estimator : estimator taking windows, e.g. TCNForecaster
    data : Series, DataFrame or array-like of shape (n_steps,) or (n_steps, n_columns)
    lookback, horizon : int
    start : int, default=None
        Position of the first origin; 80% of the (shortest) series when None.
    step : int, default=None
        Steps between origins; ``horizon`` when None.
    refit : bool, default=False
    recalibrate : bool, default=True
        Without ``refit``, update a model's conformal calibration (one with
        ``calibration_scores_``, e.g. ``TCNForecaster(quantiles=...)``) on
        the windows observed before each origin; the network is not
        changed. Every origin's forecast still comes from one batched
        forward pass (with the windows the calibration walks through).
    window : {"expanding", "sliding"}, default="expanding"
    season_length : int, default=1
        Period of the seasonal naive forecast whose in-sample MAE, on the
        data the model was fitted on, scales MASE.
    target, covariates, future_covariates, groups
        As in :func:`make_windows`.

    Returns
    -------
    scores : DataFrame
        One row per origin, indexed by the label of its last observed step
        (by ``(group, label)`` with ``groups``), with columns ``mae``,
        ``rmse``, ``mase``, ``smape``, ``naive_mase`` (the seasonal naive
        forecast's MASE from the same origin, for comparison), and a last
        row ``"overall"`` (``("overall", "")`` with groups) with their means.
        For a model with ``quantiles_``, also ``pinball`` and
        ``coverage_<p>`` (see :func:`quantile_scores`).
    """
    for name, value in (
        ("lookback", lookback),
        ("horizon", horizon),
        ("season_length", season_length),
        ("step", 1 if step is None else step),
        ("start", 1 if start is None else start),
    ):
        check_positive_int(name, value)
    for name, flag in (("refit", refit), ("recalibrate", recalibrate)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}.")
    if window not in ("expanding", "sliding"):
        raise ValueError(f"window={window!r} is not supported; expected 'expanding' or 'sliding'.")
    frame, group_rows, values, n_future, _ = series_values(
        data, lookback, horizon, target, covariates, future_covariates, groups
    )
    setup = _Setup({g: values[r] for g, r in group_rows.items()}, lookback, horizon, n_future)
    pairs, start = _origins(setup, start, step)
    n_origins = len({o for _, o in pairs})
    if n_origins < 3:
        warnings.warn(
            f"backtest has {n_origins} origin(s) per series; scores from fewer than 3 "
            "are noisy. Use an earlier start= or a smaller step=.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    fit_start = {o: o - start if refit and window == "sliding" else 0 for _, o in pairs}
    fit_end = {o: o if refit else start for _, o in pairs}
    if refit:  # one clone per origin, fitted on the data before it
        forecasts = {}
        for o in sorted(set(fit_end)):
            at = [p for p in pairs if p[1] == o]
            model = _fit_clone(estimator, setup, fit_start[o], o)
            forecasts.update(zip(at, _predict(model, setup, at), strict=True))
        forecasts = [forecasts[p] for p in pairs]
    else:  # one fit, one batched predict (and a calibration walked through the origins)
        model = _fit_clone(estimator, setup, 0, start)
        if recalibrate and getattr(model, "calibration_scores_", None) is not None:
            forecasts = _predict_recalibrating(model, setup, pairs, start)
        else:
            forecasts = _predict(model, setup, pairs)
    rows = []
    for (g, o), (f, q, levels) in zip(pairs, forecasts, strict=True):
        y = setup.series[g][:, 0]
        in_sample = y[fit_start[o] : fit_end[o]]
        rows.append(forecast_errors(y[o : o + horizon], f, in_sample, season_length))
        naive = seasonal_naive(y[:o], horizon, season_length)
        rows[-1]["naive_mase"] = forecast_errors(
            y[o : o + horizon], naive, in_sample, season_length
        )["mase"]
        if q is not None:
            rows[-1].update(
                quantile_scores(y[o : o + horizon], q, levels, in_sample, season_length)
            )
    _warn_unscaled(rows, season_length)
    labels = [frame.index[group_rows[g][o - 1]] for g, o in pairs]
    return _score_table(rows, pairs, labels, grouped=groups is not None)


def _warn_unscaled(rows: list, season_length: int) -> None:
    """Warn once where MASE came out NaN: its scale, the in-sample seasonal naive MAE,
    is 0 (a constant history) or undefined (no more than ``season_length`` steps)."""
    undefined = sum(not np.isfinite(row["mase"]) for row in rows)
    if undefined:
        warnings.warn(
            f"MASE is NaN at {undefined} of {len(rows)} origins: the steps before them "
            f"have no seasonal naive error to scale by (a constant series, or no more "
            f"than season_length={season_length} steps). mae, rmse and smape are defined.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


class _Setup(NamedTuple):
    """The series of a backtest (one (n_steps, n_channels) array per group) and its window."""

    series: dict
    lookback: int
    horizon: int
    n_future: int


def _origins(setup: _Setup, start, step) -> tuple[list, int]:
    """(group, origin) pairs to forecast from, and the first origin."""
    n = min(len(v) for v in setup.series.values())
    start = int(0.8 * n) if start is None else start
    step = setup.horizon if step is None else step
    origins = {
        g: np.arange(start, len(v) - setup.horizon + 1, step) for g, v in setup.series.items()
    }
    if start < setup.lookback + setup.horizon or not all(len(o) for o in origins.values()):
        raise ValueError(
            f"start={start} leaves no room: it needs start >= lookback + horizon = "
            f"{setup.lookback + setup.horizon} for a first fit and start + horizon <= "
            f"n_steps = {n}."
        )
    return [(g, o) for g, at in origins.items() for o in at], start


def seasonal_naive(history: np.ndarray, horizon: int, season_length: int = 1) -> np.ndarray:
    """The seasonal naive forecast: the last ``season_length`` values of ``history``
    repeated over ``horizon`` steps (the last value when the history is shorter)."""
    m = season_length if len(history) >= season_length else 1
    return np.resize(history[-m:], horizon) if m > 1 else np.repeat(history[-1:], horizon)


def _fit_clone(estimator, setup: _Setup, lo: int, hi: int):
    """A clone of the estimator fitted on the windows of every series' steps ``[lo:hi]``."""
    window = setup.lookback + setup.horizon
    parts = [v[lo:hi] for v in setup.series.values() if len(v[lo:hi]) >= window]
    n_channels = parts[0].shape[1]
    kinds = {
        "target": 0,
        "covariates": list(range(1, n_channels - setup.n_future)) or None,
        "future_covariates": list(range(n_channels - setup.n_future, n_channels)) or None,
    }
    labels = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    X, y = make_windows(
        np.concatenate(parts),
        lookback=setup.lookback,
        horizon=setup.horizon,
        groups=labels,
        **kinds,
    )
    return clone(estimator).fit(X, y)


def _predict(model, setup: _Setup, pairs) -> list[tuple]:
    """(point forecast, quantile forecasts or None, levels or None) of each (group, origin).

    Point forecasts have shape (horizon,), quantile ones (horizon, n_quantiles);
    one batched call for all pairs.
    """
    X = _windows(setup, pairs)
    context = _context(model, setup, pairs)
    points = np.reshape(model.predict(X, **context), (len(pairs), setup.horizon))
    levels = getattr(model, "quantiles_", None)
    if levels is None:
        return [(p, None, None) for p in points]
    quantiles = model.predict_quantiles(X, **context)
    return [(p, q, levels) for p, q in zip(points, quantiles, strict=True)]


def _context(model, setup: _Setup, pairs) -> dict:
    """``{"context": ...}``, each (group, origin)'s target history, for a model whose
    ``predict`` reads it (a TCNForecaster's statistical member); ``{}`` otherwise."""
    if "context" not in inspect.signature(model.predict).parameters:
        return {}
    return {"context": [setup.series[g][:o, 0] for g, o in pairs]}


def _windows(setup: _Setup, pairs) -> np.ndarray:
    """The input windows of the (group, origin) pairs, stacked as the model takes them."""
    windows = [
        window_before(setup.series[g], o, setup.lookback, setup.horizon, setup.n_future)
        for g, o in pairs
    ]
    return squeeze_channels(np.stack(windows))


def _predict_recalibrating(model, setup: _Setup, pairs, fit_end: int) -> list[tuple]:
    """As :func:`_predict`, the quantiles of each origin (in time order) forecast after
    ``model.update_calibration`` on the windows of every series whose targets ended
    after the previous origin (after ``fit_end``, the last fitted step, for the
    first), oldest first; every forward pass in one batched call."""
    horizon = setup.horizon
    new, new_counts, at, at_counts = [], [], [], []
    known = fit_end  # targets up to this step are in the calibration already
    for o in sorted({o for _, o in pairs}):
        fresh = [
            (g, w)
            for w in range(known - horizon + 1, o - horizon + 1)
            for g, v in setup.series.items()
            if setup.lookback <= w <= len(v) - horizon
        ]
        from_here = [p for p in pairs if p[1] == o]
        new += fresh
        new_counts.append(len(fresh))
        at += from_here
        at_counts.append(len(from_here))
        known = o  # origins are sorted and none precedes fit_end
    X_at = _windows(setup, at)
    X_new = _windows(setup, new) if new else np.empty((0, *X_at.shape[1:]))
    y_new = np.array([setup.series[g][w : w + horizon, 0] for g, w in new]).reshape(-1, horizon)
    context = _context(model, setup, new + at)
    raw = model.predict_quantiles(np.concatenate([X_new, X_at]), conformal=False, **context)
    levels = model.quantiles_
    quantiles, _ = walk(
        model.calibration_scores_,
        levels,
        raw[: len(X_new)],
        y_new,
        new_counts,
        raw[len(X_new) :],
        at_counts,
    )
    # predict_quantiles' average with the member's rolling intervals, and its floor
    widths = model.__dict__.get("interval_widths_")
    if widths is not None:
        histories = context.get("context")
        series = model._context(X_at, None if histories is None else histories[len(new) :])
        quantiles = model._with_rolling(quantiles, X_at, widths, model._weight(series))
    quantiles = model._floor(quantiles)
    points = quantiles[..., len(levels) // 2]  # the median, what predict gives
    by_pair = {p: (f, q, levels) for p, f, q in zip(at, points, quantiles, strict=True)}
    return [by_pair[p] for p in pairs]


def quantile_scores(
    actual: np.ndarray,
    quantiles: np.ndarray,
    levels: np.ndarray,
    history: np.ndarray,
    season_length: int = 1,
) -> dict[str, float]:
    """Scaled pinball loss and the coverage of each central interval of one forecast.

    ``pinball`` is the pinball loss averaged over steps and levels, divided
    by the in-sample MAE of the seasonal naive forecast on ``history``, the
    scale of MASE (the scaled pinball loss of the M5 competition).
    ``coverage_<p>`` is the share of steps inside the central interval of
    nominal coverage ``p`` percent (levels ``i`` and ``-1 - i``).

    Parameters
    ----------
    actual : ndarray of shape (horizon,)
    quantiles : ndarray of shape (horizon, n_quantiles)
    levels : ndarray of shape (n_quantiles,)
    history : ndarray of shape (n_steps,)
    season_length : int, default=1
    """
    levels = np.asarray(levels, dtype=float)
    actual, quantiles, history = _scored(actual, quantiles, history, season_length, levels)
    actual = actual[:, None]
    error = actual - quantiles
    pinball = float(np.mean(np.maximum(levels * error, (levels - 1) * error)))
    scores = {"pinball": _scaled(pinball, history, season_length)}
    for i in range(len(levels) // 2):
        inside = (actual[:, 0] >= quantiles[:, i]) & (actual[:, 0] <= quantiles[:, -1 - i])
        scores[f"coverage_{round(100 * (levels[-1 - i] - levels[i]))}"] = float(inside.mean())
    return scores


def _score_table(rows: list, pairs: list, labels: list, grouped: bool) -> pd.DataFrame:
    """Per-origin scores indexed by origin (and group), with an ``overall`` mean row."""
    if not grouped:
        scores = pd.DataFrame(rows, index=pd.Index(labels, name="origin"))
        scores.loc["overall"] = scores.mean()
        return scores
    index = pd.MultiIndex.from_tuples(
        [(g, label) for (g, _), label in zip(pairs, labels, strict=True)],
        names=["group", "origin"],
    )
    scores = pd.DataFrame(rows, index=index)
    overall = pd.MultiIndex.from_tuples([("overall", "")], names=index.names)
    return pd.concat([scores, pd.DataFrame([scores.mean()], index=overall)])
