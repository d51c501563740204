"""Input checks. The only module that touches scikit-learn's private helpers."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "COMMON_CONSTRAINTS",
    "Interval",
    "Integral",
    "Real",
    "StrOptions",
    "check_sample_weight",
]

COMMON_CONSTRAINTS: dict = {
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "optimizer": [StrOptions({"adamw", "adam", "sgd"})],
    "lr_schedule": [StrOptions({"cosine", "onecycle"}), None],
    "early_stopping": ["boolean"],
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
