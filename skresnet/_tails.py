"""Long-tailed columns on a log scale: the rule both numeric paths of the tables share.

A column of counts or amounts that spans orders of magnitude (a film's votes,
5 to 158,000 with median 30) is a poor input to an MLP on its own scale:
standardized or robust-scaled and clipped, its lower half sits in a sliver
and its upper rows are far out or saturated. Such a column, never negative
in ``fit``, is read as ``log1p(x / s)``. Both the rule and the map are free of
the column's units. A gradient-boosted tree is indifferent to the map; an
MLP reads the column far better through it (docs/defaults.md, "Long-tailed
columns on a log scale").

Encoded frames apply it in their robust scaling (``_tabular.RobustSmoothClip``);
arrays and numeric frames inside the network, with the standardization
(``_linear_start.input_scaling``, ``modules.ResidualMLP.scale_inputs``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# A column of non-negative numbers whose positive values reach at their 99th
# percentile this many times their median (votes, budgets, counts of jobs) is
# log-scaled; its scale s is its positive values' 10th percentile.
TAIL_RATIO = 10.0
# Positive values a column needs before its tail is judged.
MIN_POSITIVE = 10


def log_scale(values: np.ndarray, ratio: float = TAIL_RATIO) -> float:
    """``s`` for :func:`signed_log` if the column ``values`` (any shape, NaN ignored)
    is log-scaled, else 0."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[~np.isnan(values)]
    positive = values[values > 0]
    if positive.size < MIN_POSITIVE or values.min() < 0:
        return 0.0
    s, median, top = np.percentile(positive, [10, 50, 99])
    return float(s) if top >= ratio * median else 0.0


def log_scales(X, ratio: float = TAIL_RATIO) -> np.ndarray:
    """:func:`log_scale` of every column of ``X`` (dense or sparse: a sparse
    column's implicit zeros count as values), shape ``(n_features,)``."""
    if not sp.issparse(X):
        X = np.asarray(X, dtype=np.float64)
        return np.array([log_scale(X[:, j], ratio) for j in range(X.shape[1])])
    X = sp.csc_matrix(X)
    # the implicit zeros are neither negative nor positive: the stored values decide
    return np.array(
        [log_scale(X.data[X.indptr[j] : X.indptr[j + 1]], ratio) for j in range(X.shape[1])]
    )


def signed_log(X, scales: np.ndarray):
    """``sign(x) log1p(|x| / s)`` in the columns whose ``scales`` is positive, the
    others as they are; dense (a copy) or sparse (zeros stay zeros)."""
    logged = np.asarray(scales) > 0
    if not logged.any():
        return X
    if sp.issparse(X):
        X = sp.csc_matrix(X, dtype=np.float64, copy=True)
        for j in np.flatnonzero(logged):
            part = X.data[X.indptr[j] : X.indptr[j + 1]]
            part[:] = np.sign(part) * np.log1p(np.abs(part) / scales[j])
        return X
    X = np.array(X, dtype=np.float64)
    part = X[:, logged]
    X[:, logged] = np.sign(part) * np.log1p(np.abs(part) / np.asarray(scales)[logged])
    return X
