"""Forecasting past the end of the data with any window model (plain numpy/pandas).

``TCNForecaster.forecast`` validates its arguments and calls
:func:`forecast_series`; the windows are built by the same rule as
``make_windows`` (:func:`~skresnet.timeseries._windows.window_before`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._series import (
    as_frame,
    infer_freq,
    is_column,
    numeric_values,
    series_frame,
    split_groups,
)
from ._windows import check_future_span, window_before


def forecast_series(
    predict: Callable[[np.ndarray, list[np.ndarray]], np.ndarray],
    histories: list[np.ndarray],
    futures: list[np.ndarray | None],
    *,
    lookback: int,
    horizon: int,
    steps: int,
    target_channel: int = 0,
) -> np.ndarray:
    """Forecast ``steps`` values after each history, ``horizon`` at a time.

    All series are forecast together: one ``predict`` call per block of
    ``horizon`` steps. Past ``horizon`` steps the forecasts are written into
    the target channel and fed back (recursive strategy), which needs every
    other channel to be known in advance.

    Parameters
    ----------
    predict : callable
        Maps windows of shape (n_series, lookback, n_channels), and each
        window's whole target history (the history, then the forecasts fed
        back so far; ``context`` of ``TCNForecaster.predict``), to forecasts
        of shape (n_series, horizon).
    histories : list of ndarray of shape (n_steps_i, n_channels)
        Observed values of each series, at least ``lookback`` steps.
    futures : list of ndarray of shape (n_future_steps_i, n_future) or None
        Values of the known-in-advance channels (the last ``n_future``) after
        each history, at least ``ceil(steps / horizon) * horizon`` rows.
    lookback, horizon, steps : int
    target_channel : int, default=0

    Returns
    -------
    forecasts : ndarray of shape (n_series, steps)
    """
    n_blocks = -(-steps // horizon)
    extended, n_future = _extended(histories, futures, lookback, n_blocks * horizon)
    for block in range(n_blocks):
        origin = lookback + block * horizon
        X = np.stack([window_before(v, origin, lookback, horizon, n_future) for v in extended])
        so_far = [
            np.concatenate([h[:, target_channel], v[lookback:origin, target_channel]])
            for h, v in zip(histories, extended, strict=True)
        ]
        predicted = np.reshape(predict(X, so_far), (len(X), horizon))
        for v, p in zip(extended, predicted, strict=True):
            v[origin : origin + horizon, target_channel] = p
    return np.stack([v[lookback : lookback + steps, target_channel] for v in extended])


def last_windows(histories: list[np.ndarray], futures: list, lookback: int, horizon: int):
    """The window after each history's end, ``(n_series, lookback, n_channels)``, with
    the known future covariates of the next ``horizon`` steps where there are some.

    Quantile forecasts come from these alone, one call: there is no recursion,
    since feeding one path (say the median) back would give later quantiles
    conditional on it, intervals too narrow to trust.
    """
    extended, n_future = _extended(histories, futures, lookback, horizon)
    return np.stack([window_before(v, lookback, lookback, horizon, n_future) for v in extended])


def _extended(histories, futures, lookback: int, n_ahead: int) -> tuple[list[np.ndarray], int]:
    """Each history's last ``lookback`` rows plus ``n_ahead`` rows to fill (NaN, or the
    known future covariates), and the number of future covariates."""
    n_future = 0 if futures[0] is None else futures[0].shape[1]
    extended = []
    for history, future in zip(histories, futures, strict=True):
        tail = np.full((n_ahead, history.shape[1]), np.nan)
        if n_future:
            tail[:, -n_future:] = future[:n_ahead]
        extended.append(np.concatenate([history[-lookback:], tail]))
    return extended, n_future


class SeriesSplit(NamedTuple):
    """``history`` (and ``future``) cut into one array per series (:func:`split_history`)."""

    labels: list  # group labels in order of appearance; [None] without groups
    histories: list[np.ndarray]  # (n_steps_i, n_channels) per series
    futures: list  # (n_future_steps_i, n_future) per series, or [None, ...]
    rows: dict  # label -> row positions of that series in history
    channels: list  # history's column labels, the groups column left out
    group_column: Hashable | None  # the groups column's label, if groups named one
    index: pd.Index  # history's index, string dates parsed


def split_history(history, future, groups, channels=None, n_future=0) -> SeriesSplit:
    """Per-series arrays of ``history`` (and ``future``), the groups column left out.

    With ``channels`` (the labels the model was fitted on, of which the last
    ``n_future`` are future covariates), DataFrame columns are taken by name,
    in the model's order; otherwise by position.
    """
    frame, rows = series_frame(history, groups, name="history")
    group_column = groups if is_column(frame, groups) else None
    channel_frame = frame.drop(columns=[group_column] if group_column is not None else [])
    columns = _columns_by_name(history, channel_frame, channels, "history")
    values = numeric_values(channel_frame, columns, "history")
    split = SeriesSplit(
        labels=list(rows),
        histories=[values[r] for r in rows.values()],
        futures=[None] * len(rows),
        rows=rows,
        channels=list(columns),
        group_column=group_column,
        index=frame.index,
    )
    if future is None:
        return split
    future_frame = as_frame(future)
    if groups is not None and group_column is None:
        raise ValueError(
            "groups must be a column label present in both history and future when "
            "future is given; got an array of labels."
        )
    known = channels[len(channels) - n_future :] if channels is not None and n_future else None
    if group_column is None:
        columns = _columns_by_name(future, future_frame, known, "future")
        return split._replace(futures=[numeric_values(future_frame, columns, "future")])
    if group_column not in future_frame.columns:
        raise ValueError(
            f"future has no column {group_column!r}; it needs the groups column "
            "to say which series each row belongs to."
        )
    future_rows = split_groups(future_frame, group_column)
    missing = [g for g in rows if g not in future_rows]
    if missing:
        raise ValueError(f"future has no rows for groups {missing}.")
    value_frame = future_frame.drop(columns=[group_column])
    columns = _columns_by_name(future, value_frame, known, "future")
    future_values = numeric_values(value_frame, columns, "future")
    return split._replace(futures=[future_values[future_rows[g]] for g in rows])


def _columns_by_name(data, frame: pd.DataFrame, channels, name: str) -> list:
    """The columns of ``frame`` to use: ``channels`` by name for a DataFrame, else all in order."""
    if channels is None or not isinstance(data, pd.DataFrame):
        return list(frame.columns)
    if len(channels) == 1 and frame.shape[1] == 1:
        return list(frame.columns)  # one channel, one column: nothing to match
    missing = [c for c in channels if c not in frame.columns]
    if missing:
        names = [_plain(c) for c in channels]
        unnamed = " (fitted on an unnamed series: its column is 0)" if names == [0] else ""
        raise ValueError(
            f"{name} lacks the column(s) {[_plain(c) for c in missing]} the model was "
            f"fitted on{unnamed}; it needs {names} (matched by name, in any order), "
            f"and has {[_plain(c) for c in frame.columns]}."
        )
    return list(channels)


def _plain(label):
    """A numpy scalar label as the plain Python value it prints as (0, not np.int64(0))."""
    return label.item() if isinstance(label, np.generic) else label


def future_index(index: pd.Index, steps: int) -> pd.Index:
    """The ``steps`` labels after the last of ``index``.

    Future timestamps for a ``DatetimeIndex`` of a known or inferable
    frequency, the next periods for a ``PeriodIndex``, and for integer labels
    the next ones at the index's step (its last difference; 1 for a single
    label), so a forecast never reuses an observed step's label. Any other
    index gives the positions after the history's.
    """
    if isinstance(index, pd.PeriodIndex) and len(index):
        return pd.period_range(index[-1] + 1, periods=steps, freq=index.freq)
    if isinstance(index, pd.DatetimeIndex):
        freq = index.freq or (infer_freq(index) if len(index) >= 3 else None)
        if freq is not None:
            return pd.date_range(index[-1], periods=steps + 1, freq=freq)[1:]
    if len(index) and pd.api.types.is_integer_dtype(index.dtype):
        last = int(index[-1])
        step = int(index[-1] - index[-2]) if len(index) >= 2 else 1
        step = step if step > 0 else 1
        return pd.RangeIndex(last + step, last + step * (steps + 1), step)
    return pd.RangeIndex(len(index), len(index) + steps)


def label_forecasts(
    forecasts: np.ndarray, history, split: SeriesSplit, grouped: bool, name=None, quantiles=None
):
    """Forecasts as the user's types: an array, a Series, or one Series over (group, time).

    ``forecasts`` has shape (n_series, steps), one row per ``split.labels``,
    or (n_series, steps, n_quantiles) with ``quantiles``: then DataFrames
    with a column per quantile level instead of Series.
    """
    index = split.index if isinstance(history, (pd.Series, pd.DataFrame)) else None

    def labelled(values, at):
        if quantiles is None:
            return pd.Series(values, index=at, name=name)
        return pd.DataFrame(values, index=at, columns=pd.Index(quantiles, name="quantile"))

    if not grouped:
        if index is None:
            return forecasts[0]
        return labelled(forecasts[0], future_index(index, forecasts.shape[1]))
    parts = []
    for label, values in zip(split.labels, forecasts, strict=True):
        rows = split.rows[label]
        group_index = pd.RangeIndex(len(rows)) if index is None else index[rows]
        parts.append(labelled(values, future_index(group_index, len(values))))
    level = "group" if split.group_column is None else split.group_column
    time_level = getattr(index, "name", None) or "time"
    return pd.concat(parts, keys=split.labels, names=[level, time_level])


def check_forecast_inputs(
    histories: list,
    futures: list,
    steps: int,
    *,
    lookback: int,
    horizon: int,
    n_channels: int,
    target_channel: int,
    n_future: int,
    names=None,
    labels=None,
) -> None:
    """One-line errors for histories and futures that cannot make a model's windows.

    ``n_future``: how many of the model's channels are future covariates
    (``names`` their labels, when known); ``labels``: each history's group label
    (None without groups), which the errors name.
    """
    if n_future and futures[0] is None:
        known = [] if names is None else list(names)[n_channels - n_future :]
        raise ValueError(
            f"The model was trained with {n_future} future covariate(s) "
            f"{known}; pass their values for the steps ahead as future=."
        )
    labels = [None] * len(histories) if labels is None else labels
    for history, label in zip(histories, labels, strict=True):
        which = "history" if label is None else f"history's series {label!r}"
        if history.shape[1] != n_channels:
            raise ValueError(
                f"history has {history.shape[1]} channel(s); expected {n_channels} "
                "as in fit (a groups column not counted)."
            )
        if len(history) < lookback:
            raise ValueError(
                f"{which} has {len(history)} steps; at least lookback_={lookback} "
                "are needed to forecast it."
            )
        if not np.isfinite(history[-lookback:]).all():
            raise ValueError(
                f"{which} has NaN or infinite values in its last lookback_={lookback} "
                "steps; fill them first (interpolate(), fillna())."
            )
    given = 0 if futures[0] is None else futures[0].shape[1]
    if given and not n_channels - given > target_channel:
        raise ValueError(
            f"future has {given} column(s); the model has {n_channels} channel(s) "
            f"with the target at {target_channel}, so at most "
            f"{n_channels - 1 - target_channel} can be future covariates."
        )
    check_future_span(lookback, horizon, given)
    needed = -(-steps // horizon) * horizon
    for future, label in zip(futures if given else [], labels, strict=False):
        if len(future) < needed:
            which = "" if label is None else f" for series {label!r}"
            raise ValueError(
                f"future has {len(future)} rows{which}; {needed} are needed "
                f"(steps={steps} rounded up to a multiple of horizon_={horizon})."
            )
    if steps > horizon and n_channels - given > 1:
        raise ValueError(
            f"steps={steps} exceeds horizon_={horizon}, and feeding forecasts back "
            "needs every covariate's future values; pass them all in future, or "
            "forecast at most horizon_ steps."
        )


def check_contexts(target: np.ndarray, context, max_steps: int) -> list[np.ndarray]:
    """Each window's target history (its last ``max_steps`` steps, at least the window),
    checked to end with the window's target (``TCNForecaster.predict``'s ``context``)."""
    n, lookback = target.shape
    if isinstance(context, (str, bytes)) or not hasattr(context, "__len__"):
        raise TypeError(
            f"context must be a list of 1-D arrays, one per window; got {type(context).__name__}."
        )
    if len(context) != n:
        raise ValueError(f"context has {len(context)} histories for {n} windows; expected {n}.")
    out = []
    for i, (history, window) in enumerate(zip(context, target, strict=True)):
        history = np.asarray(history, dtype=np.float64).ravel()
        if not np.all(np.isfinite(history)):
            raise ValueError(f"context[{i}] has NaN or infinite values; it must be finite.")
        tail = history[-lookback:]
        if len(history) < lookback or not np.allclose(tail, window, rtol=1e-5, atol=1e-6):
            raise ValueError(
                f"context[{i}] must be window {i}'s target history ending with the window "
                f"(its last {lookback} values); got {len(history)} values that do not end "
                "with it."
            )
        out.append(history[-max(lookback, max_steps) :])
    return out
