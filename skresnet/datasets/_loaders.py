"""Data shipped in (or generated offline by) other packages: nothing is downloaded."""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

# Univariate, equal-length UCR sets whose files the aeon wheel bundles.
_UCR = ("ACSF1", "ArrowHead", "GunPoint", "ItalyPowerDemand", "OSULeaf")


def _require(module: str, caller: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"{caller} needs the optional package {module.split('.')[0]!r}; install it "
            "with: pip install 'skresnet[benchmarks]'"
        ) from None


def load_mnist1d(*, random_state: int = 42):
    """MNIST-1D (Greydanus, 2020), generated on the spot with ``mnist1d.make_dataset``.

    4,000 training and 1,000 test series of length 40, ten classes. Needs the
    ``mnist1d`` package (``pip install 'skresnet[benchmarks]'``).

    Parameters
    ----------
    random_state : int, default=42
        Seed of the generator (42 is the paper's data set).

    Returns
    -------
    X_train : ndarray of shape (4000, 1, 40)
    X_test : ndarray of shape (1000, 1, 40)
    y_train : ndarray of shape (4000,)
    y_test : ndarray of shape (1000,)

    References
    ----------
    Greydanus. "Scaling Down Deep Learning." arXiv:2011.14439, 2020.
    """
    data = _require("mnist1d.data", "load_mnist1d")
    args = data.get_dataset_args()
    args.seed = random_state
    d = data.make_dataset(args)
    return (
        d["x"][:, None, :].astype(np.float32),
        d["x_test"][:, None, :].astype(np.float32),
        np.asarray(d["y"]),
        np.asarray(d["y_test"]),
    )


def load_ucr(name: str):
    """A UCR series-classification set from the files bundled in the ``aeon`` wheel.

    Parameters
    ----------
    name : {"ACSF1", "ArrowHead", "GunPoint", "ItalyPowerDemand", "OSULeaf"}

    Returns
    -------
    X_train : ndarray of shape (n_train, 1, length)
    X_test : ndarray of shape (n_test, 1, length)
    y_train, y_test : ndarray of str
        The UCR's own train/test split.
    """
    if name not in _UCR:
        raise ValueError(f"name={name!r} is not bundled; expected one of {sorted(_UCR)}.")
    datasets = _require("aeon.datasets", "load_ucr")
    X_train, y_train = datasets.load_classification(name, split="train")
    X_test, y_test = datasets.load_classification(name, split="test")
    return (
        X_train.astype(np.float32),
        X_test.astype(np.float32),
        np.asarray(y_train),
        np.asarray(y_test),
    )


def load_digits_images():
    """scikit-learn's 8x8 digits as images scaled to [0, 1].

    Returns
    -------
    X : ndarray of shape (1797, 1, 8, 8)
    y : ndarray of shape (1797,)
    """
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).reshape(-1, 1, 8, 8).astype(np.float32), y


# name: (pmdarima loader, first timestamp, frequency, season length)
_SERIES = {
    "airline": ("load_airpassengers", "1949-01-01", "MS", 12),
    "sunspots": ("load_sunspots", "1749-01-01", "MS", 12),
    "taylor": ("load_taylor", "2000-06-05 00:00", "30min", 48),
}


def load_forecasting(name: str):
    """A classic forecasting series from the files bundled in the ``pmdarima`` wheel.

    - ``"airline"``: monthly international airline passengers, 1949-1960
      (Box & Jenkins), 144 values, season 12.
    - ``"sunspots"``: monthly mean sunspot numbers, 1749-1983, 2,820 values.
    - ``"taylor"``: half-hourly electricity demand in England and Wales,
      5 June to 27 August 2000 (Taylor, 2003), 4,032 values, daily season 48
      and weekly season 336.

    Parameters
    ----------
    name : {"airline", "sunspots", "taylor"}

    Returns
    -------
    series : Series with a DatetimeIndex of known frequency
        Named ``name``; its season length is in ``series.attrs["season_length"]``.
    """
    if name not in _SERIES:
        raise ValueError(f"name={name!r} is not bundled; expected one of {sorted(_SERIES)}.")
    loader, start, freq, season = _SERIES[name]
    values = getattr(_require("pmdarima.datasets", "load_forecasting"), loader)()
    index = pd.date_range(start, periods=len(values), freq=freq)
    series = pd.Series(np.asarray(values, dtype=np.float64), index=index, name=name)
    series.attrs["season_length"] = season
    return series
