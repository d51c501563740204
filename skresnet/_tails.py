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

import warnings

import numpy as np
import scipy.sparse as sp

# A column of non-negative numbers whose positive values reach at their 99th
# percentile this many times their median (votes, budgets, counts of jobs) is
# log-scaled; its scale s is its positive values' 10th percentile.
TAIL_RATIO = 10.0
# Positive values a column needs before its tail is judged.
MIN_POSITIVE = 10


def log_scales(X, ratio: float = TAIL_RATIO) -> np.ndarray:
    """``s`` for :func:`signed_log` of every column of ``X`` that is log-scaled, 0
    for the others, shape ``(n_features,)``. A column is log-scaled where it has no
    negative value and at least :data:`MIN_POSITIVE` positive ones whose 99th
    percentile is ``ratio`` times their median or more; ``s`` is their 10th
    percentile. Dense or sparse (a sparse column's implicit zeros count as values);
    NaN are ignored. No Python loop over the columns: a wide sparse matrix (tf-idf)
    costs what its stored values cost."""
    if sp.issparse(X):
        X = sp.csc_matrix(X)
        # the implicit zeros are neither negative nor positive: the stored values decide
        values = np.asarray(X.data, dtype=np.float64)
        columns = np.repeat(np.arange(X.shape[1]), np.diff(X.indptr))
        negative = np.bincount(columns[values < 0], minlength=X.shape[1]) > 0
        positive = values > 0
        values, columns = values[positive], columns[positive]
        counts = np.bincount(columns, minlength=X.shape[1])
        ordered = values[np.lexsort((values, columns))]  # by column, then value
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        s, median, top = (_percentile(ordered, starts, counts, q) for q in (10, 50, 99))
    else:
        X = np.asarray(X, dtype=np.float64)
        negative = (X < 0).any(axis=0)
        positive = X > 0
        counts = positive.sum(axis=0)
        if X.size:
            with warnings.catch_warnings():  # a column without positive values: NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                only = np.where(positive, X, np.nan)
                s, median, top = np.nanpercentile(only, [10, 50, 99], axis=0)
        else:
            s = median = top = np.zeros(X.shape[1])
    tailed = (counts >= MIN_POSITIVE) & ~negative & (top >= ratio * median)
    return np.where(tailed, s, 0.0)


def _percentile(ordered, starts, counts, q: float) -> np.ndarray:
    """The ``q``-th percentile of each column's ``counts[j]`` values at
    ``ordered[starts[j]:]`` (sorted), as ``np.percentile`` interpolates it
    (its linear method, to the last bit); 0 where a column has none."""
    position = np.maximum(counts - 1, 0) * (q / 100.0)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(counts - 1, 0))
    last = max(ordered.size - 1, 0)
    padded = ordered if ordered.size else np.zeros(1)
    a = padded[np.minimum(starts + low, last)]
    b = padded[np.minimum(starts + high, last)]
    t = position - low  # a column without values reads another's: masked below
    value = np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)
    return np.where(counts > 0, value, 0.0)


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
