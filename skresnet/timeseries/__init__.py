"""Time-series tools: windowing, backtesting, calendar features, per-series scaling."""

from ._backtest import backtest, forecast_errors, quantile_scores
from ._plot import plot_forecast
from ._series import to_panel
from ._transformers import CalendarFeatures, RowStandardScaler
from ._windows import make_windows

__all__ = [
    "CalendarFeatures",
    "RowStandardScaler",
    "backtest",
    "forecast_errors",
    "make_windows",
    "plot_forecast",
    "quantile_scores",
    "to_panel",
]
