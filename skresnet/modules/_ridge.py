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
