"""Embeddings of numeric features for tabular networks (Gorishniy et al., 2022)."""

from __future__ import annotations

import math

import torch
from torch import nn


class PeriodicEmbedding(nn.Module):
    """Periodic embeddings of numeric features, with the value itself kept beside them.

    For each feature ``x_j``: ``v = [cos(2 pi c_j x_j), sin(2 pi c_j x_j)]`` with
    ``n_frequencies`` trainable frequencies ``c_j`` drawn from
    ``N(0, frequency_scale^2)``, then ``ReLU(W_j v + b_j)`` with a linear map
    of its own per feature, and ``x_j`` appended ("PLR" embeddings of
    Gorishniy et al., 2022; RealMLP's PBLD keeps the value beside them the
    same way, Holzmueller et al., 2024). They let an MLP fit functions of a
    feature with steps and bumps, which trees find easily and a plain
    linear stem hardly does.

    Parameters
    ----------
    n_features : int
    n_frequencies : int, default=16
    d_embedding : int, default=8
    frequency_scale : float, default=0.1
        Standard deviation of the initial frequencies, for inputs of order one.

    Shapes
    ------
    x : Tensor of shape (N, n_features) -> Tensor of shape (N, n_features * (d_embedding + 1))

    References
    ----------
    Gorishniy, Rubachev, Babenko. "On Embeddings for Numerical Features in
    Tabular Deep Learning." NeurIPS 2022.
    """

    def __init__(
        self,
        n_features: int,
        *,
        n_frequencies: int = 16,
        d_embedding: int = 8,
        frequency_scale: float = 0.1,
    ) -> None:
        super().__init__()
        self.frequencies = nn.Parameter(torch.randn(n_features, n_frequencies) * frequency_scale)
        bound = 1.0 / math.sqrt(2 * n_frequencies)
        self.weight = nn.Parameter(
            torch.empty(n_features, 2 * n_frequencies, d_embedding).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(n_features, d_embedding).uniform_(-bound, bound))
        self.out_features = n_features * (d_embedding + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        angles = 2 * math.pi * x[..., None] * self.frequencies  # (N, F, k)
        periodic = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)  # (N, F, 2k)
        embedded = torch.relu(torch.einsum("nfk,fkd->nfd", periodic, self.weight) + self.bias)
        return torch.cat([embedded, x[..., None]], dim=-1).flatten(1)


class CategoryEmbedding(nn.Module):
    """A learned vector for each level of each categorical column, from integer codes.

    One table holds every column's levels (each column's codes offset past
    the previous columns'), initialized uniformly in
    ``[-1/sqrt(d), 1/sqrt(d)]`` as the embeddings of Gorishniy et al. (2021)
    are. Codes outside ``[0, cardinality)`` are clamped into it.

    Parameters
    ----------
    cardinalities : sequence of int
        Codes per column.
    d_embedding : int, default=16

    Shapes
    ------
    codes : Tensor of shape (N, n_columns), integer values (any dtype)
        -> Tensor of shape (N, n_columns * d_embedding)
    """

    def __init__(self, cardinalities, *, d_embedding: int = 16) -> None:
        super().__init__()
        cardinalities = [int(c) for c in cardinalities]
        if not cardinalities or min(cardinalities) < 1:
            raise ValueError(f"cardinalities={cardinalities} must be positive integers.")
        offsets = torch.tensor([0, *cardinalities[:-1]]).cumsum(0)
        self.register_buffer("offsets", offsets, persistent=False)
        self.register_buffer("last", torch.tensor(cardinalities) - 1, persistent=False)
        bound = 1.0 / math.sqrt(d_embedding)
        self.table = nn.Parameter(
            torch.empty(sum(cardinalities), d_embedding).uniform_(-bound, bound)
        )
        self.out_features = len(cardinalities) * d_embedding

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        index = torch.minimum(codes.long().clamp_min(0), self.last) + self.offsets
        return nn.functional.embedding(index, self.table).flatten(1)
