"""1-D ResNet for time-series classification (Wang, Yan & Oates, 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._layers import ActivationLike, get_activation


class ResNet1DBlock(nn.Module):
    """Three 'same'-padded convolutions with batch norm, plus the shortcut.

    ``y = Act(BN(Conv_k3(Act(BN(Conv_k2(Act(BN(Conv_k1(x))))))) + shortcut(x))``
    where the shortcut is a 1x1 convolution with batch norm when the number
    of channels changes and batch norm alone otherwise, as in the reference
    implementation of Ismail Fawaz et al. (2019).

    Shapes
    ------
    x : Tensor of shape (N, in_channels, L) -> Tensor of shape (N, out_channels, L)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kernel_sizes: Sequence[int] = (8, 5, 3),
        activation: ActivationLike = "relu",
        skip_connection: bool = True,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for i, k in enumerate(kernel_sizes):
            # 'same' padding, the extra step on the right for even kernels
            # (as Keras does); an explicit pad avoids torch's padded copy.
            layers.append(nn.ConstantPad1d(((k - 1) // 2, k // 2), 0.0))
            layers.append(nn.Conv1d(channels, out_channels, k, bias=False))
            layers.append(nn.BatchNorm1d(out_channels))
            if i < len(kernel_sizes) - 1:
                layers.append(get_activation(activation))
            channels = out_channels
        self.residual = nn.Sequential(*layers)
        self.skip_connection = skip_connection
        if not skip_connection:
            self.shortcut = None
        elif in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm1d(out_channels),
            )
        else:
            self.shortcut = nn.BatchNorm1d(out_channels)
        self.act = get_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.residual(x)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.act(out)


class ResNet1D(nn.Module):
    """ResNet for series classification: residual blocks, global pooling, linear head.

    With the defaults this is the network of Wang et al. (2017): three blocks
    of 64, 128 and 128 filters, each of three convolutions with kernels 8, 5
    and 3, batch norm and ReLU, then global average pooling over time and a
    linear (softmax) layer. ``n_blocks`` and ``width`` scale it: block ``i``
    has ``width`` filters for ``i == 0`` and ``2 * width`` after.

    Parameters
    ----------
    in_channels : int
        Number of input channels (variables of the series).
    n_classes : int
        Number of outputs.
    n_blocks : int, default=3
    width : int, default=64
    kernel_sizes : sequence of int, default=(8, 5, 3)
    activation : str or nn.Module class, default="relu"
    skip_connections : bool, default=True
        ``False`` gives the same convolutions without shortcuts.
    stem_stride : int, default=1
        With ``s > 1``, a strided stem (a convolution of kernel ``2 s`` and
        stride ``s`` with batch norm and activation, as the strided stem of
        He et al., 2016 does for images) first shortens the series ``s``
        times, so long series cost ``s`` times less. 1: Wang et al.'s network.

    Notes
    -----
    Batch norm statistics ignore sample weights: weights act on the loss only.

    Shapes
    ------
    x : Tensor of shape (N, in_channels, L) -> Tensor of shape (N, n_classes)

    References
    ----------
    Wang, Yan, Oates. "Time Series Classification from Scratch with Deep
    Neural Networks: A Strong Baseline." IJCNN 2017.

    Examples
    --------
    >>> import torch
    >>> net = ResNet1D(1, 2)
    >>> net(torch.randn(4, 1, 50)).shape
    torch.Size([4, 2])
    """

    def __init__(
        self,
        in_channels: int,
        n_classes: int,
        *,
        n_blocks: int = 3,
        width: int = 64,
        kernel_sizes: Sequence[int] = (8, 5, 3),
        activation: ActivationLike = "relu",
        skip_connections: bool = True,
        stem_stride: int = 1,
    ) -> None:
        super().__init__()
        blocks = []
        channels = in_channels
        if stem_stride > 1:
            blocks += [
                nn.Conv1d(
                    in_channels,
                    width,
                    2 * stem_stride,
                    stride=stem_stride,
                    padding=stem_stride // 2,
                    bias=False,
                ),
                nn.BatchNorm1d(width),
                get_activation(activation),
            ]
            channels = width
        for i in range(n_blocks):
            out_channels = width if i == 0 else 2 * width
            blocks.append(
                ResNet1DBlock(
                    channels,
                    out_channels,
                    kernel_sizes=kernel_sizes,
                    activation=activation,
                    skip_connection=skip_connections,
                )
            )
            channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(channels, n_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Globally pooled features, shape ``(N, channels)``."""
        return self.blocks(x).mean(dim=-1)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
