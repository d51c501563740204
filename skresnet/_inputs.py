"""Input specs: what the shape of ``X`` says about the network to build.

Each estimator composes one (as skorch's ``InputShapeSetter`` reads module
arguments off the data): ``fit(X, raw)`` records the fitted metadata
(``sample_shape_``, ``lookback_``, ...) that ``fitted`` lists and the
estimator also carries, and ``sample_shape(X)`` gives the shape one sample
has for the network, refusing inputs shaped unlike the fitted ones. ``X`` is
the validated float32 array; ``raw`` is what the user passed.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._targets import Fitted, nonzero_scale
from ._validation import caller_stacklevel, check_int_tuple
from .modules import levels_for_lookback, receptive_field


class InputSpec(Fitted):
    """Base of the input specs."""

    fitted = ("sample_shape_",)
    owner = "the estimator"
    unit = "samples of shape"  # what a sample is called in errors

    def fit(self, X, raw=None, sample_weight=None):
        self.sample_shape_ = self._shape(X)
        return self

    def sample_shape(self, X) -> tuple:
        """Shape of one sample of ``X`` for the network; must match the fitted one."""
        shape = self._shape(X)
        if shape != self.sample_shape_:
            raise ValueError(
                f"X has {self.unit} {shape}, but {self.owner} was fitted on "
                f"{self.unit} {self.sample_shape_}."
            )
        return shape

    def _shape(self, X) -> tuple:
        raise NotImplementedError


class TableInput(InputSpec):
    """Rows of features, ``X`` of shape ``(n_samples, n_features)``: the MLP's input."""

    def __init__(self, owner: str):
        self.owner = owner

    def _shape(self, X) -> tuple:
        if X.ndim != 2:
            raise ValueError(
                f"X has {X.ndim} dimensions (shape {X.shape}); {self.owner} "
                "expects 2-D X of shape (n_samples, n_features)."
            )
        return (X.shape[1],)


_ARCHITECTURE_BY_NDIM = {1: "mlp", 2: "resnet1d", 3: "resnet2d"}
_NDIM_BY_ARCHITECTURE = {v: k for k, v in _ARCHITECTURE_BY_NDIM.items()}


class ArrayInput(InputSpec):
    """Rows, series ``(C, L)`` or images ``(C, H, W)``; the sample's rank picks the architecture.

    Parameters
    ----------
    architecture : {"auto", "mlp", "resnet1d", "resnet2d"}
        With a fixed architecture, one missing channel axis is added: flat
        rows become one-channel series, ``(H, W)`` samples one-channel images.
    input_shape : tuple of int or None
        ``(C, L)`` or ``(C, H, W)`` that flat rows are reshaped to.
    """

    fitted = ("sample_shape_", "architecture_")
    owner = "ResNetClassifier"

    def __init__(self, architecture="auto", input_shape=None):
        self.architecture = architecture
        self.input_shape = input_shape

    def fit(self, X, raw=None, sample_weight=None):
        super().fit(X, raw, sample_weight)
        self.architecture_ = _ARCHITECTURE_BY_NDIM[len(self.sample_shape_)]
        if self.input_shape is None:
            _warn_if_channels_last(X.shape, self.owner)
            if self.architecture_ == "resnet1d":
                _warn_if_grayscale(X.shape, self.owner)
        return self

    def _shape(self, X) -> tuple:
        shape = self._reshaped(X)
        if self.architecture != "auto":
            wanted = _NDIM_BY_ARCHITECTURE[self.architecture]
            if len(shape) == wanted - 1:
                shape = (1, *shape)
        if len(shape) not in _ARCHITECTURE_BY_NDIM:
            raise ValueError(
                f"X has {X.ndim} dimensions (shape {X.shape}); {self.owner} expects "
                "2 (n_samples, n_features), 3 (n_samples, C, L) or 4 (n_samples, C, H, W)."
            )
        if self.architecture not in ("auto", _ARCHITECTURE_BY_NDIM[len(shape)]):
            raise ValueError(
                f"architecture={self.architecture!r} does not match X of shape {X.shape}; "
                f"it takes {_NDIM_BY_ARCHITECTURE[self.architecture] + 1}-D input."
            )
        return shape

    def _reshaped(self, X) -> tuple:
        if self.input_shape is None:
            return tuple(X.shape[1:])
        shape = check_int_tuple("input_shape", self.input_shape, lengths=(2, 3))
        if X.ndim != 2 or np.prod(shape) != X.shape[1]:
            raise ValueError(
                f"input_shape={tuple(self.input_shape)} cannot reshape X of shape "
                f"{X.shape}; expected flat rows of prod(input_shape) features and "
                "input_shape as (C, L) or (C, H, W)."
            )
        return shape


# Samples whose last axis is this short and whose first is at least _MANY_CHANNELS long
# look channels-last: (H, W, C) images with C of 1, 3 or 4, or (L, C) series.
_FEW_CHANNELS = (1, 2, 3, 4)
_MANY_CHANNELS = 8


def _warn_if_channels_last(shape: tuple, owner: str) -> None:
    """Warn where ``X`` of ``shape`` looks like channels-last data (numpy images and
    Keras series are), which would be read as many channels of a few pixels or steps."""
    sample = shape[1:]
    if len(sample) < 2 or sample[-1] not in _FEW_CHANNELS or sample[0] < _MANY_CHANNELS:
        return
    if len(sample) == 3 and sample[1] <= sample[-1]:
        return
    channels_first = (0, len(shape) - 1, *range(1, len(shape) - 1))
    read = "x".join(str(n) for n in sample[1:])
    warnings.warn(
        f"X of shape {shape} looks channels-last; {owner} reads it as "
        f"{sample[0]} channels of {read} {'pixels' if len(sample) == 3 else 'steps'}, "
        f"channels first. If the last axis holds the channels, pass "
        f"X.transpose{channels_first}.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def _warn_if_grayscale(shape: tuple, owner: str) -> None:
    """Warn where 3-D ``X`` has square samples of at least _MANY_CHANNELS a side: the
    shape of grayscale images ``(n, H, W)`` (``load_digits().images``, MNIST), which
    would be read as series of H channels and W steps."""
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] < _MANY_CHANNELS:
        return
    warnings.warn(
        f"X of shape {shape} looks like grayscale images; {owner} reads 3-D X as series "
        f"of {shape[1]} channels and {shape[2]} steps. For images pass X[:, None] "
        f"(shape {(shape[0], 1, *shape[1:])}) or architecture='resnet2d'.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


class WindowInput(InputSpec):
    """Windows ``(n_windows, lookback)`` or ``(n_windows, lookback, n_channels)`` for the TCN.

    Records the window length, the channels and their statistics, the TCN
    depth whose receptive field covers the window, and, for windows from
    ``make_windows``, the channels' names and how many are future covariates.

    Parameters
    ----------
    target_channel : int
    kernel_size : int
    n_levels : int or None
        None: the fewest levels whose receptive field covers ``lookback``.
    """

    fitted = (
        "lookback_",
        "n_channels_",
        "n_levels_",
        "receptive_field_",
        "x_loc_",
        "x_scale_",
        "channel_names_",
        "n_future_",
        "n_series_",
    )
    owner = "TCNForecaster"
    unit = "windows of (lookback, channels)"

    def __init__(self, target_channel=0, kernel_size=3, n_levels=None):
        self.target_channel = target_channel
        self.kernel_size = kernel_size
        self.n_levels = n_levels

    def fit(self, X, raw=None, sample_weight=None):
        self.lookback_, self.n_channels_ = self.sample_shape_ = self._shape(X)
        if self.target_channel >= self.n_channels_:
            raise ValueError(
                f"target_channel={self.target_channel} but X has {self.n_channels_} "
                "channel(s); expected 0 <= target_channel < n_channels."
            )
        self.n_levels_ = self.n_levels or levels_for_lookback(self.lookback_, self.kernel_size)
        self.receptive_field_ = receptive_field(self.n_levels_, self.kernel_size)
        # Weighted like the loss: a window of weight 0 does not shape the model.
        values = np.asarray(X, dtype=np.float64).reshape(len(X), -1, self.n_channels_)
        weight = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
        weight = np.broadcast_to(weight[:, None], values.shape[:2]).reshape(-1)
        values = values.reshape(-1, self.n_channels_)
        self.x_loc_ = np.average(values, axis=0, weights=weight)
        spread = np.sqrt(np.average((values - self.x_loc_) ** 2, axis=0, weights=weight))
        self.x_scale_ = nonzero_scale(spread, self.x_loc_)
        # Windows from make_windows carry their channels' labels and how many
        # are future covariates; plain arrays do not (forecast then goes by
        # position and cannot tell that future= is required).
        channels = getattr(raw, "channels", None)
        # and how many series they were cut from (1 for anything else)
        self.n_series_ = max(1, int(getattr(raw, "n_series", 1)))
        self.n_future_ = None
        if channels is not None and len(channels) == self.n_channels_:
            self.channel_names_ = np.asarray(channels, dtype=object)
            self.n_future_ = int(raw.n_future)
        return self

    def adopt(self, attributes: dict):
        super().adopt(attributes)
        self.sample_shape_ = (self.lookback_, self.n_channels_)
        if not hasattr(self, "n_levels_"):
            self.n_levels_ = self.n_levels or levels_for_lookback(self.lookback_, self.kernel_size)
        return self

    def _shape(self, X) -> tuple:
        if X.ndim == 2:
            return (X.shape[1], 1)
        if X.ndim == 3:
            return tuple(X.shape[1:])
        raise ValueError(
            f"X has {X.ndim} dimensions (shape {X.shape}); TCNForecaster expects "
            "(n_windows, lookback) or (n_windows, lookback, n_channels)."
        )
