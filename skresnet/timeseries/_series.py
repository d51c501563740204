"""Reading series from the user's data: frames, groups, time order, numeric channels.

Every entry point that takes a series (``make_windows``, ``backtest``,
``TCNForecaster.forecast``) reads it through :func:`series_frame`, so all
of them refuse the same things with the same messages: rows out of time
order, gaps or uneven steps in a datetime index, dates given as strings
that do not parse, NaN group ids, and non-numeric or NaN channel values.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd


def infer_freq(index: pd.Index):
    """``pd.infer_freq``, without pandas 3.1's notice that its return type will change
    (a string or an offset both serve ``pd.date_range``); None when none is found."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.infer_freq(index)


def as_frame(data) -> pd.DataFrame:
    """``data`` (Series, DataFrame, 1-D or 2-D array, time along axis 0) as a DataFrame."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame(name=data.name if data.name is not None else 0)
    array = np.asarray(data)
    if array.ndim == 1:
        return pd.DataFrame({0: array})
    if array.ndim == 2:
        return pd.DataFrame(array)
    raise ValueError(
        f"data has {array.ndim} dimensions; expected a Series, a DataFrame, "
        "or a 1-D/2-D array with time along axis 0."
    )


def series_frame(data, groups, *, name: str = "data") -> tuple[pd.DataFrame, dict]:
    """The data as a frame with a checked time index, and the row positions of each series.

    A string index is parsed as dates. A datetime or period index must be
    strictly increasing and regular (one inferable frequency) within each
    series; anything else is a ``ValueError`` that says how to fix it.
    """
    frame = as_frame(data)
    strings = frame.index
    frame = _parse_string_index(frame, name)
    rows = split_groups(frame, groups)
    if isinstance(frame.index, (pd.DatetimeIndex, pd.PeriodIndex)):
        for label, positions in rows.items():
            try:
                _check_time_index(frame.index[positions], label, name)
            except ValueError as error:
                if strings is frame.index:
                    raise
                first = strings[positions[0]]
                raise ValueError(
                    f"{error} The index was parsed from strings ({first!r} read as "
                    f"{frame.index[positions[0]]}); if they are day-first or of another "
                    "format, parse them with pd.to_datetime(..., format=...) first."
                ) from None
    return frame, rows


def _parse_string_index(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    index = frame.index
    textual = pd.api.types.is_object_dtype(index) or pd.api.types.is_string_dtype(index)
    if not len(index) or not textual or not all(isinstance(v, str) for v in index):
        return frame
    try:
        with warnings.catch_warnings():
            # pandas' "Could not infer format" (each string parsed on its own): the
            # parsed index is checked below, and a failed check names the parse
            warnings.filterwarnings("ignore", "Could not infer format", UserWarning)
            parsed = pd.DatetimeIndex(pd.to_datetime(index))
    except (ValueError, TypeError):
        raise ValueError(
            f"{name} has an index of strings that are not dates (first: {index[0]!r}); "
            "use a DatetimeIndex (pd.to_datetime(..., format=...)) or a default integer "
            "index."
        ) from None
    return frame.set_axis(parsed.rename(index.name), axis=0)


def _check_time_index(index: pd.Index, label, name: str) -> None:
    where = "" if label is None else f" (series {label!r})"
    if not (index.is_monotonic_increasing and index.is_unique):
        raise ValueError(
            f"{name}{where} is not in time order: its datetime index must be strictly "
            "increasing. Sort it first (sort_index(), or sort_values by group and time)."
        )
    if len(index) < 3:
        return
    if isinstance(index, pd.PeriodIndex):
        regular = len(np.unique(np.diff(index.asi8))) == 1
    else:
        regular = infer_freq(index) is not None
    if not regular:
        raise ValueError(
            f"{name}{where} has gaps or uneven steps in its datetime index, so windows "
            "would mix steps of different lengths. Make it regular first, e.g. "
            "df.asfreq('D') (or 'h', 'W', 'MS', ...) and fill the missing values "
            "(interpolate(), fillna())."
        )


def is_column(frame: pd.DataFrame, groups) -> bool:
    """Whether ``groups`` names a column of ``frame`` (rather than holding labels)."""
    return groups is not None and isinstance(groups, Hashable) and groups in frame.columns


def split_groups(frame: pd.DataFrame, groups) -> dict[Hashable, np.ndarray]:
    """Row positions of each series, by group label in order of appearance.

    ``groups`` is a column of ``frame``, an array of one label per row, or
    None (one series). Missing labels (NaN, None) are an error.
    """
    if groups is None:
        return {None: np.arange(len(frame))}
    if is_column(frame, groups):
        labels = frame[groups].to_numpy()
    elif isinstance(groups, (str, int)):
        raise ValueError(
            f"groups={groups!r} is not a column of data; available columns: {list(frame.columns)}."
        )
    else:
        labels = np.asarray(groups)
        if labels.shape != (len(frame),):
            raise ValueError(
                f"groups has shape {labels.shape} but data has {len(frame)} rows; "
                "expected a column label or one label per row."
            )
    missing = pd.isna(labels)
    if missing.any():
        raise ValueError(
            f"groups has {int(missing.sum())} missing label(s) (NaN/None), first at row "
            f"{int(np.flatnonzero(missing)[0])}; every row needs a series id."
        )
    return {label: np.flatnonzero(labels == label) for label in pd.unique(labels)}


def numeric_values(frame: pd.DataFrame, columns: Sequence[Hashable], name: str) -> np.ndarray:
    """``frame[columns]`` as float64, or a ``ValueError`` naming the column that is not numbers."""
    for column in columns:
        series = frame[column]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            hint = ""
            if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
                hint = " Numbers written as text: pd.to_numeric(df[col]) first."
            if pd.api.types.is_datetime64_any_dtype(series) or hint:
                hint += " Dates belong in the index: df.set_index(pd.to_datetime(df[col]))."
            label = column.item() if isinstance(column, np.generic) else column  # not np.int64(0)
            raise ValueError(
                f"{name} column {label!r} has dtype {series.dtype}; channels must be numbers.{hint}"
            )
    return frame[list(columns)].to_numpy(dtype=np.float64)


def check_no_nan(values: np.ndarray, index: pd.Index, columns: Sequence, name: str) -> None:
    """A ``ValueError`` naming the first row and column of ``values`` that is NaN or inf."""
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        label = columns[col].item() if isinstance(columns[col], np.generic) else columns[col]
        raise ValueError(
            f"{name} has {int(bad.sum())} missing or infinite value(s), first in column "
            f"{label!r} at {index[row]!r} (row {row}); fill or drop them first "
            "(interpolate(), fillna())."
        )


def to_panel(
    wide: pd.DataFrame, *, name: Hashable = "value", group_name: Hashable = "series"
) -> pd.DataFrame:
    """A wide table (one column per series) as the long panel ``make_windows`` takes.

    Each series keeps the rows from its first to its last observed value: the
    missing values before a product's launch or after its last report are
    not part of it (a wide table pads them), so series of different spans
    become a panel as they are. Missing values inside a series are kept,
    for ``make_windows`` to report (fill them first).

    Parameters
    ----------
    wide : DataFrame of shape (n_steps, n_series)
        One column per series, rows in time order.
    name : label, default="value"
        Name of the column holding the values.
    group_name : label, default="series"
        Name of the column holding each row's series (the wide table's column label).

    Returns
    -------
    panel : DataFrame of shape (n_observed_rows, 2)
        Columns ``group_name`` and ``name``; the series one after another, each
        in time order from its first to its last observed value, indexed by
        the wide table's index (so a ``DatetimeIndex`` is kept):
        ``make_windows(panel, ..., target=name, groups=group_name)``.

    Raises
    ------
    ValueError
        If a column has no observed value (drop it first), or is not numbers (a
        date column belongs in the index).

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"north": [1.0, 2.0], "south": [10.0, 20.0]})
    >>> to_panel(wide)
      series  value
    0  north    1.0
    1  north    2.0
    0  south   10.0
    1  south   20.0
    """
    if not isinstance(wide, pd.DataFrame):
        raise TypeError(
            f"to_panel takes a DataFrame with one column per series; got {type(wide).__name__}."
        )
    if name == group_name:
        raise ValueError(f"name and group_name must differ; both are {name!r}.")
    if not len(wide.columns):
        raise ValueError("to_panel needs at least one column (series); the table has none.")
    parts = []
    for column in wide.columns:
        values = wide[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            dates = pd.api.types.is_datetime64_any_dtype(values) or isinstance(
                values.dtype, pd.PeriodDtype
            )
            hint = (
                f"dates belong in the index: wide.set_index({column!r})"
                if dates
                else f"drop it (wide.drop(columns={column!r})), or convert numbers written "
                "as text with pd.to_numeric"
            )
            raise ValueError(
                f"to_panel: column {column!r} has dtype {values.dtype}; every column of a "
                f"wide table must be one series of numbers: {hint}."
            )
        observed = np.flatnonzero(values.notna().to_numpy())
        if not len(observed):
            raise ValueError(
                f"to_panel: column {column!r} has no observed value (all missing); "
                "drop it first (wide.dropna(axis=1, how='all'))."
            )
        span = slice(observed[0], observed[-1] + 1)
        parts.append(
            pd.DataFrame(
                {group_name: column, name: values.to_numpy()[span]}, index=wide.index[span]
            )
        )
    return pd.concat(parts)
