"""Losses the skorch criteria do not provide."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class PinballLoss(nn.Module):
    """The pinball (quantile) loss of several quantiles at once, unreduced.

    For level ``q`` and error ``e = y - f_q``: ``max(q e, (q - 1) e)``, whose
    expectation is minimized by the ``q``-quantile of ``y`` (Koenker &
    Bassett, 1978). Elementwise, like the other criteria with
    ``reduction="none"``; the estimators average it.

    Parameters
    ----------
    quantiles : sequence of float in (0, 1)

    Shapes
    ------
    input : Tensor of shape (N, *, n_quantiles), target : Tensor of shape (N, *)
        -> Tensor of shape (N, *, n_quantiles)

    Examples
    --------
    >>> import torch
    >>> loss = PinballLoss([0.1, 0.9])
    >>> loss(torch.zeros(1, 2), torch.ones(1)).tolist()  # under-forecast by 1
    [[0.10000000149011612, 0.8999999761581421]]
    """

    def __init__(self, quantiles: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("quantiles", torch.as_tensor(quantiles, dtype=torch.float32))

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        error = target.unsqueeze(-1) - input
        return torch.maximum(self.quantiles * error, (self.quantiles - 1) * error)
