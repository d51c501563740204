"""Weighted ridge regression in closed form, for starting networks at a linear solution."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def weighted_ridge(
    features: torch.Tensor,
    target: torch.Tensor,
    sample_weight: torch.Tensor | None = None,
    *,
    alpha: float = 1e-3,
    intercept: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Coefficients and intercept of the weighted ridge fit of ``target`` on ``features``.

    Solves ``min sum_i w_i ||t_i - b - f_i C||^2 + lam ||C||^2`` in float64
    with ``lam = alpha * mean(diag(gram))``: the penalty is relative to the
    features' mean (weighted) variance, so ``alpha`` needs no rescaling with
    the data. The intercept is not penalized; with ``intercept=False`` it is
    zero (a fit through the origin, homogeneous in the data).

    Parameters
    ----------
    features : Tensor of shape (N, F)
    target : Tensor of shape (N, K)
    sample_weight : Tensor of shape (N,), optional
    alpha : float, default=1e-3
    intercept : bool, default=True

    Returns
    -------
    coef : Tensor of shape (F, K), float64
    intercept : Tensor of shape (K,), float64

    See :func:`ridge_leverage` for leave-one-out residuals of the same fit.

    Examples
    --------
    >>> import torch
    >>> f = torch.randn(200, 3, dtype=torch.float64)
    >>> t = f @ torch.tensor([[1.0], [2.0], [0.0]], dtype=torch.float64) + 5
    >>> coef, b = weighted_ridge(f, t, alpha=0.0)
    >>> [round(v, 2) + 0.0 for v in coef.ravel().tolist()], round(b.item(), 2)
    ([1.0, 2.0, 0.0], 5.0)
    """
    features, target = features.double(), target.double()
    w = _weights(features, sample_weight)
    w = w / w.sum()
    f_mean, centred, gram = _centred_gram(features, w, intercept)
    t_mean = (w.unsqueeze(1) * target).sum(0) if intercept else target.new_zeros(target.shape[1])
    gram.diagonal().add_(_penalty(gram, alpha))
    coef = torch.linalg.solve(gram, centred.T @ (w.unsqueeze(1) * (target - t_mean)))
    return coef, t_mean - f_mean @ coef


def _weights(features: torch.Tensor, sample_weight: torch.Tensor | None) -> torch.Tensor:
    """The sample weights in float64 (ones when None), not yet normalized."""
    if sample_weight is None:
        return features.new_ones(len(features))
    return sample_weight.double()


def _centred_gram(
    features: torch.Tensor, w: torch.Tensor, intercept: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The weighted mean of the rows, the centred rows and their weighted Gram matrix,
    for weights ``w`` of shape (N,) that sum to 1 (without ``intercept``: a zero mean,
    the rows as they are)."""
    w = w.unsqueeze(1)
    mean = (w * features).sum(0) if intercept else features.new_zeros(features.shape[1])
    centred = features - mean
    return mean, centred, centred.T @ (w * centred)


def _penalty(gram: torch.Tensor, alpha: float) -> torch.Tensor:
    """What ``alpha`` adds to the Gram matrix's diagonal: relative to its mean."""
    return alpha * gram.diagonal().mean().clamp_min(1e-12)


def choose_ridge_alpha(
    features: torch.Tensor,
    target: torch.Tensor,
    sample_weight: torch.Tensor | None = None,
    *,
    alphas: Sequence[float],
    folds: int | None = 5,
    holdout: float = 0.2,
    intercept: bool = True,
    return_error: bool = False,
) -> float | tuple[float, float]:
    """The ``alpha`` of :func:`weighted_ridge` that best forecasts held-out rows.

    The rows, in the order given (for windows of a series: time order), are
    cut into ``folds`` contiguous blocks; each candidate is fitted on all
    blocks but one and scored by the weighted squared error on that one, and
    the errors are summed over the blocks: blocked cross-validation, which for
    a linear autoregression estimates the forecast error as well as a
    holdout of the last rows does, from every row (Bergmeir, Hyndman & Koo,
    2018), so one unusual stretch at the end (a crash, a spike) does not
    choose alone. ``folds=None``: the last ``holdout`` share of the rows is
    the one block, scored after a fit on the rows before it. Leave-one-out
    would not do: an overlapping neighbouring window nearly contains the
    left-out one, so it favours too small a penalty; a block shares rows
    only at its two edges. The blocks' Gram matrices are subtracted from the
    whole one, and one eigendecomposition per block serves every candidate.

    Parameters
    ----------
    features : Tensor of shape (N, F)
    target : Tensor of shape (N, K)
    sample_weight : Tensor of shape (N,), optional
    alphas : sequence of float
    folds : int or None, default=5
        Blocks (at most ``N``). A block whose other rows have no weight (one
        block, one row, or ``sample_weight`` 0 elsewhere) is forecast as
        zeros by every candidate. None: the last rows only.
    holdout : float, default=0.2
        The share of the rows held out with ``folds=None`` (at least one row).
    intercept : bool, default=True
    return_error : bool, default=False
        Also return the chosen candidate's squared error, summed over the blocks.

    Returns
    -------
    alpha : float
        The first of the best-scoring candidates.
    error : float
        Only with ``return_error=True``.

    References
    ----------
    Bergmeir, Hyndman, Koo. "A note on the validity of cross-validation for
    evaluating autoregressive time series prediction." Computational
    Statistics & Data Analysis 120 (2018).
    """
    features, target = features.double(), target.double()
    w = _weights(features, sample_weight)
    n = len(features)
    wf = w.unsqueeze(1) * features
    total = _sums(features, target, w, wf)
    if folds is None:
        blocks = [(n - max(1, math.ceil(holdout * n)), n)]
    else:
        k = max(1, min(folds, n))
        bounds = [round(n * i / k) for i in range(k + 1)]
        blocks = list(zip(bounds[:-1], bounds[1:], strict=True))
    errors = torch.zeros(len(alphas), dtype=torch.float64)
    for lo, hi in blocks:
        block = slice(lo, hi)
        held = _sums(features[block], target[block], w[block], wf[block])
        s_w, s_f, s_t, s_ff, s_ft, _ = (a - b for a, b in zip(total, held, strict=True))
        if not s_w > 1e-9 * total[0]:
            # nothing (of weight) to fit on: every candidate forecasts zeros (its sums,
            # the whole's less the block's, would be rounding errors)
            errors += float(held[5])
            continue
        f_mean = s_f / s_w if intercept else torch.zeros_like(s_f)
        t_mean = s_t / s_w if intercept else torch.zeros_like(s_t)
        gram = s_ff / s_w - torch.outer(f_mean, f_mean)
        cross = s_ft / s_w - torch.outer(f_mean, t_mean)
        eigval, eigvec = torch.linalg.eigh(gram)
        projected = eigvec.T @ cross
        # the block's weighted squared error of t - t_mean - (f - f_mean) C, from its
        # sums: sum w |u|^2 - 2 tr(C' sum w g u') + tr(C' sum w g g' C), g and u the
        # centred rows (one pass over the block, whatever the number of candidates)
        b_w, b_f, b_t, b_ff, b_ft, b_tt = held
        g_u = b_ft - torch.outer(b_f, t_mean) - torch.outer(f_mean, b_t)
        g_u = g_u + b_w * torch.outer(f_mean, t_mean)
        g_g = b_ff - torch.outer(b_f, f_mean) - torch.outer(f_mean, b_f)
        g_g = g_g + b_w * torch.outer(f_mean, f_mean)
        u_u = b_tt - 2 * t_mean @ b_t + b_w * t_mean @ t_mean
        for i, alpha in enumerate(alphas):
            shrink = (eigval.clamp_min(0) + _penalty(gram, alpha)).unsqueeze(1)
            coef = eigvec @ (projected / shrink)
            error = u_u - 2 * (coef * g_u).sum() + (coef * (g_g @ coef)).sum()
            errors[i] += float(error.clamp_min(0))
    best = int(torch.argmin(errors))  # the first of equal errors
    return (float(alphas[best]), float(errors[best])) if return_error else float(alphas[best])


def _sums(features, target, w, wf):
    """Weighted sums of the rows: weight, features, targets, their products (the
    targets' with themselves summed over the outputs)."""
    wt = w.unsqueeze(1) * target
    return (w.sum(), wf.sum(0), wt.sum(0), features.T @ wf, wf.T @ target, (wt * target).sum())


def ridge_leverage(
    features: torch.Tensor,
    sample_weight: torch.Tensor | None = None,
    *,
    alpha: float = 1e-3,
    intercept: bool = True,
    chunk: int = 8192,
) -> torch.Tensor:
    """Leverage ``h_i`` of each sample in the fit of :func:`weighted_ridge`.

    ``h_i = w_i (1 + f_i^T G^{-1} f_i)`` with ``f`` the centred features,
    ``G`` the penalized weighted Gram matrix and ``w`` the weights summing
    to 1 (without ``intercept``: ``w_i f_i^T G^{-1} f_i``, uncentred): how
    much sample ``i``'s own target moves its fitted value. The
    leave-one-out residual is ``r_i / (1 - h_i)`` (exact for least squares
    with a fixed penalty), what a held-out sample's error looks like, where
    in-sample residuals are too small when features are many.

    Returns
    -------
    leverage : Tensor of shape (N,), float64, in [0, 1)
    """
    features = features.double()
    w = _weights(features, sample_weight)
    w = w / w.sum()
    _, centred, gram = _centred_gram(features, w, intercept)
    gram.diagonal().add_(_penalty(gram, alpha))
    factor = torch.linalg.cholesky(gram)
    quad = torch.cat(
        [(torch.cholesky_solve(part.T, factor).T * part).sum(1) for part in centred.split(chunk)]
    )
    return (w * (float(intercept) + quad)).clamp(max=0.999)
