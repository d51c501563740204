"""Temporal Convolutional Network (Bai, Kolter & Koltun, 2018)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._layers import ActivationLike, Dropout, get_activation


def receptive_field(n_levels: int, kernel_size: int) -> int:
    """Number of past steps (current one included) that one TCN output sees.

    Each level holds two causal convolutions of dilation ``2**i``, each
    widening the view by ``(kernel_size - 1) * 2**i``:
    ``1 + 2 * (kernel_size - 1) * (2**n_levels - 1)``.
    """
    return 1 + 2 * (kernel_size - 1) * (2**n_levels - 1)


def levels_for_lookback(lookback: int, kernel_size: int) -> int:
    """Smallest number of levels whose receptive field covers ``lookback`` steps."""
    n_levels = 1
    while receptive_field(n_levels, kernel_size) < lookback:
        n_levels += 1
    return n_levels


def as_rows(x: torch.Tensor) -> torch.Tensor:
    """A sequence batch as a batch of one-row images in channels-last memory.

    On CPU, oneDNN's convolutions train 1.5-2 times faster on channels-last
    ``(N, C, 1, L)`` than ``conv1d`` on ``(N, C, L)``, most of it in the
    backward pass (docs/performance.md); the activations, padding and dropout
    between the convolutions keep that layout, so it is converted once per
    forward pass.

    Shapes
    ------
    x : Tensor of shape (N, C, L) -> Tensor of shape (N, C, 1, L)
    """
    return x.unsqueeze(2).contiguous(memory_format=torch.channels_last)


class _StepsOf(torch.autograd.Function):
    """``x[..., start::step]`` whose gradient keeps ``x``'s memory layout.

    A plain slice's backward writes the gradient into zeros of the default
    (channels-first) layout. Added to the channels-last gradient of the other
    branch, it leaves the elementwise backward passes upstream with mixed
    layouts, 25 times slower than either one (ReLU's on a level's
    activations: 3.7 ms against 0.15 ms).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, start: int, step: int) -> torch.Tensor:
        ctx.shape, ctx.start, ctx.step = x.shape, start, step
        return x[..., start::step]

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        out = torch.empty(
            ctx.shape, dtype=grad.dtype, device=grad.device, memory_format=torch.channels_last
        ).zero_()
        out[..., ctx.start :: ctx.step] = grad
        return out, None, None


def steps_of(x: torch.Tensor, start: int, step: int = 1) -> torch.Tensor:
    """``x[..., start::step]`` (``x`` as rows, see :func:`as_rows`); while training, its
    gradient keeps the channels-last layout (:class:`_StepsOf`)."""
    if x.requires_grad and torch.is_grad_enabled():
        return _StepsOf.apply(x, start, step)
    return x[..., start::step]


class CausalConv1d(nn.Conv1d):
    """Dilated 1-D convolution padded on the left only, so output ``t`` sees inputs ``<= t``.

    The pad of ``(kernel_size - 1) * dilation`` is explicit (as in
    pytorch-tcn) rather than symmetric padding followed by a trailing chomp.
    With ``weight_norm=True`` the kernel is reparametrized as
    ``g * v / ||v||`` per output channel (Salimans & Kingma, 2016). It is
    implemented here rather than with ``torch.nn.utils.parametrizations``
    because parametrized modules cannot be pickled, and fitted estimators
    must survive ``joblib.dump``.

    Shapes
    ------
    x : Tensor of shape (N, in_channels, L) -> Tensor of shape (N, out_channels, L)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        dilation: int = 1,
        weight_norm: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.left_pad = (kernel_size - 1) * dilation
        self.weight_norm = weight_norm
        if weight_norm:
            self.weight_g = nn.Parameter(self._direction_norm().detach().clone())

    def _direction_norm(self) -> torch.Tensor:
        return self.weight.norm(dim=(1, 2), keepdim=True)

    def effective_weight(self) -> torch.Tensor:
        if not self.weight_norm:
            return self.weight
        return self.weight_g * self.weight / self._direction_norm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rows_forward(as_rows(x)).squeeze(2)

    def rows_forward(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` on ``x`` as rows, ``(N, C, 1, L)`` (see :func:`as_rows`)."""
        x = F.pad(x, (self.left_pad, 0))
        return F.conv2d(
            x, self.effective_weight().unsqueeze(2), self.bias, dilation=(1, self.dilation[0])
        )

    def forward_gathered(self, x: torch.Tensor, stride: int = 1) -> torch.Tensor:
        """The same convolution on inputs already gathered ``dilation`` steps apart.

        ``x[..., j]`` holds the input at step ``t_last - (n - 1 - j) * dilation``,
        so the dilated kernel becomes a dense one over ``x``. The outputs at
        every ``stride``-th of those steps are returned, the last one included.

        Shapes
        ------
        x : Tensor of shape (N, in_channels, n)
            -> Tensor of shape (N, out_channels, ceil(n / stride))
        """
        return self.rows_gathered(as_rows(x), stride).squeeze(2)

    def rows_gathered(self, x: torch.Tensor, stride: int = 1) -> torch.Tensor:
        """:meth:`forward_gathered` on ``x`` as rows, ``(N, C, 1, n)`` (see :func:`as_rows`)."""
        x = F.pad(x, (self.kernel_size[0] - 1, 0))
        if stride > 1:
            x = steps_of(x, (x.shape[-1] - self.kernel_size[0]) % stride)
        return F.conv2d(x, self.effective_weight().unsqueeze(2), self.bias, stride=(1, stride))


class TemporalBlock(nn.Module):
    """Two causal dilated convolutions with activation and dropout, plus the shortcut.

    ``y = Act(F(x) + shortcut(x))`` with
    ``F = Dropout(Act(Conv(Dropout(Act(Conv(x))))))``, Bai et al. (2018),
    Fig. 1b; the shortcut is a 1x1 convolution when the channel count changes.

    Shapes
    ------
    x : Tensor of shape (N, in_channels, L) -> Tensor of shape (N, out_channels, L)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int,
        *,
        dropout: float = 0.0,
        activation: ActivationLike = "relu",
        weight_norm: bool = True,
        skip_connection: bool = True,
    ) -> None:
        super().__init__()
        self.conv1 = CausalConv1d(
            in_channels, out_channels, kernel_size, dilation=dilation, weight_norm=weight_norm
        )
        self.act1 = get_activation(activation)
        self.drop1 = Dropout(dropout)
        self.conv2 = CausalConv1d(
            out_channels, out_channels, kernel_size, dilation=dilation, weight_norm=weight_norm
        )
        self.act2 = get_activation(activation)
        self.drop2 = Dropout(dropout)
        self.skip_connection = skip_connection
        self.downsample = (
            nn.Conv1d(in_channels, out_channels, 1)
            if skip_connection and in_channels != out_channels
            else None
        )
        self.act = get_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rows_forward(as_rows(x)).squeeze(2)

    def rows_forward(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` on ``x`` as rows, ``(N, C, 1, L)`` (see :func:`as_rows`)."""
        shortcut = self._shortcut(x)
        x = self.drop1(self.act1(self.conv1.rows_forward(x)))
        x = self.drop2(self.act2(self.conv2.rows_forward(x)))
        if self.skip_connection:
            x = x + shortcut
        return self.act(x)

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample is None:
            return x
        return F.conv2d(x, self.downsample.weight.unsqueeze(2), self.downsample.bias)

    def forward_gathered(self, x: torch.Tensor) -> torch.Tensor:
        """The block's outputs at every second of the steps ``x`` was gathered at.

        ``x`` holds the block input ``dilation`` steps apart, ending at the
        last step; the output holds the block output ``2 * dilation`` steps
        apart, ending at the last step: what the next level needs.

        Shapes
        ------
        x : Tensor of shape (N, in_channels, n)
            -> Tensor of shape (N, out_channels, ceil(n / 2))
        """
        return self.rows_gathered(as_rows(x)).squeeze(2)

    def rows_gathered(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward_gathered` on ``x`` as rows, ``(N, C, 1, n)`` (see :func:`as_rows`)."""
        shortcut = self._shortcut(steps_of(x, (x.shape[-1] - 1) % 2, 2))
        x = self.drop1(self.act1(self.conv1.rows_gathered(x)))
        x = self.drop2(self.act2(self.conv2.rows_gathered(x, stride=2)))
        if self.skip_connection:
            x = x + shortcut
        return self.act(x)


class TCN(nn.Module):
    """Stack of temporal blocks with dilations 1, 2, 4, ... (Bai et al., 2018).

    Parameters
    ----------
    in_channels : int
    channels : int, default=32
        Channels of every level.
    n_levels : int, default=4
        Number of temporal blocks; level ``i`` has dilation ``2**i``.
    kernel_size : int, default=3
    dropout : float, default=0.0
    activation : str or nn.Module class, default="relu"
    weight_norm : bool, default=True
    skip_connections : bool, default=True

    Attributes
    ----------
    receptive_field : int
        Past steps seen by each output, see :func:`receptive_field`.

    Shapes
    ------
    x : Tensor of shape (N, in_channels, L) -> Tensor of shape (N, channels, L),
        output ``t`` depending on inputs ``<= t`` only.

    References
    ----------
    Bai, Kolter, Koltun. "An Empirical Evaluation of Generic Convolutional
    and Recurrent Networks for Sequence Modeling." arXiv:1803.01271, 2018.

    Examples
    --------
    >>> import torch
    >>> tcn = TCN(2, channels=8, n_levels=3)
    >>> tcn(torch.randn(4, 2, 30)).shape
    torch.Size([4, 8, 30])
    >>> tcn.receptive_field
    29
    """

    def __init__(
        self,
        in_channels: int,
        *,
        channels: int = 32,
        n_levels: int = 4,
        kernel_size: int = 3,
        dropout: float = 0.0,
        activation: ActivationLike = "relu",
        weight_norm: bool = True,
        skip_connections: bool = True,
    ) -> None:
        super().__init__()
        self.receptive_field = receptive_field(n_levels, kernel_size)
        self.blocks = nn.Sequential(
            *(
                TemporalBlock(
                    in_channels if i == 0 else channels,
                    channels,
                    kernel_size,
                    2**i,
                    dropout=dropout,
                    activation=activation,
                    weight_norm=weight_norm,
                    skip_connection=skip_connections,
                )
                for i in range(n_levels)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = as_rows(x)
        for block in self.blocks:
            x = block.rows_forward(x)
        return x.squeeze(2).contiguous()

    def forward_last(self, x: torch.Tensor) -> torch.Tensor:
        """The features of the last step only, ``forward(x)[..., -1]`` at a fraction of the cost.

        Level ``i`` (dilation ``2**i``) feeds the last output only through its
        outputs ``2**(i + 1)`` steps apart, so each level computes those
        alone, on inputs gathered ``2**i`` steps apart where the dilated
        kernels become dense ones (as in dilated-convolution inference
        caches, Paine et al., 2016). At lookback ``L`` the convolutions cost
        about ``3 L`` positions instead of ``2 L`` per level.

        Shapes
        ------
        x : Tensor of shape (N, in_channels, L) -> Tensor of shape (N, channels)
        """
        x = as_rows(x)
        for block in self.blocks:
            x = block.rows_gathered(x)
        return steps_of(x, x.shape[-1] - 1)[:, :, 0, 0]
