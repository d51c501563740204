"""The linear start of the tabular networks: begin training at a fitted linear model.

The residual MLP gets a linear skip from its input to its outputs, set to a
scikit-learn linear model fitted on the training rows, and a zeroed head, so
the network's first predictions are the linear model's and the residual
blocks learn what it misses. With early stopping on held-out rows, the
default cannot end far below the linear model (docs/defaults.md).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._data import TensorData
from ._tails import log_scales, signed_log

# Rows the linear model is fitted on at most (a seeded sample beyond), so the
# start stays a small part of the fit on large tables.
MAX_ROWS = 20_000
RIDGE_ALPHAS = np.logspace(-3, 3, 13)
# Beyond this many columns RidgeCV's leave-one-out (an eigendecomposition of the
# columns' Gram matrix, then a pass over it per penalty) costs more than the training:
# MovieLens' ~5,000 one-hot columns (docs' ColumnTransformer recipe) took 52 s of an
# 80 s fit. There the penalty is chosen on a seeded fifth of the rows instead, each
# candidate fitted by scikit-learn's iterative solvers on the other four fifths.
WIDE_COLUMNS = 1000


def _rows(train: TensorData, seed: int, n_features: int | None, scaling=None):
    """The (sampled) training rows as arrays; ``scaling``: ``(loc, scale, log_scale)``
    of the value columns, as the network applies it (:func:`input_scaling`)."""
    n = len(train)
    index = np.arange(n)
    if n > MAX_ROWS:
        index = np.sort(np.random.default_rng(seed).choice(n, MAX_ROWS, replace=False))
    X = train.X[index] if sp.issparse(train.X) else train.X[index].reshape(len(index), -1).numpy()
    X = X if n_features is None else X[:, :n_features]
    if scaling is not None:  # divided only: the intercept takes the centring (_centred)
        X = signed_log(X, scaling[2])
        X = X @ sp.diags(1.0 / scaling[1]) if sp.issparse(X) else X / scaling[1]
    y = train.y[index].numpy()
    w = None if train.w is None else train.w[index].numpy()
    return X, y, w


def ridge_start(
    train: TensorData, seed: int, n_features: int | None = None, scaling=None
) -> tuple[np.ndarray, np.ndarray]:
    """``RidgeCV`` (efficient leave-one-out over 13 alphas) on the standardized targets,
    from the first ``n_features`` columns (None: all; the rest are category codes),
    scaled by ``scaling`` (:func:`input_scaling`; None: as they are).

    Returns
    -------
    coef : ndarray of shape (n_features, n_outputs)
    intercept : ndarray of shape (n_outputs,)
    """
    X, y, w = _rows(train, seed, n_features, scaling)
    from sklearn.linear_model import RidgeCV  # imported on first use: 0.17 s

    if X.shape[1] > WIDE_COLUMNS and X.shape[0] >= 10:
        model = _holdout_ridge(X, y, w, seed)
    else:
        # Two or three rows leave leave-one-out errors of 0 / 0, which numpy warns
        # about from inside scikit-learn; the start need not be the best penalty's.
        with np.errstate(divide="ignore", invalid="ignore"):
            model = RidgeCV(alphas=RIDGE_ALPHAS).fit(X, y, sample_weight=w)
    coef = np.atleast_2d(model.coef_).T
    return coef, _centred(np.atleast_1d(model.intercept_), coef, scaling)


def _holdout_ridge(X, y, w, seed: int):
    """``Ridge`` refitted on every row at the penalty of ``RIDGE_ALPHAS`` whose fit on
    four fifths of the rows (a seeded split) errs least on the fifth left out, in
    squared error weighted by ``w``, for inputs wider than ``WIDE_COLUMNS``."""
    from sklearn.linear_model import Ridge

    n = X.shape[0]
    held = np.zeros(n, dtype=bool)
    held[np.random.default_rng(seed).choice(n, n // 5, replace=False)] = True
    weight = np.ones(n) if w is None else np.asarray(w, dtype=float)
    rows = int(held.sum())  # (n,) and (n, 1) targets alike
    errors = []
    for alpha in RIDGE_ALPHAS:
        fitted = Ridge(alpha=alpha).fit(X[~held], y[~held], sample_weight=weight[~held])
        residual = fitted.predict(X[held]).reshape(rows, -1) - y[held].reshape(rows, -1)
        errors.append(float(weight[held] @ (residual**2).sum(axis=1)))
    best = RIDGE_ALPHAS[int(np.argmin(errors))]
    return Ridge(alpha=best).fit(X, y, sample_weight=w)


def _centred(intercept: np.ndarray, coef: np.ndarray, scaling) -> np.ndarray:
    """The intercept of the same model on ``(x - loc) / scale`` as ``coef`` and
    ``intercept`` on ``x / scale`` (an unpenalized intercept makes them one fit)."""
    if scaling is None:
        return intercept
    loc, scale = scaling[:2]
    return intercept + (np.asarray(loc) / np.asarray(scale)) @ coef


# The binary start's inverse penalty is chosen among these (strongest penalty first)
# by the log-loss on a seeded fifth of the rows held out (_held_out_c): at C=1 the
# start of ISLR's Caravan (85 integer-coded columns, 6% positives) overfits, and early
# stopping keeps the network near it (docs/defaults.md).
LOGISTIC_CS = (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
# Fewer rows than this, or fewer held-out rows of a class than MIN_HELD_PER_CLASS,
# keep C=1: a handful of rows cannot rank seven penalties.
MIN_ROWS_TO_CHOOSE_C = 50
MIN_HELD_PER_CLASS = 5


def _held_out_c(X, y: np.ndarray, w, seed: int) -> float:
    """The ``C`` of :data:`LOGISTIC_CS` whose ``LogisticRegression`` fitted on four
    fifths of the rows (a seeded split, stratified by class) has the lowest log-loss,
    weighted by ``w``, on the fifth left out; the path is fitted with warm starts."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    n = len(y)
    if n < MIN_ROWS_TO_CHOOSE_C:
        return 1.0
    rng = np.random.default_rng(seed)
    held = np.zeros(n, dtype=bool)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        count = len(rows) // 5
        if count < MIN_HELD_PER_CLASS:
            return 1.0
        held[rng.choice(rows, count, replace=False)] = True
    weight = np.ones(n) if w is None else np.asarray(w, dtype=float)
    model = LogisticRegression(max_iter=200, warm_start=True)
    losses = []
    for C in LOGISTIC_CS:
        model.set_params(C=C).fit(X[~held], y[~held], sample_weight=weight[~held])
        proba = model.predict_proba(X[held])
        losses.append(log_loss(y[held], proba, sample_weight=weight[held], labels=model.classes_))
    return LOGISTIC_CS[int(np.argmin(losses))]


def logistic_start(
    train: TensorData, n_classes: int, seed: int, n_features: int | None = None, scaling=None
):
    """``LogisticRegression`` (L2) logits: coefficients for every class, from the
    first ``n_features`` columns, scaled by ``scaling``, as :func:`ridge_start`;
    ``C`` chosen on held-out rows (:func:`_held_out_c`) for two classes, 1 for more.

    A binary model's single score ``z`` becomes the logits ``(-z/2, z/2)``,
    which give the same probabilities under a softmax.

    Returns
    -------
    coef : ndarray of shape (n_features, n_classes)
    intercept : ndarray of shape (n_classes,)
    """
    X, y, w = _rows(train, seed, n_features, scaling)
    present = np.unique(y)
    with warnings.catch_warnings():
        # A start need not be converged: training goes on from it.
        warnings.simplefilter("ignore", ConvergenceWarning)
        from sklearn.linear_model import LogisticRegression

        C = _held_out_c(X, y, w, seed) if len(present) == 2 else 1.0
        model = LogisticRegression(C=C, max_iter=200).fit(X, y, sample_weight=w)
    coef = np.zeros((X.shape[1], n_classes))
    intercept = np.zeros(n_classes)
    if len(present) == 2:
        coef[:, present[0]], coef[:, present[1]] = -model.coef_[0] / 2, model.coef_[0] / 2
        intercept[present] = -model.intercept_[0] / 2, model.intercept_[0] / 2
    else:
        coef[:, present] = model.coef_.T
        intercept[present] = model.intercept_
    intercept = _centred(intercept, coef, scaling)
    # Classes without training rows start far below the others.
    absent = np.setdiff1d(np.arange(n_classes), present)
    intercept[absent] = intercept[present].min() - 10.0
    return coef, intercept


# A dense input's value column reaching beyond +-UNIT_BOUND in the training rows
# (years, prices, areas in their units) is standardized inside the network; columns
# already of order one (a StandardScaler's output, 0/1 indicators, one-hot codes) pass
# unchanged. Ames' numeric columns as they come: R^2 0.840, first epochs at -4
# (docs/defaults.md). So is a column that stays within +-SMALL_BOUND (and is not all
# zeros): a measure in units too large for it (1e-6 of a unit, a rare event's rate)
# would enter as a near-constant input (R^2 0.002 at 1e-30 of its units, 0.99 scaled).
UNIT_BOUND = 10.0
SMALL_BOUND = 0.1


def input_scaling(train: TensorData, seed: int, n_values: int):
    """``(loc, scale, log_scale)`` for :meth:`ResidualMLP.scale_inputs`, from the
    first ``n_values`` columns of the (sampled) training rows.

    A long-tailed column (:mod:`skresnet._tails`) is read as ``log1p(x / s)``
    (``log_scale``: its ``s``, 0 for the other columns); then each column
    logged, reaching beyond :data:`UNIT_BOUND` or staying within
    :data:`SMALL_BOUND` gets its mean and standard
    deviation as ``loc`` and ``scale``, the others 0 and 1 (sparse input too:
    the network centres it batch by batch). None when no column needs either.
    """
    X = _rows(train, seed, n_values)[0]
    log_scale = log_scales(X)
    X = signed_log(X, log_scale)
    if sp.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis

        X = sp.csr_matrix(X, dtype=np.float64)
        low, high = min_max_axis(X, axis=0)
        mean, var = mean_variance_axis(X, axis=0)
        largest, std = np.maximum(np.abs(low), np.abs(high)), np.sqrt(var)
    else:
        X = np.asarray(X, dtype=np.float64)
        largest = np.nanmax(np.abs(X), axis=0, initial=0.0)
        mean, std = np.nanmean(X, axis=0), np.nanstd(X, axis=0)
    small = (largest > 0) & (largest < SMALL_BOUND)
    scaled = (largest > UNIT_BOUND) | small | (log_scale > 0)
    if not scaled.any():
        return None
    loc = np.where(scaled, mean, 0.0)
    scale = np.where(scaled & (std > 0), std, 1.0)
    return loc, scale, log_scale
