"""Input checks. The only module that touches scikit-learn's private helpers."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval as _Interval
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_sample_weight, _check_y, _num_samples

__all__ = [
    "COMMON_CONSTRAINTS",
    "Interval",
    "Integral",
    "Real",
    "StrOptions",
    "_check_y",
    "_num_samples",
    "_safe_indexing",
    "check_int_tuple",
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
    "device": [str],
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
