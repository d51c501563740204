"""2-D ResNet for small images: the CIFAR family of He et al. (2016)."""

from __future__ import annotations

import torch
from torch import nn

from ._layers import ActivationLike, get_activation


def _conv_bn(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1
) -> list[nn.Module]:
    return [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels),
    ]


def _projection(in_channels: int, out_channels: int, stride: int) -> nn.Module | None:
    """Option B of He et al. (2016): a 1x1 convolution where the shape changes."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(*_conv_bn(in_channels, out_channels, 1, stride))


class _Block(nn.Module):
    """What both blocks share: the shortcut and ``Act(F(x) + shortcut(x))``.

    A subclass builds ``F`` (its convolutions and batch norms) in ``_build``
    and applies it in ``_residual``; ``expansion`` is its output channels
    per plane.
    """

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        planes: int,
        stride: int = 1,
        *,
        activation: ActivationLike = "relu",
        skip_connection: bool = True,
    ) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self._build(in_channels, planes, stride, activation)
        self.skip_connection = skip_connection
        self.downsample = (
            _projection(in_channels, out_channels, stride) if skip_connection else None
        )
        self.act_out = get_activation(activation)

    def _build(self, in_channels: int, planes: int, stride: int, activation) -> None:
        raise NotImplementedError

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        x = self._residual(x)
        if self.skip_connection:
            x = x + shortcut
        return self.act_out(x)


class BasicBlock(_Block):
    """Two 3x3 convolutions with batch norm, plus the shortcut (He et al. 2016, Fig. 2).

    Shapes
    ------
    x : Tensor of shape (N, in_channels, H, W)
        -> Tensor of shape (N, planes, H / stride, W / stride)
    """

    expansion = 1

    def _build(self, in_channels: int, planes: int, stride: int, activation) -> None:
        self.conv1, self.bn1 = _conv_bn(in_channels, planes, 3, stride)
        self.act1 = get_activation(activation)
        self.conv2, self.bn2 = _conv_bn(planes, planes, 3)

    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn2

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))


class Bottleneck(_Block):
    """1x1 reduce, 3x3, 1x1 expand (x4), plus the shortcut (He et al. 2016, Fig. 5).

    Shapes
    ------
    x : Tensor of shape (N, in_channels, H, W)
        -> Tensor of shape (N, 4 * planes, H / stride, W / stride)
    """

    expansion = 4

    def _build(self, in_channels: int, planes: int, stride: int, activation) -> None:
        self.conv1, self.bn1 = _conv_bn(in_channels, planes, 1)
        self.act1 = get_activation(activation)
        self.conv2, self.bn2 = _conv_bn(planes, planes, 3, stride)
        self.act2 = get_activation(activation)
        self.conv3, self.bn3 = _conv_bn(planes, planes * self.expansion, 1)

    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn3

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.bn2(self.conv2(x)))
        return self.bn3(self.conv3(x))


_BLOCKS: dict[str, type[BasicBlock] | type[Bottleneck]] = {
    "basic": BasicBlock,
    "bottleneck": Bottleneck,
}


class ResNet2D(nn.Module):
    """ResNet for small images, after the CIFAR-10 networks of He et al. (2016), Sec. 4.2.

    A 3x3 stem of ``width`` channels, then three stages of ``n_blocks`` blocks
    with ``width``, ``2 * width`` and ``4 * width`` planes, the second and
    third starting with stride 2, then global average pooling and a linear
    layer. With basic blocks the depth is ``6 * n_blocks + 2`` (ResNet-20,
    -32, -56 for ``n_blocks`` 3, 5, 9); with bottleneck blocks
    ``9 * n_blocks + 2``. Shortcuts are identities, or 1x1 projections where
    the shape changes (option B).

    Parameters
    ----------
    in_channels : int
    n_classes : int
    n_blocks : int, default=3
        Blocks per stage (``n`` in the paper).
    width : int, default=16
        Planes of the first stage.
    block : {"basic", "bottleneck"}, default="basic"
    activation : str or nn.Module class, default="relu"
    zero_init_residual : bool, default=True
        Start the last batch norm of each residual branch at zero, so every
        block begins as the identity (Goyal et al., 2017, Sec. 5.1). Ignored
        without skip connections, where it would cut the signal.
    skip_connections : bool, default=True
        ``False`` gives the "plain" network of He et al. (2016).

    Notes
    -----
    Batch norm statistics ignore sample weights: weights act on the loss only.

    Shapes
    ------
    x : Tensor of shape (N, in_channels, H, W) -> Tensor of shape (N, n_classes)

    References
    ----------
    He, Zhang, Ren, Sun. "Deep Residual Learning for Image Recognition."
    CVPR 2016.
    Goyal et al. "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour."
    arXiv:1706.02677, 2017.

    Examples
    --------
    >>> import torch
    >>> net = ResNet2D(1, 10, n_blocks=1)
    >>> net(torch.randn(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int,
        n_classes: int,
        *,
        n_blocks: int = 3,
        width: int = 16,
        block: str = "basic",
        activation: ActivationLike = "relu",
        zero_init_residual: bool = True,
        skip_connections: bool = True,
    ) -> None:
        super().__init__()
        if block not in _BLOCKS:
            raise ValueError(
                f"block={block!r} is not supported; expected one of {sorted(_BLOCKS)}."
            )
        block_cls = _BLOCKS[block]
        self.stem = nn.Sequential(*_conv_bn(in_channels, width, 3), get_activation(activation))
        stages = []
        channels = width
        for stage, planes in enumerate((width, 2 * width, 4 * width)):
            blocks = []
            for i in range(n_blocks):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(
                    block_cls(
                        channels,
                        planes,
                        stride,
                        activation=activation,
                        skip_connection=skip_connections,
                    )
                )
                channels = planes * block_cls.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(channels, n_classes)
        self._init_weights(zero_init_residual and skip_connections)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    nn.init.zeros_(m.last_norm().weight)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Globally pooled features, shape ``(N, channels)``."""
        return self.stages(self.stem(x)).mean(dim=(-2, -1))

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
