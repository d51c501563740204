"""Turning series into (window, future) pairs for TCNForecaster."""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ._series import check_no_nan, numeric_values, series_frame


def _resolve_columns(
    frame: pd.DataFrame,
    target: Hashable | None,
    covariates: Sequence[Hashable] | None,
    future_covariates: Sequence[Hashable] | None = None,
) -> list[Hashable]:
    """Channel order of the windows: target, covariates, future covariates."""
    if target is None:
        if frame.shape[1] != 1 and not (covariates or future_covariates):
            raise ValueError(
                f"data has {frame.shape[1]} columns; pass target= to name the one to "
                "forecast. For a wide table with one column per series, make it long "
                "first, skresnet.timeseries.to_panel(data), and pass "
                'target="value", groups="series".'
            )
        target = frame.columns[0]
    columns = [target, *(covariates or []), *(future_covariates or [])]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"Columns {missing} are not in data; available columns: {list(frame.columns)}."
        )
    return columns


def series_values(data, lookback, horizon, target, covariates, future_covariates, groups):
    """Checked input of ``make_windows`` and ``backtest``.

    Returns the data as a frame, the row positions of each series
    (:func:`~skresnet.timeseries._series.split_groups`), the channel values
    (target, covariates, future covariates) as a float64 array of shape
    (n_steps, n_channels), the number of future covariates and the channels'
    labels.
    """
    n_future = len(future_covariates or [])
    check_future_span(lookback, horizon, n_future)
    frame, group_rows = series_frame(data, groups)
    columns = _resolve_columns(frame, target, covariates, future_covariates)
    values = numeric_values(frame, columns, "data")
    check_no_nan(values, frame.index, columns, "data")
    return frame, group_rows, values, n_future, columns


def squeeze_channels(X: np.ndarray) -> np.ndarray:
    """Windows of shape (n, lookback, 1) as (n, lookback): one series needs no channel axis."""
    return X[:, :, 0] if X.ndim == 3 and X.shape[2] == 1 else X


def check_positive_int(name: str, value) -> int:
    """``value`` if it is a positive int (not a bool), else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def check_future_span(lookback: int, horizon: int, n_future: int) -> None:
    """Future covariate channels are led by ``horizon`` steps: the window must cover them."""
    if n_future and lookback < horizon:
        raise ValueError(
            f"lookback={lookback} is shorter than horizon={horizon}; with future "
            "covariates each window carries their next horizon values, so lookback "
            "must be at least horizon."
        )


def window_before(
    values: np.ndarray, origin: int, lookback: int, horizon: int, n_future: int = 0
) -> np.ndarray:
    """The input window for a forecast from ``origin``: shape (lookback, channels).

    Past channels hold steps ``[origin - lookback, origin)``; the last
    ``n_future`` channels (known-in-advance covariates) are led by
    ``horizon`` and hold steps ``[origin - lookback + horizon, origin + horizon)``,
    so ``values`` must extend ``horizon`` rows past ``origin`` for them.
    """
    n_past = values.shape[1] - n_future
    past = values[origin - lookback : origin, :n_past]
    if not n_future:
        return past
    future = values[origin - lookback + horizon : origin + horizon, n_past:]
    return np.concatenate([past, future], axis=1)


def _windows_of_one_series(
    values: np.ndarray, lookback: int, horizon: int, stride: int, n_future: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X`` (n, lookback, channels), ``y`` (n, horizon) and each window's last input row."""
    n_windows = len(values) - lookback - horizon + 1
    if n_windows < 1:
        empty = np.empty((0, lookback, values.shape[1]))
        return empty, np.empty((0, horizon)), np.empty(0, dtype=int)
    # (n, channels, lookback + horizon) views, no copy until the stride slice is taken
    spans = sliding_window_view(values, lookback + horizon, axis=0)[::stride]
    n_past = values.shape[1] - n_future
    X = spans[:, :n_past, :lookback]
    if n_future:  # the same lead as window_before
        X = np.concatenate([X, spans[:, n_past:, horizon : horizon + lookback]], axis=1)
    y = spans[:, 0, lookback:]
    ends = np.arange(0, n_windows, stride) + lookback - 1
    return X.transpose(0, 2, 1), y, ends


def make_windows(
    data,
    *,
    lookback: int,
    horizon: int,
    target: Hashable | None = None,
    covariates: Sequence[Hashable] | None = None,
    future_covariates: Sequence[Hashable] | None = None,
    groups: Hashable | Sequence | None = None,
    stride: int = 1,
    return_index: bool = False,
    targets_after=None,
):
    """Cut a series (or many) into windows of ``lookback`` steps and their next ``horizon`` values.

    Parameters
    ----------
    data : Series, DataFrame or array-like of shape (n_steps,) or (n_steps, n_columns)
        Observations in time order.
    lookback : int
        Past steps in each window.
    horizon : int
        Future steps to predict.
    target : column label, default=None
        Column to forecast; may be omitted when ``data`` has one column. For
        arrays, the column index.
    covariates : list of column labels, default=None
        Extra input channels known up to the last observed step (their past
        values are part of each window).
    future_covariates : list of column labels, default=None
        Channels known in advance (promotions, holidays, calendar features).
        They are led by ``horizon`` steps: at window position ``i`` such a
        channel holds the value ``horizon`` steps after that position, so the
        window's last ``horizon`` positions carry the values over the forecast
        horizon and ``X`` stays one numeric array. Needs ``lookback >= horizon``.
        :meth:`~skresnet.TCNForecaster.forecast` takes their future values
        through ``future=``.
    groups : column label or array-like of shape (n_steps,), default=None
        Series identifier (e.g. a store id). Each group is windowed on its
        own, in the order its rows appear, so no window mixes two series.
        The windows of all series are stacked in time order of their last
        observed step (the index label for a datetime index, else the
        step's position in its series; ties in group order), so the last
        rows of ``X`` are the latest windows of every series: what
        ``TimeSeriesSplit`` tests on and what
        :class:`~skresnet.TCNForecaster` holds out for early stopping.
    stride : int, default=1
        Steps between the starts of consecutive windows.
    return_index : bool, default=False
        Also return the index label (e.g. the timestamp) of each window's
        last observed step.
    targets_after : index label, default=None
        Keep only the windows whose target ends after this label (for
        arrays, a row position), e.g. the last timestamp a forecaster was
        fitted on: of data that goes on past the fit, exactly the windows
        the fit has not seen (each target holds at least one new value),
        what :meth:`~skresnet.TCNForecaster.update_calibration` takes. Every
        series keeps its own such windows.

    Returns
    -------
    X : WindowArray of shape (n_windows, lookback), or (n_windows, lookback, n_channels)
        with covariates. Channels: the target, then ``covariates``, then
        ``future_covariates``. Rows in time order (see ``groups``). A plain
        float array that also records the channels' labels (``X.channels``)
        and how many are future covariates (``X.n_future``), which
        :class:`~skresnet.TCNForecaster` remembers for ``forecast``.
    y : ndarray of shape (n_windows, horizon)
    index : Index of shape (n_windows,)
        Only with ``return_index=True``.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = make_windows(np.arange(10.0), lookback=3, horizon=2)
    >>> X[0], y[0]
    (array([0., 1., 2.]), array([3., 4.]))
    >>> X, y = make_windows(np.arange(10.0), lookback=3, horizon=2, targets_after=7)
    >>> y  # the windows a fit on steps 0-7 has not seen
    array([[7., 8.],
           [8., 9.]])
    """
    for name, value in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
        check_positive_int(name, value)
    frame, group_rows, values, n_future, columns = series_values(
        data, lookback, horizon, target, covariates, future_covariates, groups
    )
    parts_X, parts_y, parts_ends, parts_rows, parts_series = [], [], [], [], []
    n_fitting = 0  # windows that fit, before targets_after
    for code, rows in enumerate(group_rows.values()):
        X, y, ends = _windows_of_one_series(values[rows], lookback, horizon, stride, n_future)
        n_fitting += len(X)
        if targets_after is not None:
            new = _ends_after(frame.index[rows[ends + horizon]], targets_after)
            X, y, ends = X[new], y[new], ends[new]
        parts_X.append(X)
        parts_y.append(y)
        parts_ends.append(ends)
        parts_rows.append(rows[ends])
        parts_series.append(np.full(len(X), code))
    X = np.concatenate(parts_X)
    series = np.concatenate(parts_series)
    y = np.concatenate(parts_y)
    if len(X) == 0:
        if n_fitting:
            raise ValueError(
                f"No window's target ends after targets_after={targets_after!r}; the "
                f"data ends at {frame.index.max()!s}."
            )
        raise ValueError(
            f"No window fits: each series needs at least lookback + horizon = "
            f"{lookback + horizon} steps."
        )
    end_rows = np.concatenate(parts_rows)
    if len(group_rows) > 1:
        order = _time_order(frame.index, end_rows, parts_ends)
        X, y, end_rows, series = X[order], y[order], end_rows[order], series[order]
    X = squeeze_channels(X)
    X = WindowArray.of(
        np.ascontiguousarray(X),
        channels=columns,
        n_future=n_future,
        n_series=len(group_rows),
        series=series,
    )
    if return_index:
        return X, y, frame.index[end_rows]
    return X, y


def _ends_after(labels: pd.Index, after) -> np.ndarray:
    """Which of the index ``labels`` (each window's last target step) come after ``after``."""
    try:
        if isinstance(labels, (pd.DatetimeIndex, pd.PeriodIndex)) and isinstance(
            after, (numbers.Number, np.number)
        ):
            raise TypeError  # pandas would read a number as nanoseconds since 1970
        if isinstance(labels, pd.DatetimeIndex):
            after = pd.Timestamp(after)
            if (after.tz is None) != (labels.tz is None):
                raise TypeError
        elif isinstance(labels, pd.PeriodIndex):
            after = pd.Period(after, freq=labels.freq)
        return np.asarray(labels > after, dtype=bool)
    except (TypeError, ValueError):
        raise TypeError(
            f"targets_after={after!r} cannot be compared with the data's index "
            f"({type(labels).__name__}, e.g. {labels[0]!s}); give a label of the same "
            "kind (a timestamp for a datetime index, a position for arrays)."
        ) from None


class WindowArray(np.ndarray):
    """The ``X`` of :func:`make_windows`: a float array that also knows its channels.

    It is an ``ndarray`` in every respect (scikit-learn sees a plain array);
    ``channels`` (the column labels: target, covariates, future covariates),
    ``n_future`` (how many of them are known in advance) and ``n_series``
    (how many series the windows were cut from) survive indexing,
    arithmetic and pickling, so a forecaster fitted on it can match a
    history's columns by name, require ``future=`` when needed, and size
    its interval calibration to the panel. ``series`` (which series each
    window was cut from, codes ``0..n_series-1``) follows the rows through
    indexing (``X[rows]``, ``X[:, :, 0]``) and pickling; any other new array
    (arithmetic, ``np.take``) has ``series=None``, as a plain array.
    """

    channels: tuple | None = None
    n_future: int = 0
    n_series: int = 1
    series: np.ndarray | None = None

    @classmethod
    def of(
        cls,
        array: np.ndarray,
        *,
        channels,
        n_future: int,
        n_series: int = 1,
        series: np.ndarray | None = None,
    ) -> WindowArray:
        out = array.view(cls)
        out.channels = tuple(channels)
        out.n_future = int(n_future)
        out.n_series = int(n_series)
        out.series = None if series is None else np.asarray(series, dtype=np.int64)
        return out

    def __array_finalize__(self, obj) -> None:
        self.channels = getattr(obj, "channels", None)
        self.n_future = getattr(obj, "n_future", 0)
        self.n_series = getattr(obj, "n_series", 1)
        # Row labels cannot be trusted through an arbitrary operation (a
        # same-length permutation would misalign them); __getitem__ sets them.
        self.series = None

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(out, WindowArray) and self.series is not None and out.ndim >= 1:
            out.series = self._series_of(key, len(out))
        return out

    def _series_of(self, key, n_rows: int) -> np.ndarray | None:
        """The series codes of the rows ``key`` selects, or None where that is unclear."""
        rows = key[0] if isinstance(key, tuple) and key else key
        if rows is Ellipsis:
            return self.series if n_rows == len(self.series) else None
        if rows is None or isinstance(rows, (int, np.integer)):
            return None
        try:
            codes = self.series[rows]
        except (IndexError, TypeError, ValueError):
            return None
        return codes if codes.ndim == 1 and len(codes) == n_rows else None

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))

    def __reduce__(self):
        rebuild, args, state = super().__reduce__()
        return rebuild, args, (state, self.channels, self.n_future, self.n_series, self.series)

    def __setstate__(self, state) -> None:
        # 0.3 pickles lack n_series, 0.4 ones series
        base, self.channels, self.n_future, *rest = state
        self.n_series = rest[0] if rest else 1
        self.series = rest[1] if len(rest) > 1 else None
        super().__setstate__(base)


def _time_order(index: pd.Index, end_rows: np.ndarray, parts_ends: list) -> np.ndarray:
    """Order of the stacked windows of several series by the time of their last step.

    The time is the index label for a datetime or period index; otherwise
    the step's position in its series (series are taken to start together).
    Ties keep the group order, and each series' windows keep theirs.
    """
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        time = index[end_rows].asi8
    else:
        time = np.concatenate(parts_ends)
    group = np.repeat(np.arange(len(parts_ends)), [len(e) for e in parts_ends])
    return np.lexsort((group, time))


def series_units(
    X, series, sample_weight, target_channel: int = 0, season: int | None = None
) -> np.ndarray:
    """The scale of each window's series, shape ``(n_windows,)``: the root mean square
    of the (weighted) spreads of the series' windows' targets or, with ``season``,
    the (weighted) mean of their mean absolute ``season``-step differences (the
    in-sample seasonal naive error that scales MASE; one step when the window is
    not longer than the season).

    ``series`` gives each window's series (None: all one series). A series
    with no spread takes its mean absolute level, and one of zeros 1, so the
    result is positive and scales exactly with each series' data.
    """
    X = np.asarray(X, dtype=np.float64)
    target = X if X.ndim == 2 else X[:, :, target_channel]
    rms = season is None or target.shape[1] < 2  # a one-step window has no differences
    lag = season if not rms and target.shape[1] > season else 1
    spread = target.var(axis=1) if rms else np.abs(target[:, lag:] - target[:, :-lag]).mean(1)
    level = np.abs(target.mean(axis=1))
    codes = np.zeros(len(X), dtype=np.int64) if series is None else np.asarray(series)
    weight = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
    units = np.ones(len(X))
    for code in np.unique(codes):
        rows = codes == code
        w = weight[rows] if weight[rows].sum() > 0 else np.ones(rows.sum())
        mean_spread = np.average(spread[rows], weights=w)
        mean_spread = np.sqrt(mean_spread) if rms else mean_spread
        mean_level = np.average(level[rows], weights=w)
        units[rows] = mean_spread if mean_spread > 1e-12 * mean_level else (mean_level or 1.0)
    return units.astype(np.float32)


def window_histories(target: np.ndarray, series, rows, max_steps: int) -> list[np.ndarray]:
    """The target history of each of ``rows``, read back from the windows before it.

    A window whose first ``lookback - 1`` values are the previous window's last
    ones (same series, one step earlier: ``make_windows``' stride 1) continues
    it, so a row's history is the first value of each window of that chain,
    then the row's own window. Windows of another stride, or rows without
    such predecessors, have their own window as history.

    Parameters
    ----------
    target : ndarray of shape (n_windows, lookback)
        Every window's target, in the order they were cut (a panel's series
        may interleave).
    series : array-like of shape (n_windows,) or None
        Each window's series (None: one series; chains still break where
        windows do not overlap).
    rows : array-like of int
    max_steps : int
        The most recent steps kept (at least the window).

    Returns
    -------
    histories : list of ndarray of shape (n_steps_i,)
        Each ends with its row's window.
    """
    n, lookback = target.shape
    codes = np.zeros(n, dtype=np.int64) if series is None else np.asarray(series)
    # a window's predecessor is the one before it among its series' windows, if it
    # continues it; checked only along the chains read back (a panel of 695,900
    # windows took 1.7 s when every pair was compared, for 100 histories)
    order = np.argsort(codes, kind="stable")
    place = np.empty(n, dtype=np.int64)
    place[order] = np.arange(n)

    def previous(i: int) -> int:
        j = int(order[place[i] - 1]) if place[i] > 0 else -1
        same = j >= 0 and codes[j] == codes[i]
        return j if same and np.array_equal(target[i, :-1], target[j, 1:]) else -1

    histories = []
    for row in rows:
        firsts, i = [], int(row)
        while len(firsts) + lookback < max_steps and (i := previous(i)) >= 0:
            firsts.append(target[i, 0])
        histories.append(np.concatenate([np.asarray(firsts[::-1]), target[row]]))
    return histories


def last_weighted(n: int, count: int, sample_weight: np.ndarray) -> np.ndarray:
    """The last ``count`` of ``n`` rows, less those of weight 0 (which neither weigh
    the smoothing member nor calibrate)."""
    rows = np.arange(n - count, n)
    return rows[sample_weight[rows] > 0]


def evenly(rows: np.ndarray, count: int) -> np.ndarray:
    """At most ``count`` of ``rows``, evenly spaced over them (the last one kept)."""
    if len(rows) <= count:
        return rows
    return rows[np.unique(np.linspace(len(rows) - 1, 0, count).round().astype(np.int64))]
