"""Time-series tools for TCNForecaster: windowing, backtesting."""

from ._backtest import backtest, forecast_errors
from ._windows import make_windows

__all__ = ["backtest", "forecast_errors", "make_windows"]
