"""Build networks by name: ``get_model("resnet20", in_channels=1, n_classes=10)``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from torch import nn

from ._forecast_net import TCNForecastNet
from ._mlp import ResidualMLP
from ._resnet1d import ResNet1D
from ._resnet2d import ResNet2D
from ._tcn import TCN

_MODELS: dict[str, Callable[..., nn.Module]] = {
    "residual_mlp": ResidualMLP,
    "resnet1d": ResNet1D,
    "resnet2d": ResNet2D,
    "resnet20": partial(ResNet2D, n_blocks=3, block="basic"),
    "resnet32": partial(ResNet2D, n_blocks=5, block="basic"),
    "resnet56": partial(ResNet2D, n_blocks=9, block="basic"),
    "resnet110": partial(ResNet2D, n_blocks=18, block="basic"),
    "resnet164": partial(ResNet2D, n_blocks=18, block="bottleneck"),
    "tcn": TCN,
    "tcn_forecaster": TCNForecastNet,
}


def list_models() -> list[str]:
    """Names accepted by :func:`get_model`."""
    return sorted(_MODELS)


def get_model(name: str, *args: Any, **kwargs: Any) -> nn.Module:
    """Build the network registered as ``name``; arguments go to its constructor.

    Examples
    --------
    >>> net = get_model("resnet20", 3, 10)
    >>> sum(p.numel() for p in net.parameters()) > 250_000
    True
    """
    try:
        factory = _MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model name {name!r}; expected one of {list_models()}.") from None
    return factory(*args, **kwargs)
