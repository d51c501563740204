"""Averaging networks: several classifiers' probabilities, or regressors' outputs, as one."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class _NetworkAverage(nn.Module):
    """Several networks of the same input, held as ``networks`` (at least one)."""

    def __init__(self, networks: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(networks) < 1:
            raise ValueError(f"{type(self).__name__} needs at least one network.")
        self.networks = nn.ModuleList(networks)


class ProbabilityAverage(_NetworkAverage):
    """The mean of several classifiers' class probabilities.

    Each network maps the same input to class logits; their softmax
    probabilities are averaged, and the result is returned as
    log-probabilities, so that a softmax (or a cross-entropy loss) of the
    output reads the averaged probabilities. Averaging probabilities rather
    than logits keeps a confident member from outvoting the others (as deep
    ensembles do, Lakshminarayanan et al., 2017). The mean is taken in
    float64 and returned in the networks' dtype.

    Parameters
    ----------
    networks : sequence of nn.Module
        Classifiers of the same input and the same number of classes.

    Shapes
    ------
    - input: whatever the networks take, ``(N, ...)``
    - output: ``(N, n_classes)`` log-probabilities

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> avg = ProbabilityAverage([nn.Linear(4, 3), nn.Linear(4, 3)])
    >>> out = avg(torch.randn(5, 4))
    >>> out.shape, bool(torch.allclose(out.exp().sum(dim=1), torch.ones(5)))
    (torch.Size([5, 3]), True)
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.stack([net(x) for net in self.networks])
        # in float64: vectorized float32 exp/log round a row's last bit differently by its
        # position in the batch, so a prediction would depend on the row order (1e-7)
        return mean_probabilities(logits.double(), dim=0).to(logits.dtype)


class OutputAverage(_NetworkAverage):
    """The mean of several regressors' outputs.

    Each network maps the same input to outputs of the same shape; their
    mean is returned. A bagged ensemble's prediction (Breiman, 1996): the
    members differ by their seeds and their validation rows, and their mean
    varies less than any one of them.

    Parameters
    ----------
    networks : sequence of nn.Module
        Regressors of the same input and output shapes.

    Shapes
    ------
    - input: whatever the networks take, ``(N, ...)``
    - output: the networks' output shape, ``(N, n_outputs)``

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> avg = OutputAverage([nn.Linear(4, 2), nn.Linear(4, 2)])
    >>> avg(torch.randn(5, 4)).shape
    torch.Size([5, 2])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([net(x) for net in self.networks]).mean(dim=0)


def mean_probabilities(logits: torch.Tensor, dim: int) -> torch.Tensor:
    """The mean over ``dim`` of the softmax probabilities of ``logits`` (classes on the
    last dimension), as log-probabilities."""
    return torch.logsumexp(torch.log_softmax(logits, dim=-1), dim=dim) - math.log(logits.shape[dim])
