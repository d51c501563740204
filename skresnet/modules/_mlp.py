"""Residual MLP for tabular data (Gorishniy et al., 2021)."""

from __future__ import annotations

import torch
from torch import nn

from ._embeddings import PeriodicEmbedding
from ._layers import ActivationLike, Dropout, get_activation, get_tabular_norm


class ResidualMLPBlock(nn.Module):
    """One residual block of the tabular ResNet.

    ``y = x + Dropout(Linear(Dropout(Act(Linear(Norm(x))))))``: the block of
    Gorishniy et al. (2021), Section 3.2, with a pre-activation layout, so the
    identity path from input to head is never normalized or activated.

    Parameters
    ----------
    width : int
        Size ``d`` of the residual stream.
    hidden_width : int
        Size of the inner layer (``d_hidden`` in the paper).
    dropout : float, default=0.0
        Dropout after the activation and after the second linear layer.
    activation : str or nn.Module class, default="relu"
    norm : {"layer", "batch", None}, default="layer"
    skip_connection : bool, default=True
        With ``False`` the block returns ``F(x)`` instead of ``F(x) + x``.

    Shapes
    ------
    x : Tensor of shape (N, width) -> Tensor of shape (N, width)
    """

    def __init__(
        self,
        width: int,
        hidden_width: int,
        *,
        dropout: float = 0.0,
        activation: ActivationLike = "relu",
        norm: str | None = "layer",
        skip_connection: bool = True,
    ) -> None:
        super().__init__()
        self.norm = get_tabular_norm(norm, width)
        self.linear1 = nn.Linear(width, hidden_width)
        self.act = get_activation(activation)
        self.drop1 = Dropout(dropout)
        self.linear2 = nn.Linear(hidden_width, width)
        self.drop2 = Dropout(dropout)
        self.skip_connection = skip_connection

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.norm(x)
        x = self.drop1(self.act(self.linear1(x)))
        x = self.drop2(self.linear2(x))
        if self.skip_connection:
            x = x + shortcut
        return x


class ResidualMLP(nn.Module):
    """Tabular ResNet: a linear stem, residual blocks and a normalized head.

    ``Linear -> ResidualMLPBlock x n_blocks -> Norm -> Act -> Linear``, the
    "ResNet" baseline of Gorishniy et al. (2021), Section 3.2.

    Parameters
    ----------
    in_features : int
        Number of input columns.
    out_features : int
        Number of outputs (classes for a classifier, targets for a regressor).
    n_blocks : int, default=2
        Number of residual blocks.
    width : int, default=128
        Size of the residual stream (``d`` in the paper).
    hidden_factor : float, default=2.0
        Inner layer size as a multiple of ``width`` (the paper tunes it in
        ``[1, 4]``).
    dropout : float, default=0.1
    activation : str or nn.Module class, default="relu"
    norm : {"layer", "batch", None}, default="layer"
        The paper uses batch norm; layer norm is the default here because it
        treats every row on its own, so predictions do not depend on what
        else is in the batch and sample weights act exactly as repeated rows.
    skip_connections : bool, default=True
        ``False`` builds the same network without shortcuts (the "plain"
        network of He et al., 2016).
    linear_skip : bool, default=False
        Add a linear map from the input straight to the outputs. With
        :meth:`start_linear` the network then starts as a given linear model
        (the head is zeroed), and the blocks learn only what it misses.
    n_embedded : int, default=0
        The first ``n_embedded`` input columns (numeric features of order
        one) enter the stem through a :class:`PeriodicEmbedding` each
        (Gorishniy et al., 2022); the linear skip still reads them as they
        are.
    embedding : dict or None, default=None
        Keyword arguments of that :class:`PeriodicEmbedding`.

    Shapes
    ------
    x : Tensor of shape (N, in_features) -> Tensor of shape (N, out_features)

    References
    ----------
    Gorishniy, Rubachev, Khrulkov, Babenko. "Revisiting Deep Learning Models
    for Tabular Data." NeurIPS 2021.

    Examples
    --------
    >>> import torch
    >>> net = ResidualMLP(10, 3, n_blocks=2, width=32)
    >>> net(torch.randn(4, 10)).shape
    torch.Size([4, 3])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        n_blocks: int = 2,
        width: int = 128,
        hidden_factor: float = 2.0,
        dropout: float = 0.1,
        activation: ActivationLike = "relu",
        norm: str | None = "layer",
        skip_connections: bool = True,
        linear_skip: bool = False,
        n_embedded: int = 0,
        embedding: dict | None = None,
    ) -> None:
        super().__init__()
        hidden_width = max(1, int(round(width * hidden_factor)))
        if not 0 <= n_embedded <= in_features:
            raise ValueError(f"n_embedded={n_embedded} must be in [0, in_features={in_features}].")
        self.n_embedded = n_embedded
        self.embedding = PeriodicEmbedding(n_embedded, **(embedding or {})) if n_embedded else None
        stem_in = in_features - n_embedded
        stem_in += self.embedding.out_features if self.embedding is not None else 0
        self.stem = nn.Linear(stem_in, width)
        self.blocks = nn.Sequential(
            *(
                ResidualMLPBlock(
                    width,
                    hidden_width,
                    dropout=dropout,
                    activation=activation,
                    norm=norm,
                    skip_connection=skip_connections,
                )
                for _ in range(n_blocks)
            )
        )
        self.head_norm = get_tabular_norm(norm, width)
        self.head_act = get_activation(activation)
        self.head = nn.Linear(width, out_features)
        self.linear_skip = nn.Linear(in_features, out_features) if linear_skip else None

    @torch.no_grad()
    def start_linear(self, coef: torch.Tensor, intercept: torch.Tensor) -> None:
        """Make the network compute ``x @ coef + intercept``: set the linear skip, zero the head.

        Parameters
        ----------
        coef : Tensor of shape (in_features, out_features)
        intercept : Tensor of shape (out_features,)
        """
        if self.linear_skip is None:
            raise ValueError("start_linear needs a network built with linear_skip=True.")
        self.linear_skip.weight.copy_(torch.as_tensor(coef).T)
        self.linear_skip.bias.copy_(torch.as_tensor(intercept))
        self.head.weight.zero_()
        self.head.bias.zero_()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Residual stream after the last block, shape ``(N, width)``."""
        if self.embedding is not None:
            k = self.n_embedded
            x = torch.cat([self.embedding(x[:, :k]), x[:, k:]], dim=1)
        return self.blocks(self.stem(x))

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        """Map features of shape ``(N, width)`` to outputs ``(N, out_features)``."""
        return self.head(self.head_act(self.head_norm(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.forward_head(self.forward_features(x))
        if self.linear_skip is not None:
            out = out + self.linear_skip(x)
        return out
