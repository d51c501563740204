"""Weighted ridge regression in closed form, for starting networks at a linear solution."""

from __future__ import annotations

import torch


def weighted_ridge(
    features: torch.Tensor,
    target: torch.Tensor,
    sample_weight: torch.Tensor | None = None,
    *,
    alpha: float = 1e-3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Coefficients and intercept of the weighted ridge fit of ``target`` on ``features``.

    Solves ``min sum_i w_i ||t_i - b - f_i C||^2 + lam ||C||^2`` in float64
    with ``lam = alpha * mean(diag(gram))``: the penalty is relative to the
    features' mean (weighted) variance, so ``alpha`` needs no rescaling with
    the data. The intercept is not penalized.

    Parameters
    ----------
    features : Tensor of shape (N, F)
    target : Tensor of shape (N, K)
    sample_weight : Tensor of shape (N,), optional
    alpha : float, default=1e-3

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
    w = features.new_ones(len(features)) if sample_weight is None else sample_weight.double()
    w = (w / w.sum()).unsqueeze(1)
    f_mean, t_mean = (w * features).sum(0), (w * target).sum(0)
    features, target = features - f_mean, target - t_mean
    gram = features.T @ (w * features)
    gram.diagonal().add_(alpha * gram.diagonal().mean().clamp_min(1e-12))
    coef = torch.linalg.solve(gram, features.T @ (w * target))
    return coef, t_mean - f_mean @ coef


def ridge_leverage(
    features: torch.Tensor,
    sample_weight: torch.Tensor | None = None,
    *,
    alpha: float = 1e-3,
    chunk: int = 8192,
) -> torch.Tensor:
    """Leverage ``h_i`` of each sample in the fit of :func:`weighted_ridge`.

    ``h_i = w_i (1 + f_i^T G^{-1} f_i)`` with ``f`` the centred features,
    ``G`` the penalized weighted Gram matrix and ``w`` the weights summing
    to 1: how much sample ``i``'s own target moves its fitted value. The
    leave-one-out residual is ``r_i / (1 - h_i)`` (exact for least squares
    with a fixed penalty), what a held-out sample's error looks like, where
    in-sample residuals are too small when features are many.

    Returns
    -------
    leverage : Tensor of shape (N,), float64, in [0, 1)
    """
    features = features.double()
    w = features.new_ones(len(features)) if sample_weight is None else sample_weight.double()
    w = w / w.sum()
    centred = features - (w.unsqueeze(1) * features).sum(0)
    gram = centred.T @ (w.unsqueeze(1) * centred)
    gram.diagonal().add_(alpha * gram.diagonal().mean().clamp_min(1e-12))
    factor = torch.linalg.cholesky(gram)
    quad = torch.cat(
        [(torch.cholesky_solve(part.T, factor).T * part).sum(1) for part in centred.split(chunk)]
    )
    return (w * (1 + quad)).clamp(max=0.999)
