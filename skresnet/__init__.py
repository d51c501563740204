"""skresnet: residual neural networks as scikit-learn estimators."""

from ._classifier import ResNetClassifier
from ._config import config_context, get_config, set_config
from ._forecaster import TCNForecaster
from ._plot_history import plot_history
from ._regressor import ResidualMLPRegressor
from ._version import __version__

__all__ = [
    "ResNetClassifier",
    "ResidualMLPRegressor",
    "TCNForecaster",
    "__version__",
    "config_context",
    "get_config",
    "plot_history",
    "set_config",
]
