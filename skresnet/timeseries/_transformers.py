"""Time-series preprocessing as scikit-learn transformers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._config import DocLinkMixin
from .._validation import Interval, Real

_PERIODS = {"hour": 24, "dayofweek": 7, "month": 12, "dayofyear": 366, "minute": 60}
# pandas' attribute of each component (pandas 3 deprecates ``dayofweek``/``dayofyear``)
_ATTRIBUTES = {"dayofweek": "day_of_week", "dayofyear": "day_of_year"}


class RowStandardScaler(DocLinkMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize each row (each series) by its own mean and standard deviation.

    The UCR convention for series classification: every series is
    z-normalized on its own, so classes are told apart by shape, not level.
    Stateless: ``fit`` only records the number of columns. Put it before a
    ``ResNetClassifier`` with ``input_shape`` in a ``Pipeline``.

    Parameters
    ----------
    eps : float, default=1e-8
        Added to the standard deviation, so constant rows become zeros.

    Examples
    --------
    >>> import numpy as np
    >>> RowStandardScaler().fit_transform(np.array([[1.0, 2.0, 3.0], [10.0, 10.0, 10.0]])).round(4)
    array([[-1.2247,  0.    ,  1.2247],
           [ 0.    ,  0.    ,  0.    ]])
    """

    _parameter_constraints: dict = {"eps": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, *, eps=1e-8):
        self.eps = eps

    def fit(self, X, y=None):
        self._validate_params()
        validate_data(self, X, reset=True)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], copy=True)
        X -= X.mean(axis=1, keepdims=True)
        X /= X.std(axis=1, keepdims=True) + self.eps
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class CalendarFeatures(DocLinkMixin, TransformerMixin, BaseEstimator):
    """Cyclic calendar features (sin and cos) from timestamps: known-future covariates.

    Each component ``c`` of period ``P`` becomes ``sin(2 pi c / P)`` and
    ``cos(2 pi c / P)``, so 23:00 and 00:00 are close. Timestamps come from
    a ``DatetimeIndex`` of a DataFrame/Series, a datetime column, or an
    array of datetimes; periods (a ``PeriodIndex``, a period column: monthly
    or quarterly data) read as their first instants.

    Parameters
    ----------
    components : tuple of str, default=("hour", "dayofweek", "month")
        Any of ``"minute"``, ``"hour"``, ``"dayofweek"``, ``"month"``,
        ``"dayofyear"``.
    column : str, default=None
        Datetime column to use; None uses the index of a DataFrame/Series, or
        the single column of an array.

    Examples
    --------
    >>> import pandas as pd
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="h")
    >>> CalendarFeatures(components=("hour",)).fit_transform(pd.DataFrame(index=idx)).round(3)
                         hour_sin  hour_cos
    2024-01-01 00:00:00     0.000     1.000
    2024-01-01 01:00:00     0.259     0.966
    2024-01-01 02:00:00     0.500     0.866
    """

    def __init__(self, *, components=("hour", "dayofweek", "month"), column=None):
        self.components = components
        self.column = column

    def _timestamps(self, X) -> pd.DatetimeIndex:
        if self.column is not None:
            if not isinstance(X, pd.DataFrame) or self.column not in X.columns:
                raise ValueError(f"column={self.column!r} is not a column of X.")
            values = X[self.column]
        elif isinstance(X, (pd.DataFrame, pd.Series)) and isinstance(
            X.index, (pd.DatetimeIndex, pd.PeriodIndex)
        ):
            values = X.index
        else:
            values = _one_column(X)
        _refuse_numbers(values)
        try:
            values = _periods_as_timestamps(values)
            stamps = pd.DatetimeIndex(pd.to_datetime(values))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"CalendarFeatures could not read timestamps: {exc}") from None
        if stamps.isna().any():
            raise ValueError(
                f"X has missing timestamps (NaN/NaT) at position {int(np.argmax(stamps.isna()))}."
            )
        return stamps

    def fit(self, X, y=None):
        components = list(self.components)
        if len(set(components)) != len(components):
            raise ValueError(
                f"components={self.components!r} repeats a component; give each at most once."
            )
        unknown = sorted(set(components) - set(_PERIODS))
        if unknown:
            raise ValueError(
                f"components contains {unknown}; expected names among {sorted(_PERIODS)}."
            )
        self._timestamps(X)
        self.feature_names_out_ = np.array(
            [f"{c}_{f}" for c in self.components for f in ("sin", "cos")], dtype=object
        )
        return self

    def transform(self, X):
        check_is_fitted(self)
        stamps = self._timestamps(X)
        columns = {}
        for c in self.components:
            component = getattr(stamps, _ATTRIBUTES.get(c, c))
            angle = 2 * np.pi * np.asarray(component, dtype=float) / _PERIODS[c]
            columns[f"{c}_sin"] = np.sin(angle)
            columns[f"{c}_cos"] = np.cos(angle)
        index = X.index if isinstance(X, (pd.DataFrame, pd.Series)) else None
        return pd.DataFrame(columns, index=index)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return self.feature_names_out_


def _periods_as_timestamps(values):
    """Periods (a month, a quarter: a period dtype or ``pd.Period`` objects) as their
    first instants; anything else as it is."""
    if isinstance(getattr(values, "dtype", None), pd.PeriodDtype):
        return pd.PeriodIndex(values).to_timestamp()
    if isinstance(values, np.ndarray) and values.dtype == object and values.size:
        flat = values.ravel()
        if isinstance(flat[0], pd.Period):
            return pd.PeriodIndex(flat).to_timestamp()
    return values


def _refuse_numbers(values) -> None:
    """A ValueError for numbers (or booleans): ``pd.to_datetime`` would read them as
    nanoseconds after 1970, every row a Thursday of January, and the features would
    be silently wrong (a ``RangeIndex``, a count, a year column)."""
    dtype = getattr(values, "dtype", None)
    generic = dtype is None or pd.api.types.is_object_dtype(dtype)
    if generic:
        kinds = {type(v) for v in np.asarray(values, dtype=object).ravel()[:100]}
        numeric = bool(kinds) and all(issubclass(k, (int, float, np.number, bool)) for k in kinds)
    else:
        numeric = pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    if numeric:
        kind = "Python numbers" if generic else dtype
        raise ValueError(
            f"CalendarFeatures needs timestamps; got numbers ({kind}), which "
            "would be read as nanoseconds since 1970. Pass a DatetimeIndex or a datetime "
            "column (column=...), or convert first: pd.to_datetime(values, unit='s'), "
            "format='%Y%m%d', ... (a year: pd.to_datetime(year, format='%Y'))."
        )


def _one_column(X) -> np.ndarray:
    """The timestamps of an array-like of one column, or a sklearn-style error."""
    if sp.issparse(X):
        raise TypeError(
            "CalendarFeatures does not take sparse input; pass timestamps: a DatetimeIndex, "
            "column=..., or one column of datetimes."
        )
    values = np.asarray(X)
    if np.iscomplexobj(values):
        raise ValueError("Complex data not supported; CalendarFeatures takes timestamps.")
    if values.ndim == 2 and values.shape[1] == 0:
        raise ValueError(
            f"0 feature(s) (shape={values.shape}) while a minimum of 1 is required: "
            "CalendarFeatures takes one column of timestamps."
        )
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(
            "CalendarFeatures needs timestamps: a DatetimeIndex, column=..., or one "
            f"column of datetimes; got an array of shape {values.shape}."
        )
    if len(values) == 0:
        raise ValueError("Found array with 0 sample(s); CalendarFeatures needs timestamps.")
    return values
