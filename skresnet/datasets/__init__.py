"""Offline data: synthetic generators and loaders for data shipped in packages."""

from ._loaders import load_digits_images, load_forecasting, load_mnist1d, load_ucr
from ._synthetic import make_seasonal_series, make_store_sales

__all__ = [
    "load_digits_images",
    "load_forecasting",
    "load_mnist1d",
    "load_ucr",
    "make_seasonal_series",
    "make_store_sales",
]
