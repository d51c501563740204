"""Plain PyTorch residual networks, usable without scikit-learn or skorch."""

from ._average import OutputAverage, ProbabilityAverage
from ._embeddings import CategoryEmbedding, PeriodicEmbedding
from ._forecast_net import TCNForecastNet
from ._layers import Dropout, available_activations, drawing_from, get_activation
from ._losses import PinballLoss
from ._mlp import MemberLinear, ResidualMLP, ResidualMLPBlock
from ._registry import get_model, list_models
from ._resnet1d import ResNet1D, ResNet1DBlock
from ._resnet2d import BasicBlock, Bottleneck, ResNet2D
from ._ridge import ridge_leverage, weighted_ridge
from ._tcn import (
    TCN,
    CausalConv1d,
    TemporalBlock,
    levels_for_lookback,
    receptive_field,
)

__all__ = [
    "TCN",
    "BasicBlock",
    "Bottleneck",
    "CategoryEmbedding",
    "CausalConv1d",
    "Dropout",
    "MemberLinear",
    "PeriodicEmbedding",
    "PinballLoss",
    "OutputAverage",
    "ProbabilityAverage",
    "ResNet1D",
    "ResNet1DBlock",
    "ResNet2D",
    "ResidualMLP",
    "ResidualMLPBlock",
    "TCNForecastNet",
    "TemporalBlock",
    "available_activations",
    "drawing_from",
    "get_activation",
    "get_model",
    "levels_for_lookback",
    "list_models",
    "receptive_field",
    "ridge_leverage",
    "weighted_ridge",
]
