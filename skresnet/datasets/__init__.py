"""Offline data: synthetic generators."""

from ._synthetic import make_seasonal_series

__all__ = ["make_seasonal_series"]
