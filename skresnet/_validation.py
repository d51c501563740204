"""Input checks. The only module that touches scikit-learn's private helpers."""

from __future__ import annotations

import contextlib
import sys
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval as _Interval
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    _check_y,
    _num_samples,
    check_array,
    check_consistent_length,
)

__all__ = [
    "COMMON_CONSTRAINTS",
    "Interval",
    "Integral",
    "Real",
    "StrOptions",
    "_check_y",
    "_num_samples",
    "_safe_indexing",
    "MAX_ABS_INPUT",
    "check_int_tuple",
    "check_magnitude",
    "encoded_data",
    "numeric_input",
    "store_params",
    "check_sample_weight",
]


class Interval(_Interval):
    """scikit-learn's ``Interval`` constraint, except that a bool is not a number.

    ``width=True`` would otherwise pass as ``width=1`` (bool is a subclass of
    int) and build a one-unit network without a word.
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def check_int_tuple(name: str, value, *, lengths: tuple[int, ...] | None = None) -> tuple:
    """``value`` as a tuple of positive ints, or a ``ValueError`` naming ``name``."""
    items = tuple(value)
    ok = all(
        isinstance(v, (Integral, np.integer)) and not isinstance(v, (bool, np.bool_)) and v >= 1
        for v in items
    )
    if not items or not ok or (lengths is not None and len(items) not in lengths):
        size = f" of length {' or '.join(map(str, lengths))}" if lengths else ""
        raise ValueError(
            f"{name}={value!r} is not valid; expected a non-empty tuple{size} of positive ints."
        )
    return tuple(int(v) for v in items)


COMMON_CONSTRAINTS: dict = {
    "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "optimizer": [StrOptions({"adamw", "adam", "sgd"})],
    "lr_schedule": [StrOptions({"cosine", "onecycle"}), None],
    "early_stopping": ["boolean", StrOptions({"auto"})],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "device": [str, torch.device],
    "precision": [StrOptions({"float32", "bf16", "fp16"})],
    "compile": ["boolean"],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "callbacks": [list, None],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "activation": [StrOptions({"relu", "gelu", "silu", "elu", "leaky_relu", "tanh"})],
    "skip_connections": ["boolean"],
}


def check_sample_weight(sample_weight, X) -> np.ndarray:
    """Validated float32 weights of shape ``(n_samples,)``; ones when None.

    Negative weights and all-zero weights raise ``ValueError``.
    """
    return _check_sample_weight(sample_weight, X, dtype=np.float32, ensure_non_negative=True)


# Inputs are float32; the networks square activations (norms, losses), so
# values beyond about 1e19 overflow. 1e15 leaves room for weights and sums.
MAX_ABS_INPUT = 1e15


RESCALE_HINT = "Standardize X first, e.g. with StandardScaler in a Pipeline."


def check_magnitude(X, raise_error: bool = True, hint: str = RESCALE_HINT) -> bool:
    """Whether every ``|X|`` is at most :data:`MAX_ABS_INPUT` (False for NaN/inf) or
    raise, the error ending with ``hint`` (how to bring X into range)."""
    values = X.data if sp.issparse(X) else X
    peak = float(np.abs(values).max()) if values.size else 0.0
    if peak <= MAX_ABS_INPUT:
        return True
    if not raise_error:
        return False
    raise ValueError(
        f"X has values of magnitude up to {peak:.3g}; the networks train in float32 "
        f"and need |X| <= {MAX_ABS_INPUT:.0e}. {hint}"
    )


_PACKAGE = str(Path(__file__).resolve().parent)


def caller_stacklevel() -> int:
    """The ``stacklevel`` (for a warning issued by this function's caller) of the
    first frame outside the package: where the user called ``fit``."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


# A column (or window position, pixel) whose spread is below this many float32 steps at
# its level loses most of its variation in the cast to float32 (1e7 +- 1: one step).
MIN_FLOAT32_STEPS = 10


def warn_if_float32_rounds(X, owner: str) -> None:
    """Warn where the cast to float32 rounds away most of a float64 or int64 column's
    variation: a large offset with a small spread (1e7 +- 1 scored R^2 0.90 where the
    column alone gives 0.997). Other inputs (float32, sparse, mixed frames the encoder
    scales in float64 first) are left alone."""
    if isinstance(X, pd.DataFrame) and len(X.columns):
        plain = all(isinstance(t, np.dtype) and t in (np.float64, np.int64) for t in X.dtypes)
        X = X.to_numpy() if plain else None
    if not isinstance(X, np.ndarray) or X.dtype not in (np.float64, np.int64) or len(X) < 2:
        return
    flat = X.reshape(len(X), -1)
    with np.errstate(all="ignore"):
        mean, spread = np.nanmean(flat, axis=0), np.nanstd(flat, axis=0)
        step = np.spacing(np.abs(mean).astype(np.float32)).astype(np.float64)
        rounded = np.flatnonzero((spread > 0) & (spread < MIN_FLOAT32_STEPS * step))
    if not len(rounded):
        return
    i = int(rounded[0])
    warnings.warn(
        f"X column(s) {rounded[:5].tolist()} vary little around a large value (column {i}: "
        f"{mean[i]:.6g} +- {spread[i]:.3g}); {owner} trains in float32, whose steps there "
        f"are {step[i]:.3g}, so most of that variation is rounded away. Subtract the "
        "offset first, e.g. with StandardScaler in a Pipeline.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def encoded_data(estimator, X, y="no_validation", *, reset, **kwargs):
    """``validate_data`` for an ``X`` the estimator's preprocessor encoded: the checks
    of the values, without those of the frame's names and width (already done)."""
    kwargs.pop("multi_output", None), kwargs.pop("y_numeric", None)
    X = check_array(X, **kwargs)
    if isinstance(y, str) and y == "no_validation":
        return X
    y = _check_y(y, multi_output=estimator._multi_output, y_numeric=estimator._y_numeric)
    check_consistent_length(X, y)
    return X, y


@contextlib.contextmanager
def numeric_input(encodes_frames: bool = False, X=None):
    """Turn numpy's and pandas' bare conversion errors into a message that says what X
    must be (and, for the tabular estimators, that a DataFrame can be encoded); samples
    of different shapes in ``X`` (or else in y) are named as such."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        if "inhomogeneous shape" in str(exc):
            name = "y" if X is not None and not _ragged(X) else "X"
            raise ValueError(
                f"{name} holds samples of different shapes (series of different lengths, "
                "images of different sizes, or rows of different widths); every sample "
                "must have one shape. Pad, crop or resample them to one length first."
            ) from exc
        if "setting an array element with a sequence" in str(exc):
            # an object array whose items are arrays (e.g. a column of series)
            raise ValueError(
                "X holds sequences (arrays or lists) as items of an object array, which "
                "cannot become numbers; give one numeric array of shape (n_samples, ...): "
                "np.stack(X) where every sample has one shape, else pad, crop or resample "
                "them to one length first."
            ) from exc
        if "could not convert" not in str(exc) and "Cannot cast" not in str(exc):
            raise
        how = (
            "Leave preprocessing='auto' to encode a DataFrame's text and category columns, "
            "or encode them first"
            if encodes_frames
            else "Encode text or categorical columns first"
        )
        raise ValueError(
            f"X must hold numbers (any real dtype), but {exc}. {how}, e.g. with "
            "OneHotEncoder in a ColumnTransformer."
        ) from exc


def _ragged(data) -> bool:
    """Whether numpy refuses ``data`` as an array for samples of different shapes."""
    try:
        np.asarray(data)
    except ValueError as exc:
        return "inhomogeneous shape" in str(exc)
    return False


def store_params(estimator, params: dict) -> None:
    """Set each constructor argument as an attribute of the same name, unchanged.

    Called as ``store_params(self, locals())`` as the whole body of an
    estimator's ``__init__``, whose signature ``get_params`` reads.
    """
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)
