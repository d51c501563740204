"""Temporal Convolutional Network (Bai, Kolter & Koltun, 2018)."""

from __future__ import annotations

from collections.abc import Sequence

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
        x = F.pad(x, (self.left_pad, 0))
        return F.conv1d(x, self.effective_weight(), self.bias, dilation=self.dilation)

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
        x = F.pad(x, (self.kernel_size[0] - 1, 0))
        if stride > 1:
            x = x[..., (x.shape[-1] - self.kernel_size[0]) % stride :]
        return F.conv1d(x, self.effective_weight(), self.bias, stride=stride)


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
        shortcut = x if self.downsample is None else self.downsample(x)
        x = self.drop1(self.act1(self.conv1(x)))
        x = self.drop2(self.act2(self.conv2(x)))
        if self.skip_connection:
            x = x + shortcut
        return self.act(x)

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
        shortcut = x[..., (x.shape[-1] - 1) % 2 :: 2]
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        x = self.drop1(self.act1(self.conv1.forward_gathered(x)))
        x = self.drop2(self.act2(self.conv2.forward_gathered(x, stride=2)))
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
        return self.blocks(x)

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
        for block in self.blocks:
            x = block.forward_gathered(x)
        return x[..., -1]


class TCNForecastNet(nn.Module):
    """Direct multi-step forecaster: a TCN over the window, a linear head on its last step.

    Takes windows in ``(N, L, C)`` layout (time along axis 1, the layout of
    ``skresnet.timeseries.make_windows``), transposes them once to the
    ``(N, C, L)`` layout of the convolutions, and maps the features of the
    last time step, which see the whole receptive field, to the next
    ``horizon`` values of the target channel.

    With ``normalize="window"`` the target channel of each window is
    standardized by its own mean and standard deviation, and the forecast is
    mapped back with them (reversible instance normalization, Kim et al.,
    2022), so levels and trends outside the training range are handled.

    With ``linear_skip`` (given ``lookback``) a linear map from the whole
    window, its target centred by the window mean, to the ``horizon``
    outputs is added to the forecast, so the TCN learns what a linear
    autoregression misses: the "highway" of LSTNet (Lai et al., 2018), a
    linear model on windows centred this way being a strong forecaster on
    its own (NLinear, Zeng et al., 2023). :meth:`fit_linear_skip` sets it to
    the least-squares solution before training. It also gives each
    forecast step a direct path to the values of known-in-advance covariates
    at that step (``make_windows`` places them in the window's last
    ``horizon`` positions).

    Parameters
    ----------
    in_channels : int
    horizon : int
    target_channel : int, default=0
    normalize : {"window", None}, default="window"
    input_loc, input_scale : sequence of float, optional
        Per-channel statistics subtracted and divided out before anything
        else (a fixed standardization fitted on the training data); the
        forecast stays in the standardized units of the target channel.
    lookback : int, optional
        Window length ``L``; needed for ``linear_skip``.
    linear_skip : bool, default=False
    **tcn_kwargs
        Passed to :class:`TCN`.

    Shapes
    ------
    x : Tensor of shape (N, L, in_channels) -> Tensor of shape (N, horizon)

    References
    ----------
    Bai, Kolter, Koltun (2018), see :class:`TCN`.
    Kim et al. "Reversible Instance Normalization for Accurate Time-Series
    Forecasting against Distribution Shift." ICLR 2022.
    Lai et al. "Modeling Long- and Short-Term Temporal Patterns with Deep
    Neural Networks." SIGIR 2018.
    Zeng et al. "Are Transformers Effective for Time Series Forecasting?"
    AAAI 2023.
    """

    eps = 1e-5

    def __init__(
        self,
        in_channels: int,
        horizon: int,
        *,
        target_channel: int = 0,
        normalize: str | None = "window",
        input_loc: Sequence[float] | None = None,
        input_scale: Sequence[float] | None = None,
        lookback: int | None = None,
        linear_skip: bool = False,
        **tcn_kwargs,
    ) -> None:
        super().__init__()
        loc = torch.zeros(in_channels) if input_loc is None else torch.as_tensor(input_loc)
        scale = torch.ones(in_channels) if input_scale is None else torch.as_tensor(input_scale)
        self.register_buffer("input_loc", loc.float())
        self.register_buffer("input_scale", scale.float())
        self.tcn = TCN(in_channels, **tcn_kwargs)
        channels = tcn_kwargs.get("channels", 32)
        self.head = nn.Linear(channels, horizon)
        if linear_skip and lookback is None:
            raise ValueError("linear_skip=True needs lookback, the window length.")
        self.linear_skip = nn.Linear(lookback * in_channels, horizon) if linear_skip else None
        self.target_channel = target_channel
        self.normalize = normalize

    def _window_loc_scale(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation of each window's target, shape ``(N, 1)`` each."""
        if self.normalize != "window":
            zero = x.new_zeros(len(x), 1)
            return zero, zero + 1
        target = x[:, :, self.target_channel]
        loc = target.mean(dim=1, keepdim=True)
        return loc, target.std(dim=1, keepdim=True, unbiased=False) + self.eps

    def _with_target(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        c = self.target_channel
        return torch.cat([x[:, :, :c], target.unsqueeze(-1), x[:, :, c + 1 :]], dim=-1)

    def _skip_features(self, x: torch.Tensor, loc: torch.Tensor) -> torch.Tensor:
        """What the linear skip reads: the window with its target centred, ``(N, L * C)``."""
        return self._with_target(x, x[:, :, self.target_channel] - loc).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.input_loc) / self.input_scale
        loc, scale = self._window_loc_scale(x)
        normed = self._with_target(x, (x[:, :, self.target_channel] - loc) / scale)
        out = self.head(self.tcn.forward_last(normed.transpose(1, 2))) * scale + loc
        if self.linear_skip is not None:
            out = out + self.linear_skip(self._skip_features(x, loc))
        return out

    @torch.no_grad()
    def fit_linear_skip(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        sample_weight: torch.Tensor | None = None,
        alpha: float = 1e-3,
    ) -> None:
        """Start as the best linear forecaster: ridge for the skip, zeros for the head.

        The linear skip is set to the weighted ridge solution (penalty
        ``alpha`` times the mean feature variance) of ``y`` on what it reads,
        and the TCN head to zero, so training begins at the linear model's
        forecasts and the TCN learns what a linear autoregression misses,
        the way a residual block starts as the identity (Goyal et al.,
        2017, zero-initialized last layers).

        Parameters
        ----------
        x : Tensor of shape (N, L, in_channels)
        y : Tensor of shape (N, horizon)
            In the units of the target channel after ``input_loc``/``input_scale``.
        sample_weight : Tensor of shape (N,), optional
        alpha : float, default=1e-3
        """
        if self.linear_skip is None:
            raise ValueError("fit_linear_skip needs a network built with linear_skip=True.")
        x = (x.double() - self.input_loc.double()) / self.input_scale.double()
        loc, _ = self._window_loc_scale(x)
        features, target = self._skip_features(x, loc), y.double() - loc
        w = x.new_ones(len(x)) if sample_weight is None else sample_weight.double()
        w = (w / w.sum()).unsqueeze(1)
        f_mean, t_mean = (w * features).sum(0), (w * target).sum(0)
        features, target = features - f_mean, target - t_mean
        gram = features.T @ (w * features)
        ridge = alpha * gram.diagonal().mean().clamp_min(1e-12)
        gram.diagonal().add_(ridge)
        coef = torch.linalg.solve(gram, features.T @ (w * target))
        self.linear_skip.weight.copy_(coef.T)
        self.linear_skip.bias.copy_(t_mean - f_mean @ coef)
        self.head.weight.zero_()
        self.head.bias.zero_()
