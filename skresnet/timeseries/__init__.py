"""Time-series tools for TCNForecaster: windowing series into samples."""

from ._windows import make_windows

__all__ = ["make_windows"]
