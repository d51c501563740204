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
    holdout: float = 0.2,
    intercept: bool = True,
    return_error: bool = False,
) -> float | tuple[float, float]:
    """The ``alpha`` of :func:`weighted_ridge` that best forecasts the last rows.

    Each candidate is fitted on the first rows and scored by the weighted
    squared error on the last ``holdout`` share, in the order given: for
    windows of a series in time order, a forecast of later windows from
    earlier ones, which leave-one-out is not (a neighbouring, overlapping
    window nearly contains the left-out one, so leave-one-out favours too
    small a penalty). One eigendecomposition of the Gram matrix serves
    every candidate.

    Parameters
    ----------
    features : Tensor of shape (N, F)
    target : Tensor of shape (N, K)
    sample_weight : Tensor of shape (N,), optional
    alphas : sequence of float
    holdout : float, default=0.2
    intercept : bool, default=True
    return_error : bool, default=False
        Also return the chosen candidate's weighted squared error on the last rows.

    Returns
    -------
    alpha : float
        The first of the best-scoring candidates.
    error : float
        Only with ``return_error=True``.
    """
    features, target = features.double(), target.double()
    w = _weights(features, sample_weight)
    n_valid = max(1, math.ceil(holdout * len(features)))
    fit, valid = slice(0, len(features) - n_valid), slice(len(features) - n_valid, None)
    w_fit = w[fit] / w[fit].sum().clamp_min(1e-12)
    f_mean, centred, gram = _centred_gram(features[fit], w_fit, intercept)
    w_fit = w_fit.unsqueeze(1)
    t_mean = (w_fit * target[fit]).sum(0) if intercept else target.new_zeros(target.shape[1])
    eigval, eigvec = torch.linalg.eigh(gram)
    projected = eigvec.T @ (centred.T @ (w_fit * (target[fit] - t_mean)))
    errors = []
    for alpha in alphas:
        coef = eigvec @ (projected / (eigval.clamp_min(0) + _penalty(gram, alpha)).unsqueeze(1))
        residual = target[valid] - t_mean - (features[valid] - f_mean) @ coef
        errors.append(float((w[valid] * residual.pow(2).sum(1)).sum()))
    best = min(range(len(errors)), key=errors.__getitem__)
    return (float(alphas[best]), errors[best]) if return_error else float(alphas[best])


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
