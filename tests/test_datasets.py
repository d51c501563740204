"""Offline data: synthetic series, bundled loaders, and the error when an extra is missing."""

import sys

import numpy as np
import pandas as pd
import pytest

from skresnet.datasets import (
    load_digits_images,
    load_forecasting,
    load_mnist1d,
    load_ucr,
    make_seasonal_series,
    make_store_sales,
)
from skresnet.timeseries._series import infer_freq


def test_seasonal_series_is_reproducible_and_seasonal():
    """Same seed, same series; its autocorrelation peaks at the period."""
    a = make_seasonal_series(480, period=24, trend=0.0, random_state=1)
    b = make_seasonal_series(480, period=24, trend=0.0, random_state=1)
    pd.testing.assert_series_equal(a, b)
    assert isinstance(a.index, pd.DatetimeIndex)
    lags = {lag: a.autocorr(lag) for lag in (12, 24)}
    assert lags[24] > 0.5 > lags[12]


def test_store_sales_promotions_lift_sales():
    """Each store is a daily block; promotion days sell about 1.6x the store's other days."""
    df = make_store_sales(n_stores=3, n_days=140, random_state=0)
    assert df.shape == (420, 3) and list(pd.unique(df["store"])) == [
        "store_0",
        "store_1",
        "store_2",
    ]
    one = df[df["store"] == "store_1"]
    assert one.index.freqstr is None and infer_freq(one.index) == "D"
    day_after = one["promo"].shift(1).fillna(0) == 1
    plain = one[(one["promo"] == 0) & ~day_after]["sales"].mean()
    assert 1.4 < one[one["promo"] == 1]["sales"].mean() / plain < 1.8
    pd.testing.assert_frame_equal(df, make_store_sales(n_stores=3, n_days=140, random_state=0))


@pytest.mark.parametrize(
    "name, length, season, freq",
    [("airline", 144, 12, "MS"), ("sunspots", 2820, 12, "MS"), ("taylor", 4032, 48, "30min")],
)
def test_forecasting_series(name, length, season, freq):
    """The bundled series load with their length, season and a dated index."""
    pytest.importorskip("pmdarima")
    s = load_forecasting(name)
    assert len(s) == length and s.attrs["season_length"] == season and s.index.freqstr == freq
    assert s.notna().all() and s.name == name


def test_digits_images_shape_and_range():
    """load_digits_images gives (n, 1, 8, 8) images in [0, 1]."""
    X, y = load_digits_images()
    assert X.shape == (1797, 1, 8, 8) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 1


def test_missing_optional_package_names_the_extra(monkeypatch):
    """Without aeon or mnist1d, the loaders say which extra to install."""
    # None in sys.modules makes any import of that module fail
    for name in ("mnist1d", "mnist1d.data", "aeon", "aeon.datasets", "pmdarima.datasets"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(
        ImportError, match=r"needs the optional package 'mnist1d'.*skresnet\[benchmarks\]"
    ):
        load_mnist1d()
    with pytest.raises(ImportError, match=r"needs the optional package 'aeon'"):
        load_ucr("GunPoint")
    with pytest.raises(ImportError, match=r"needs the optional package 'pmdarima'"):
        load_forecasting("airline")


def test_unknown_ucr_name():
    """Only bundled UCR sets are offered."""
    with pytest.raises(ValueError, match="name='Adiac' is not bundled"):
        load_ucr("Adiac")


def test_ucr_sets_from_aeon():
    """GunPoint and ItalyPowerDemand load with the UCR's own split sizes."""
    pytest.importorskip("aeon")
    X_tr, X_te, y_tr, y_te = load_ucr("GunPoint")
    assert X_tr.shape == (50, 1, 150) and X_te.shape == (150, 1, 150)
    X_tr, X_te, y_tr, y_te = load_ucr("ItalyPowerDemand")
    assert X_tr.shape == (67, 1, 24) and len(np.unique(y_tr)) == 2


def test_mnist1d_generated_offline():
    """MNIST-1D has 4000/1000 series of length 40 and ten classes."""
    pytest.importorskip("mnist1d")
    X_tr, X_te, y_tr, y_te = load_mnist1d()
    assert X_tr.shape == (4000, 1, 40) and X_te.shape == (1000, 1, 40)
    assert set(np.unique(y_tr)) == set(range(10))
