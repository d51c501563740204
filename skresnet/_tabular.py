"""Mixed-type tables in: the preprocessing a tabular estimator fits on a DataFrame itself.

An analyst's table has text or category columns and missing values. With
``preprocessing="auto"``, a DataFrame holding either is encoded inside the
estimator, from scikit-learn's own transformers (as ``HistGradientBoosting``
takes such a frame directly):

- **numeric columns**: missing values become the column's median, and a 0/1
  indicator column is added for each column that had missing values in
  ``fit``; then robust scaling with smooth clipping, as RealMLP's
  preprocessing (Holzmueller et al., 2024): centred by the median, divided by
  the interquartile range (half the range where that is 0), and mapped
  through ``x / sqrt(1 + (x / 3) ** 2)``, which keeps the middle linear and
  bounds outliers near +-3. A column of counts or amounts that spans orders
  of magnitude is put on a log scale first (:mod:`skresnet._tails`), where the
  clipping would otherwise flatten most of what it holds;
- **categorical columns** (``object``, ``category``, ``string``): up to
  :data:`MAX_ONE_HOT` levels one-hot encoded, missing values as a level of
  their own and levels unseen in ``fit`` as all zeros; more levels target
  encoded (scikit-learn's ``TargetEncoder``: cross-fitted means of the target
  per level, shrunk towards the overall mean; unseen levels get that mean;
  a continuous target's means, in its units, then standardized),
  and also given to the network as level codes (:class:`LevelCodes`), which
  it embeds: a learned vector per level seen at least :data:`MIN_LEVEL_COUNT`
  times in ``fit``, one shared vector for rarer and unseen levels. The target
  encoding is what the linear start reads; the embeddings let the network
  learn how levels interact with the other columns (a user's taste by a
  film's genre), which one mean per level cannot say.

- **integer columns labelled as identifiers** (``id``, ``user_id``,
  ``Person_ID``, ``userId``, ``childid``: :data:`ID_LABEL`), and integer columns
  labelled by a group of rows alone (``state``, ``firm``, ``school``,
  ``Subject``: :data:`GROUP_LABEL`) whose values repeat (at least
  :data:`MIN_GROUPS` of them, twice each on average), are read both ways: as
  numbers (their order can carry time or place) and as categories (a person's or a
  store's own level, as trees find it by splitting ranges of ids). A frame with
  such a column is encoded here even if every column is a number.

Frames with only numeric columns, none of them an identifier, and no missing
values, and arrays, are not encoded here; their columns of large magnitude are
standardized inside the network (:func:`scale_network_inputs`), long-tailed
ones on a log scale first,
and a user's ``StandardScaler`` output passes as it is. A numeric frame's
columns are embedded as an encoded frame's are (``numeric_embedding="auto"``);
an array's are not.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder
from sklearn.utils.validation import check_is_fitted, validate_data

from ._linear_start import MAX_ROWS, RIDGE_ALPHAS, WIDE_COLUMNS
from ._tails import TAIL_RATIO, log_scales, signed_log
from ._targets import refuse_missing_labels
from ._validation import caller_stacklevel

# Categorical columns with at most this many levels are one-hot encoded; more
# are target encoded (a 100-level column would add 100 sparse inputs).
MAX_ONE_HOT = 20
# Levels of a many-level column seen fewer times than this in fit share one
# embedding with the levels unseen in fit.
MIN_LEVEL_COUNT = 5
# An integer column labelled as an identifier (``id``, ``user_id``, ``Person_ID``,
# ``user.id``, ``userId``, ``childID``) is also read as a category: a person's or a
# store's own level, which the number's order does not hold. Glued in one case, only
# after a word for what rows belong to (``childid``, ``townid``, ``HHID``, ``PRODID``):
# ``paid``, ``humid``, ``lipid`` and ``PAID`` end the same way.
_ID_OWNERS = (
    "account|acct|animal|case|child|city|class|client|cluster|company|country|county|"
    "cust|customer|district|doc|driver|emp|employee|fam|family|farm|firm|game|group|grp|"
    "hh|home|hosp|hospital|house|household|item|job|member|movie|obs|order|p|pat|patient|"
    "person|pers|plant|player|plot|prod|product|pupil|region|row|sch|school|session|shop|"
    "site|state|store|stud|student|study|subj|subject|team|teacher|town|tree|trial|unit|"
    "user|visit|worker"
)
ID_LABEL = re.compile(
    rf"(?:^|[^A-Za-z0-9])[iI][dD]$|[a-z]I[dD]$|^(?:{_ID_OWNERS})id$|^(?i:{_ID_OWNERS})ID$"
)
# An integer column whose label is only a word for a group of rows (a panel's or a
# multilevel table's ``state``, ``firm``, ``school``, ``Subject``, ``nr``) is read as a
# category too where its values look like codes: at least MIN_GROUPS of them, each
# in two rows or more on average. Years of schooling (``school``, 13 to 19 values)
# and one code per row (a ``case`` number) stay numbers only.
GROUP_LABEL = re.compile(
    r"^(?i:nr|subject|subj|patient|person|individual|indiv|household|hh|family|firm|"
    r"company|school|sch|student|pupil|teacher|district|county|state|region|country|"
    r"city|town|village|site|plot|tree|cluster|group|store|shop|customer|cust|user|"
    r"player|team|worker|employee|hospital|hosp|clinic|farm)$"
)
MIN_GROUPS = 20
# Where smooth clipping bends: |x| well below it stays as it is, beyond it
# approaches this bound.
CLIP = 3.0
# The other bend :func:`choose_clip` weighs: most of a column's outliers kept as they
# are, for tables whose target follows them linearly (HousePrices' lot sizes).
WIDE_CLIP = 10.0


class RobustSmoothClip(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Robust scaling with smooth clipping (RealMLP's numeric preprocessing).

    ``z = (x - median) / iqr`` (``iqr``: the interquartile range, half the
    range where it is 0, and 1 for a constant column), then
    ``z / sqrt(1 + (z / 3) ** 2)``.

    A column that is never negative in ``fit`` and whose positive values'
    99th percentile is at least ``tail_ratio`` times their median is first
    mapped through ``log1p(x / s)``, ``s`` the 10th percentile of its
    positive values (``sign(x) log1p(|x| / s)`` for a negative value at
    transform time; :mod:`skresnet._tails`).

    Parameters
    ----------
    clip : float, default=3.0
        Where the smooth clipping bends.
    tail_ratio : float or None, default=10.0
        The ratio of 99th percentile to median from which a column is
        log-scaled; ``None`` scales every column as it is.

    Attributes
    ----------
    log_columns_ : ndarray of bool, shape (n_features,)
        The columns put on a log scale.
    log_scale_ : ndarray of shape (n_features,)
        Their ``s`` (0 for the other columns).
    center_, scale_ : ndarray of shape (n_features,)
        The median and spread after the log scaling.
    """

    def __init__(self, clip=CLIP, tail_ratio=TAIL_RATIO):
        self.clip = clip
        self.tail_ratio = tail_ratio

    def fit(self, X, y=None):
        X = self._validate_data_array(X, reset=True)
        self.log_scale_ = np.zeros(X.shape[1])
        if self.tail_ratio is not None:
            self.log_scale_ = log_scales(X, self.tail_ratio)
        self.log_columns_ = self.log_scale_ > 0
        X = self._log(X)
        q25, self.center_, q75 = np.nanpercentile(X, [25, 50, 75], axis=0)
        spread = q75 - q25
        half_range = 0.5 * (np.nanmax(X, axis=0) - np.nanmin(X, axis=0))
        spread = np.where(spread > 0, spread, half_range)
        self.scale_ = np.where(spread > 0, spread, 1.0)
        return self

    def transform(self, X):
        check_is_fitted(self)
        z = (self._log(self._validate_data_array(X, reset=False)) - self.center_) / self.scale_
        return z / np.sqrt(1.0 + (z / self.clip) ** 2)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN passes through; the imputer runs first
        return tags

    def _log(self, X: np.ndarray) -> np.ndarray:
        scales = getattr(self, "log_scale_", None)  # None: fitted by an earlier version
        return X if scales is None else signed_log(X, scales)

    def _validate_data_array(self, X, reset: bool) -> np.ndarray:
        return validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=False)


def _categorical(frame: pd.DataFrame) -> list:
    """Labels of the columns that are not numbers (bool counts as a number)."""
    return [
        c
        for c in frame.columns
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]


def _id_columns(frame: pd.DataFrame) -> list:
    """Labels of the integer columns named as identifiers (:data:`ID_LABEL`), or as a
    group of rows (:data:`GROUP_LABEL`) whose values repeat as codes do (at least
    :data:`MIN_GROUPS` distinct values, twice each on average)."""
    found = []
    for c in frame.columns:
        column = frame[c]
        named = isinstance(c, str) and ID_LABEL.search(c) is not None
        group = isinstance(c, str) and GROUP_LABEL.match(c) is not None
        if not (named or group):
            continue
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            continue
        values = column.dropna().to_numpy(dtype=np.float64)
        integers = np.all(np.isfinite(values)) and np.all(values == np.round(values))
        if not (len(values) and integers):
            continue
        if named:
            found.append(c)
            continue
        distinct = len(np.unique(values))
        if distinct >= MIN_GROUPS and len(values) >= 2 * distinct:
            found.append(c)
    return found


def needs_preprocessing(X) -> bool:
    """Whether ``X`` is a DataFrame with a categorical column, an integer column named
    as an identifier, or a missing value."""
    if not isinstance(X, pd.DataFrame):
        return False
    return bool(_categorical(X) or _id_columns(X)) or bool(X.isna().to_numpy().any())


def as_objects(frame: pd.DataFrame, columns: list) -> pd.DataFrame:
    """The categorical columns as plain objects with ``np.nan`` for any missing marker
    (``pd.NA``, ``None``), which the encoders take as one level."""
    out = frame[columns].astype(object)
    return out.where(out.notna(), np.nan)


def _count_levels(column: pd.Series) -> int:
    """The levels of a categorical column, missing values one of them; a column of
    values that cannot be levels (lists, dicts, arrays) is refused by name."""
    try:
        return column.nunique(dropna=False)
    except TypeError as err:
        kind = type(column.dropna().iloc[0]).__name__ if column.notna().any() else "?"
        raise ValueError(
            f"X column {column.name!r} holds {kind} values, which cannot be categories or "
            "numbers; turn each into a number or a string first."
        ) from err


def table_preprocessor(X: pd.DataFrame, target_type: str) -> ColumnTransformer:
    """The unfitted preprocessing for this frame (see the module docstring).

    Parameters
    ----------
    X : DataFrame
        The training frame: which columns are categorical, and how many levels
        each has, decide their encoding.
    target_type : {"continuous", "binary", "multiclass"} or None
        For the target encoder; None (several targets): columns of many
        levels are one-hot encoded on their 20 most frequent levels instead.
    """
    non_numbers = _categorical(X)
    numeric = [c for c in X.columns if c not in non_numbers]
    categorical = non_numbers + _id_columns(X)  # an id is read both ways
    levels = {c: _count_levels(X[c]) for c in categorical}
    few = [c for c in categorical if levels[c] <= MAX_ONE_HOT]
    many = [c for c in categorical if levels[c] > MAX_ONE_HOT]
    parts = []
    if numeric:
        numbers = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True), RobustSmoothClip()
        )
        parts.append(("numeric", numbers, numeric))
    if few:
        one_hot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        parts.append(("one_hot", make_pipeline(_Objects(), one_hot), few))
    if many and target_type is not None:
        target = [TargetEncoder(target_type=target_type, **_seeded_folds(target_type))]
        if target_type == "continuous":  # means in the target's units: standardized
            target.append(StandardScaler())
        parts.append(("target", make_pipeline(_Objects(), *target), many))
    elif many:  # several targets: the most frequent levels one-hot, the rest as one
        one_hot = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            max_categories=MAX_ONE_HOT,
            sparse_output=False,
        )
        parts.append(("top_levels", make_pipeline(_Objects(), one_hot), many))
    if many:  # last, so that they are the trailing columns the network embeds
        parts.append(("codes", make_pipeline(_Objects(), LevelCodes()), many))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def _seeded_folds(target_type: str) -> dict:
    """Seeded cross-fitting folds for ``TargetEncoder``: a splitter as ``cv`` from
    scikit-learn 1.9, ``random_state`` before (deprecated there)."""
    import sklearn
    from sklearn.model_selection import KFold, StratifiedKFold

    if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 9):
        return {"random_state": 0}
    folds = KFold if target_type == "continuous" else StratifiedKFold
    return {"cv": folds(5, shuffle=True, random_state=0)}


class _Objects(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Categorical columns as objects with ``np.nan`` for missing (:func:`as_objects`),
    as strings where levels mix types, so that the encoders sort them."""

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        out = as_objects(frame, list(frame.columns))
        for c in out.columns:
            values = out[c].dropna()
            if len({type(v) for v in values}) > 1:
                out[c] = out[c].map(lambda v: v if v is np.nan else str(v))
        return out


class LevelCodes(TransformerMixin, BaseEstimator):
    """Each categorical column's level as an integer code, for an embedding table.

    Codes ``1 .. n`` for the levels seen at least ``min_count`` times in
    ``fit`` (missing values a level of their own, as ``np.nan``), ``0`` for
    rarer levels and levels unseen in ``fit``, which so share one vector.

    Parameters
    ----------
    min_count : int, default=5

    Attributes
    ----------
    levels_ : list of ndarray of object
        The coded levels of each column, in code order (from 1).
    cardinalities_ : list of int
        Codes per column, ``len(levels_[j]) + 1``.
    """

    def __init__(self, min_count=MIN_LEVEL_COUNT):
        self.min_count = min_count

    def fit(self, X, y=None):
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        self.n_features_in_ = frame.shape[1]
        self.levels_ = []
        for c in frame.columns:
            counts = frame[c].value_counts(dropna=False)
            self.levels_.append(np.asarray(counts.index[counts >= self.min_count], dtype=object))
        self.cardinalities_ = [len(levels) + 1 for levels in self.levels_]
        return self

    def transform(self, X):
        check_is_fitted(self)
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        out = np.empty((len(frame), self.n_features_in_))
        for j, levels in enumerate(self.levels_):
            index = pd.Index(levels, dtype=object)
            out[:, j] = index.get_indexer(frame.iloc[:, j].astype(object)) + 1  # -1: unseen
        return out

    def get_feature_names_out(self, input_features=None):
        names = input_features if input_features is not None else range(self.n_features_in_)
        return np.asarray([f"{name}_code" for name in names], dtype=object)


def category_levels(estimator) -> tuple[int, ...]:
    """The codes per trailing level-code column of the encoded input (:class:`LevelCodes`),
    for the network's category embeddings; () when there are none."""
    pre = estimator.__dict__.get("preprocessor_")
    if pre is None or "codes" not in pre.named_transformers_:
        return ()
    return tuple(pre.named_transformers_["codes"].named_steps["levelcodes"].cardinalities_)


# The periodic embeddings of numeric columns (modules.PeriodicEmbedding): frequencies
# of standard deviation 0.5 for robust-scaled inputs, 16 of them, 16 dimensions per
# feature (measured on real tables, docs/defaults.md).
EMBEDDING = {"n_frequencies": 16, "d_embedding": 16, "frequency_scale": 0.5}
# numeric_embedding="auto" embeds a frame's numeric columns from this many rows in
# fit, and this many per numeric column: on smaller tables, and on many columns for
# the rows, the embeddings overfit (the digits' 64 pixels as a frame, 21 rows each:
# 0.984 -> 0.976; Ames, 71: 0.912 -> 0.905); Chicago's 50 columns of 91 rows each
# gain (docs/defaults.md). Below EMBEDDING_MIN_ROWS the averaged fits alternate,
# the first without embeddings ("mixed"): on 25 frames of 81 to 856 rows in fit,
# neither choice alone was best on most, where their average was (docs/defaults.md).
EMBEDDING_MIN_ROWS = 1000
EMBEDDING_ROWS_PER_COLUMN = 75


def n_embedded(estimator) -> int:
    """How many leading input columns the MLP embeds (``numeric_embedding_``, the
    fitted choice): the numeric columns of an encoded frame, or every column of
    numeric input that ``preprocessing`` left alone ("periodic", and the fits that
    :func:`embedding_fit` marks under "mixed")."""
    # pickles from before numeric_embedding_ read the parameter, as they were fitted
    parameter = getattr(estimator, "numeric_embedding", None)
    choice = estimator.__dict__.get("numeric_embedding_", parameter)
    pre = estimator.__dict__.get("preprocessor_")
    if choice == "mixed":
        choice = "periodic" if estimator.__dict__.get("_embedding_fit") else None
    if choice is None:
        return 0
    if pre is None:
        return estimator.sample_shape_[0] if choice == "periodic" else 0
    if "numeric" not in pre.named_transformers_:
        return 0
    imputer = pre.named_transformers_["numeric"].named_steps["simpleimputer"]
    n_out = int(np.sum(~np.isnan(imputer.statistics_)))  # all-missing columns are dropped
    return n_out


def _default_embedding(estimator, X) -> str | None:
    """What ``numeric_embedding="auto"`` does with the numeric columns of ``X``, for
    the residual MLP and a DataFrame (a table, encoded or not) that has some:
    "periodic" from :data:`EMBEDDING_MIN_ROWS` rows with
    :data:`EMBEDDING_ROWS_PER_COLUMN` per numeric column, "mixed" (every other
    averaged fit embeds them, :func:`embedding_fit`) below that many rows, else
    None. An array is not embedded: it may hold anything, and on
    ``make_classification``'s mostly redundant or noise columns the embeddings
    overfit, where on real tables' numeric columns they gain (docs/defaults.md)."""
    if not isinstance(X, pd.DataFrame):
        return None
    if getattr(estimator, "input_shape", None) is not None:
        return None
    if getattr(estimator, "architecture", "auto") not in ("auto", "mlp"):
        return None
    n_numeric = len(X.columns) - len(_categorical(X))
    if len(X) < EMBEDDING_MIN_ROWS:
        return "mixed" if n_numeric else None
    return "periodic" if len(X) >= EMBEDDING_ROWS_PER_COLUMN * n_numeric else None


def embedding_fit(estimator, embed: bool) -> None:
    """Mark ``estimator`` (a working copy for one network of several averaged fits)
    to embed its numeric columns or not, where the fitted choice is "mixed". In
    training the odd-numbered fits embed (``index % 2 == 1``), so the first fit,
    whose attributes the estimator keeps, does not, and two fits are one of each;
    a network rebuilt from its state embeds as the state says
    (:func:`embedded_in_state`)."""
    if estimator.__dict__.get("numeric_embedding_") == "mixed":
        estimator._embedding_fit = bool(embed)


def embedded_in_state(state: dict, prefix: str) -> bool:
    """Whether a trained module's ``state_dict`` holds a numeric embedding under
    ``prefix`` (``""``, or ``"networks.<i>."`` for one network of an average)."""
    keys = (k.removeprefix("_orig_mod.") for k in state)
    return any(k.startswith(prefix + "embedding.") for k in keys)


def fit_encoding(estimator, X, y, reset: bool):
    """``X`` for the network at ``fit``: encoded by ``estimator.preprocessor_`` where
    ``preprocessing="auto"`` applies (fitted here on a new fit), else ``X`` as given.

    A new fit without preprocessing sets ``preprocessor_`` to None; estimators
    without the parameter (the forecaster) are left alone.
    """
    if not hasattr(estimator, "preprocessing"):  # not a tabular estimator
        return X
    check_labels(X)
    if isinstance(X, pd.DataFrame) and not len(X):  # before an encoder names itself
        raise ValueError(
            f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is "
            f"required by {type(estimator).__name__}."
        )
    if not reset:
        pre = estimator.__dict__.get("preprocessor_")
        return X if pre is None else encode(estimator, X)
    estimator.preprocessor_ = None
    choice = estimator.numeric_embedding
    estimator.numeric_embedding_ = "periodic" if choice == "periodic" else None
    if choice == "auto":
        estimator.numeric_embedding_ = _default_embedding(estimator, X)
    if estimator.preprocessing != "auto" or not needs_preprocessing(X):
        return X
    # named as the user labels them (5, not "5"), before the labels become strings
    times = [c for c in X.columns if _is_time(X[c])]
    if times:
        raise ValueError(
            f"X has date or time columns {times}; preprocessing='auto' encodes numbers and "
            "categories. Turn them into numbers first (e.g. frame[col].dt.year, "
            ".dt.day_of_week, or skresnet.timeseries.CalendarFeatures)."
        )
    _warn_numbers_as_text(X)
    X = _string_labels(X)
    y_values = np.asarray(y)
    if y_values.ndim == 2 and y_values.shape[1] == 1:
        y_values = y_values.ravel()
    if estimator._score_kind == "accuracy":
        refuse_missing_labels(y_values)  # before the target encoder sorts the labels
        target_type = "binary" if len(pd.unique(y_values.ravel())) <= 2 else "multiclass"
    else:
        target_type = "continuous"
    pre = table_preprocessor(X, target_type if y_values.ndim == 1 else None)
    # fit_transform: the target encoder's training rows get cross-fitted encodings
    encoded = pre.fit_transform(X, y_values)
    if estimator.numeric_embedding_ != "periodic":  # the embeddings assume the bend at 3
        encoded = choose_clip(pre, X, encoded, y_values, estimator._score_kind == "accuracy")
    estimator.preprocessor_ = pre
    return encoded


def choose_clip(pre: ColumnTransformer, X, encoded: np.ndarray, y, classes: bool) -> np.ndarray:
    """Set the numeric columns' smooth clipping to :data:`CLIP` or :data:`WIDE_CLIP`,
    whichever gives the lower leave-one-out error of a ridge regression from the
    encoded columns (the level codes left out) to the standardized target (each
    class's 0/1 indicator for a classifier), and return ``encoded`` at that bend.

    The ridge is what the linear start of the network fits (``RidgeCV`` over the
    same penalties, leave-one-out in closed form), so the bend is chosen for
    the model training starts from: clipping at 3 bounds the outliers that mislead a
    linear fit (Ames' partial sales of very large houses), a bend at 10 keeps a
    relation that stays linear in the tail (HousePrices' lot sizes:
    docs/defaults.md). Unweighted, on at most the linear start's
    ``_linear_start.MAX_ROWS`` seeded rows; encodings wider than its
    ``WIDE_COLUMNS``, where leave-one-out costs more than training, keep :data:`CLIP`.
    :func:`fit_encoding` chooses only for a network that does not embed its numeric
    columns: the periodic embeddings' frequencies are scaled for inputs bent at 3,
    and a wider range cost movies 0.002 R^2 where the ridge chose it.

    Parameters
    ----------
    pre : ColumnTransformer
        Fitted by :func:`table_preprocessor`; its ``RobustSmoothClip`` is set to
        the chosen bend.
    X : DataFrame
        The training frame ``pre`` was fitted on.
    encoded : ndarray of shape (n_samples, n_encoded)
        ``pre.fit_transform(X, y)``, at the bend :data:`CLIP`.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    classes : bool
        Whether ``y`` holds class labels.
    """
    if "numeric" not in pre.named_transformers_ or sp.issparse(encoded):
        return encoded
    numbers = pre.named_transformers_["numeric"]
    numeric = next(columns for name, _, columns in pre.transformers_ if name == "numeric")
    block = pre.output_indices_["numeric"]
    stop = pre.output_indices_["codes"].start if "codes" in pre.output_indices_ else None
    if encoded[:, :stop].shape[1] > WIDE_COLUMNS:
        return encoded
    target = np.asarray(y)
    if classes and target.ndim == 1:
        target = pd.get_dummies(pd.Series(target.astype(str))).to_numpy(float)
    try:
        target = np.asarray(target, dtype=np.float64).reshape(len(target), -1)
    except (TypeError, ValueError):  # refused by name when the target is validated
        return encoded
    if not np.isfinite(target).all():  # likewise
        return encoded
    spread = target.std(axis=0)
    target = (target - target.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    rows = np.arange(len(target))
    if len(rows) > MAX_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, MAX_ROWS, replace=False))
    if len(rows) < 3:  # no leave-one-out error to compare
        return encoded
    from sklearn.linear_model import RidgeCV

    clipper = numbers.steps[-1][1]
    clipper.set_params(clip=WIDE_CLIP)
    sampled = encoded[rows, :stop]
    wide = sampled.copy()
    wide[:, block] = numbers.transform(X[numeric].iloc[rows])
    errors = []
    for candidate in (sampled, wide):
        ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(candidate, target[rows])
        errors.append(-ridge.best_score_)
    if errors[1] < errors[0]:
        encoded = encoded.copy()
        encoded[:, block] = numbers.transform(X[numeric])
        return encoded
    clipper.set_params(clip=CLIP)
    return encoded


def _is_time(column: pd.Series) -> bool:
    """Whether ``column`` holds dates, periods or durations (read as categories, each
    month or day would be a level that the future never repeats)."""
    kind = column.dtype
    return (
        pd.api.types.is_datetime64_any_dtype(kind)
        or pd.api.types.is_timedelta64_dtype(kind)
        or isinstance(kind, pd.PeriodDtype)
    )


def _warn_numbers_as_text(X: pd.DataFrame) -> None:
    """Warn about text columns of more than MAX_ONE_HOT levels that all read as numbers
    (thousands separators allowed): encoded as categories, their order and distances are
    lost, and unseen values fall on one shared level. Codes (ZIP, ids) look the same,
    so this warns; a ``category`` column is taken as declared."""
    for c in _categorical(X):
        column = X[c]
        if isinstance(column.dtype, pd.CategoricalDtype):
            continue
        try:
            levels = pd.Series(column.dropna().unique()[:1000])
        except TypeError:  # lists or dicts: refused by name further on
            continue
        if len(levels) <= MAX_ONE_HOT or not all(isinstance(v, str) for v in levels):
            continue
        text = levels.str.strip()
        plain = pd.to_numeric(text, errors="coerce").notna().all()
        separated = pd.to_numeric(text.str.replace(",", ""), errors="coerce").notna().all()
        if not (plain or separated):
            _warn_dates_as_text(c, text, column)
            continue
        how = f"pd.to_numeric(df[{c!r}]" + (")" if plain else ".str.replace(',', ''))")
        warnings.warn(
            f"X column {c!r} holds numbers written as text (e.g. {levels.iloc[0]!r}), read as a "
            f"category of {_count_levels(column)} levels. If it is a quantity, convert it: "
            f"df[{c!r}] = {how}; if it is a code (a ZIP code, an id), make it "
            "astype('category') to say so.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def encode(estimator, X) -> np.ndarray:
    """``X`` through the fitted ``preprocessor_``, refusing what it cannot take."""
    pre = estimator.preprocessor_
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"This {type(estimator).__name__} was fitted on a DataFrame with categorical "
            f"or missing values (columns {list(pre.feature_names_in_)}); predict needs a "
            f"DataFrame with those columns, got {type(X).__name__}."
        )
    X = _string_labels(X)
    fitted, columns = list(pre.feature_names_in_), list(X.columns)
    if columns != fitted:  # as scikit-learn's estimators refuse a numeric frame's
        missing = [c for c in fitted if c not in columns]
        unseen = [c for c in columns if c not in fitted]
        found = []
        if missing:
            name = type(estimator).__name__
            found.append(f"X lacks the column(s) {missing} that {name} was fitted on")
        if unseen:
            found.append(f"column(s) {unseen} unseen at fit time")
        found = found or ["the columns must be in the same order as they were in fit"]
        raise ValueError(
            "The feature names should match those that were passed during fit: "
            f"{'; '.join(found)}. Pass the columns of model.feature_names_in_, in that order."
        )
    _check_numbers(pre, X)
    return pre.transform(X)


def _warn_dates_as_text(c, text: pd.Series, column: pd.Series) -> None:
    """Warn where the text ``levels`` of column ``c`` are all ISO 8601 dates or times
    ("1967-07-01", "2020-01-01 10:00"): as categories each day is a level the future
    never repeats, and their order is lost, as :func:`fit_encoding` says of date columns."""
    if not text.str.contains(r"\d[-:]\d", regex=True).all():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dates = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if dates.isna().any():
        return
    warnings.warn(
        f"X column {c!r} holds dates written as text (e.g. {text.iloc[0]!r}), read as a "
        f"category of {_count_levels(column)} levels, each a day the future never repeats. "
        f"Turn it into numbers: pd.to_datetime(df[{c!r}]) and then .dt.year, "
        ".dt.month, .dt.day_of_week, or skresnet.timeseries.CalendarFeatures.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def _check_numbers(pre, X: pd.DataFrame) -> None:
    """Refuse, by name, a column that was numeric at fit and now holds text that is not
    a number (the imputer would fail without naming it) or dates."""
    numeric = next((cols for name, _, cols in pre.transformers_ if name == "numeric"), [])
    for c in numeric:
        column = X[c]
        if pd.api.types.is_numeric_dtype(column.dtype):
            continue
        if _is_time(column):  # would read as nanoseconds since 1970
            text = column.dropna()
        else:
            text = column[column.notna() & pd.to_numeric(column, errors="coerce").isna()]
        if len(text):
            raise ValueError(
                f"X column {c!r} was numeric at fit time; got {column.dtype} values that "
                f"are not numbers (e.g. {text.iloc[0]!r}). Convert it: "
                f"pd.to_numeric(df[{c!r}], errors='coerce') makes them missing values."
            )


def check_labels(X) -> None:
    """Refuse a DataFrame whose column labels repeat (each such label reads as a frame)."""
    if isinstance(X, pd.DataFrame) and X.columns.duplicated().any():
        repeated = list(dict.fromkeys(str(c) for c in X.columns[X.columns.duplicated()]))
        raise ValueError(
            f"X has repeated column labels {repeated}; give the columns distinct names."
        )


def _string_labels(X: pd.DataFrame) -> pd.DataFrame:
    """The frame with its column labels as strings (``0`` as ``"0"``, a MultiIndex
    label ``("p", "a")`` as ``"('p', 'a')"``), as the encoders' names need them."""
    if all(isinstance(c, str) for c in X.columns):
        return X
    renamed = X.set_axis([str(c) for c in X.columns], axis=1)
    if renamed.columns.duplicated().any():
        raise ValueError(
            f"X's column labels {list(X.columns)} repeat once written as strings; "
            "give the columns distinct names."
        )
    return renamed


def fitted_names(estimator) -> None:
    """After validating the encoded ``X``: the input counts and names of the frame."""
    pre = estimator.__dict__.get("preprocessor_")
    if pre is not None:
        estimator.feature_names_in_ = np.asarray(pre.feature_names_in_, dtype=object)
        estimator.n_features_in_ = len(pre.feature_names_in_)


def scale_network_inputs(estimator, module, train, seed: int):
    """Set ``module``'s input standardization (:func:`_linear_start.input_scaling`)
    for input that no ``preprocessor_`` encoded (an encoded frame's numbers are
    robust-scaled already); returns the ``(loc, scale, log_scale)`` set, or None."""
    from ._linear_start import input_scaling

    if estimator.__dict__.get("preprocessor_") is not None:
        return None
    scaling = input_scaling(train, seed, module.input_loc.numel())
    if scaling is not None:
        module.scale_inputs(*scaling)
    return scaling
