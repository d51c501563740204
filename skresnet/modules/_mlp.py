"""Residual MLP for tabular data (Gorishniy et al., 2021)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ._average import mean_probabilities
from ._embeddings import CategoryEmbedding, PeriodicEmbedding
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
        x = _rowwise(self.norm, x)
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
    categories : sequence of int, default=()
        The last ``len(categories)`` input columns are integer codes of
        categorical columns with that many codes each; they enter the stem
        through a :class:`CategoryEmbedding` of ``d_category`` dimensions per
        column, and the linear skip does not read them.
    d_category : int, default=16
    n_members : int, default=1
        With ``k > 1`` the network is a parameter-efficient ensemble of ``k``
        members in the manner of TabM-mini (Gorishniy et al., 2024): the
        stem's output is multiplied by a vector of its own per member
        (BatchEnsemble's rank-one adapter, initialized with random signs),
        the blocks are shared and run on the ``k`` streams, and each member
        has its own head. In training mode the output holds each member's
        prediction, ``(N, k, out_features)``, so that each member is trained
        on its own loss; in eval mode the members are averaged (see
        ``member_average``).
    member_average : {"outputs", "probabilities"}, default="outputs"
        How eval mode averages the members: their outputs (regression), or
        their softmax probabilities, returned as log-probabilities so that a
        softmax of the output gives the averaged probabilities
        (classification).

    Attributes
    ----------
    input_loc, input_scale, input_log_scale : Tensor of shape (in_features - len(categories),)
        Buffers: the value columns enter as ``(x - input_loc) / input_scale``,
        after ``sign(x) log1p(|x| / input_log_scale)`` where
        ``input_log_scale`` is positive; 0, 1 and 0 (the identity) until
        :meth:`scale_inputs` sets them.

    Shapes
    ------
    x : Tensor of shape (N, in_features) -> Tensor of shape (N, out_features),
        or (N, n_members, out_features) in training mode with ``n_members > 1``

    References
    ----------
    Gorishniy, Rubachev, Khrulkov, Babenko. "Revisiting Deep Learning Models
    for Tabular Data." NeurIPS 2021.
    Gorishniy, Kotelnikov, Babenko. "TabM: Advancing Tabular Deep Learning
    with Parameter-Efficient Ensembling." ICLR 2025 (arXiv:2410.24210).

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
        categories=(),
        d_category: int = 16,
        n_members: int = 1,
        member_average: str = "outputs",
    ) -> None:
        super().__init__()
        if member_average not in ("outputs", "probabilities"):
            raise ValueError(
                f"member_average={member_average!r}; expected 'outputs' or 'probabilities'."
            )
        hidden_width = max(1, int(round(width * hidden_factor)))
        self.n_codes = len(categories)
        n_values = in_features - self.n_codes  # the columns that are values, not codes
        if not 0 <= n_embedded <= n_values:
            raise ValueError(
                f"n_embedded={n_embedded} must be in [0, {n_values}] (in_features="
                f"{in_features} minus {self.n_codes} categorical code columns)."
            )
        self.n_embedded = n_embedded
        self.embedding = PeriodicEmbedding(n_embedded, **(embedding or {})) if n_embedded else None
        self.category_embedding = (
            CategoryEmbedding(categories, d_embedding=d_category) if categories else None
        )
        stem_in = n_values - n_embedded
        stem_in += self.embedding.out_features if self.embedding is not None else 0
        stem_in += self.category_embedding.out_features if categories else 0
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
        self.n_members = n_members
        self.member_average = member_average
        if n_members > 1:
            signs = torch.randint(0, 2, (n_members, width)).float() * 2 - 1
            self.adapter = nn.Parameter(signs)
            self.head = MemberLinear(n_members, width, out_features)
        else:
            self.head = nn.Linear(width, out_features)
        self.linear_skip = nn.Linear(n_values, out_features) if linear_skip else None
        # (x - input_loc) / input_scale on the value columns, before everything else reads
        # them: the identity unless scale_inputs sets it
        self.register_buffer("input_loc", torch.zeros(n_values))
        self.register_buffer("input_scale", torch.ones(n_values))
        self.register_buffer("input_log_scale", torch.zeros(n_values))

    @torch.no_grad()
    def scale_inputs(self, loc, scale, log_scale=None) -> None:
        """Standardize the value columns inside the network: ``(x - loc) / scale``,
        after ``sign(x) log1p(|x| / log_scale)`` in the columns of positive
        ``log_scale``.

        Parameters
        ----------
        loc, scale : array-like of shape (in_features - len(categories),)
        log_scale : array-like of shape (in_features - len(categories),), default=None
            None: no column on a log scale.
        """
        self.input_loc.copy_(torch.as_tensor(loc, dtype=self.input_loc.dtype))
        self.input_scale.copy_(torch.as_tensor(scale, dtype=self.input_scale.dtype))
        logs = torch.zeros_like(self.input_loc) if log_scale is None else log_scale
        self.input_log_scale.copy_(torch.as_tensor(logs, dtype=self.input_loc.dtype))

    @torch.no_grad()
    def start_linear(self, coef: torch.Tensor, intercept: torch.Tensor) -> None:
        """Make the network compute ``x @ coef + intercept``: set the linear skip, zero the head.

        Parameters
        ----------
        coef : Tensor of shape (in_features - len(categories), out_features)
            On the value columns (the code columns are not read).
        intercept : Tensor of shape (out_features,)
        """
        if self.linear_skip is None:
            raise ValueError("start_linear needs a network built with linear_skip=True.")
        self.linear_skip.weight.copy_(torch.as_tensor(coef).T)
        self.linear_skip.bias.copy_(torch.as_tensor(intercept))
        self.head.weight.zero_()
        self.head.bias.zero_()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Residual stream after the last block, shape ``(N, width)``, or
        ``(N, n_members, width)`` for an ensemble."""
        values, codes = self._split(x)
        parts = [values]
        if self.embedding is not None:
            k = self.n_embedded
            parts = [self.embedding(values[:, :k]), values[:, k:]]
        if self.category_embedding is not None:
            parts.append(self.category_embedding(codes))
        h = self.stem(torch.cat(parts, dim=1) if len(parts) > 1 else parts[0])
        if self.n_members > 1:
            h = h.unsqueeze(1) * self.adapter
        return self.blocks(h)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The value columns and the categorical code columns (None without any)."""
        values, codes = x, None
        if self.n_codes:
            values, codes = x[:, : -self.n_codes], x[:, -self.n_codes :]
        log_scale = getattr(self, "input_log_scale", None)  # None: pickled before it
        if log_scale is not None:
            logged = log_scale > 0
            safe = torch.where(logged, log_scale, torch.ones_like(log_scale))
            signed = torch.sign(values) * torch.log1p(values.abs() / safe)
            values = torch.where(logged, signed, values)
        loc = getattr(self, "input_loc", None)  # None in networks pickled before it
        if loc is not None:
            values = (values - loc) / self.input_scale
        return values, codes

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        """Map features of shape ``(N, [k,] width)`` to outputs ``(N, [k,] out_features)``."""
        return self.head(self.head_act(_rowwise(self.head_norm, x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.forward_head(self.forward_features(x))
        if self.linear_skip is not None:
            skip = self.linear_skip(self._split(x)[0])
            out = out + (skip.unsqueeze(1) if self.n_members > 1 else skip)
        if self.n_members == 1 or self.training:
            return out
        if self.member_average == "probabilities":
            return mean_probabilities(out, dim=1)
        return out.mean(dim=1)


class MemberLinear(nn.Module):
    """``k`` linear maps, one per ensemble member: ``(N, k, in) -> (N, k, out)``.

    Initialized as ``nn.Linear`` is, each member on its own.

    Parameters
    ----------
    n_members, in_features, out_features : int
    """

    def __init__(self, n_members: int, in_features: int, out_features: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        shape = (n_members, in_features, out_features)
        self.weight = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_members, out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nki,kio->nko", x, self.weight) + self.bias


def _rowwise(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``norm`` on each row of the last dimension (a batch norm sees ``(N * k, width)``)."""
    if x.ndim == 2 or not isinstance(norm, nn.modules.batchnorm._BatchNorm):
        return norm(x)
    return norm(x.flatten(0, -2)).view_as(x)
