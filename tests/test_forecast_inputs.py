"""Inputs of forecasts and windows: channels by name, future covariates, order, dates, ids."""

import warnings

import numpy as np
import pandas as pd
import pytest

from skresnet import TCNForecaster
from skresnet.timeseries import backtest, make_windows

FAST = dict(max_epochs=3, random_state=0, device="cpu")


def test_forecast_matches_columns_by_name():
    """Reordering a DataFrame history's columns does not change the forecast."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"load": np.sin(np.arange(200) / 4) * 10 + 100, "temp": rng.normal(size=200)})
    X, y = make_windows(df, lookback=12, horizon=3, target="load", covariates=["temp"])
    tcn = TCNForecaster(**FAST).fit(X, y)
    np.testing.assert_allclose(tcn.forecast(df[["temp", "load"]]), tcn.forecast(df))
    with pytest.raises(ValueError, match="lacks the column"):
        tcn.forecast(df.rename(columns={"temp": "t"}))


def test_forecast_requires_future_when_trained_with_future_covariates():
    """A model trained with future covariates refuses a forecast without future=."""
    df = pd.DataFrame({"y": np.arange(120.0) % 7, "promo": np.arange(120) % 2})
    X, y = make_windows(df, lookback=14, horizon=7, target="y", future_covariates=["promo"])
    tcn = TCNForecaster(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="future="):
        tcn.forecast(df)


def _daily(n=120):
    index = pd.date_range("2024-01-01", periods=n, freq="D")
    return pd.Series(np.sin(np.arange(n) / 3) + np.arange(n) / 50, index=index, name="y")


def test_time_order_gaps_and_nan_are_refused():
    """Shuffled, descending, gappy or NaN series are errors in windows, forecast and backtest."""
    series = _daily()
    X, y = make_windows(series, lookback=14, horizon=7)
    tcn = TCNForecaster(**FAST).fit(X, y)
    shuffled = series.sample(frac=1, random_state=0)
    gappy = series.drop(series.index[30:110:2])
    with_nan = series.copy()
    with_nan.iloc[50] = np.nan
    for bad, message in [
        (shuffled, "time order"),
        (series[::-1], "time order"),
        (gappy, "gaps"),
        (with_nan, "missing"),
    ]:
        with pytest.raises(ValueError, match=message):
            make_windows(bad, lookback=14, horizon=7)
        with pytest.raises(ValueError, match=message):
            backtest(TCNForecaster(**FAST), bad, lookback=14, horizon=7)
    # an unnamed series' column is named as a user would write it, not as np.int64(0)
    with pytest.raises(ValueError, match=r"first in column 0 at Timestamp"):
        make_windows(with_nan.rename(None), lookback=14, horizon=7)
    for bad in (shuffled, series[::-1], gappy):
        with pytest.raises(ValueError):
            tcn.forecast(bad)
    with pytest.raises(ValueError, match="NaN"):
        tcn.forecast(with_nan.iloc[:51])


def test_string_dates_are_parsed_or_refused():
    """A string date index is parsed into timestamps; a string channel is a clear error."""
    series = _daily()
    as_strings = series.set_axis(series.index.strftime("%Y-%m-%d"))
    X, y = make_windows(as_strings, lookback=14, horizon=7)
    tcn = TCNForecaster(**FAST).fit(X, y)
    assert isinstance(tcn.forecast(as_strings).index, pd.DatetimeIndex)
    df = pd.DataFrame({"date": series.index.strftime("%Y-%m-%d"), "y": series.to_numpy()})
    with pytest.raises(ValueError, match="column 'date'"):
        make_windows(df, lookback=14, horizon=7, target="y", covariates=["date"])
    with pytest.raises(ValueError, match="not dates"):
        make_windows(series.set_axis([f"x{i}" for i in range(len(series))]), lookback=3, horizon=1)


def test_nan_group_ids_are_refused():
    """Rows without a series id are an error, not silently dropped."""
    df = pd.DataFrame({"g": ["a"] * 30 + [np.nan] * 30, "y": np.arange(60.0)})
    with pytest.raises(ValueError, match="missing label"):
        make_windows(df, lookback=5, horizon=2, target="y", groups="g")


def test_grouped_forecast_is_warning_free():
    """Forecasting many series at once raises no (pandas deprecation) warning."""
    df = pd.DataFrame({"g": np.repeat(["a", "b"], 60), "y": np.tile(np.arange(60.0) % 5, 2)})
    X, y = make_windows(df, lookback=10, horizon=2, target="y", groups="g")
    tcn = TCNForecaster(**FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tcn.forecast(df, groups="g")
    assert out.shape == (4,)


def test_a_series_too_short_or_ending_in_nan_is_named():
    """A panel's forecast names the series that cannot fill a window, and says why."""
    steps = np.arange(60.0)
    df = pd.concat(
        [
            pd.DataFrame({"g": "long", "y": 10 + np.sin(steps)}),
            pd.DataFrame({"g": "short", "y": 5 + np.sin(steps[:8])}),
        ]
    )
    X, y = make_windows(df, lookback=12, horizon=3, target="y", groups="g")
    tcn = TCNForecaster(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"series 'short' has 8 steps; at least lookback_=12"):
        tcn.forecast(df, groups="g")
    assert tcn.forecast(df[df["g"] == "long"], groups="g").shape == (3,)
    gap = df.assign(y=np.where(np.arange(len(df)) == 55, np.nan, df["y"]))
    with pytest.raises(ValueError, match=r"series 'long' has NaN or infinite values"):
        tcn.forecast(gap[gap["g"] == "long"], groups="g")


def test_a_series_whose_future_is_short_is_named():
    """A panel's future covariates that stop early name the series (said "a series")."""
    steps = np.arange(60.0)
    df = pd.concat(
        [
            pd.DataFrame({"g": g, "y": level + np.sin(steps), "p": steps % 2})
            for g, level in [("a", 1), ("b", 9)]
        ]
    )
    X, y = make_windows(df, lookback=12, horizon=3, target="y", groups="g", future_covariates=["p"])
    tcn = TCNForecaster(**FAST).fit(X, y)
    future = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 2, "p": [0.0, 1, 0, 1, 0]})
    with pytest.raises(ValueError, match=r"future has 2 rows for series 'b'; 3 are needed"):
        tcn.forecast(df, future=future, groups="g")
    full = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 3, "p": [0.0, 1, 0, 1, 0, 1]})
    assert tcn.forecast(df, future=full, groups="g").shape == (6,)


_FRESH_FIT = """
import warnings
warnings.simplefilter("error")
import numpy as np, pandas as pd
from skresnet import TCNForecaster
from skresnet.timeseries import make_windows
steps = np.arange(60.0)
levels = [("a", 1), ("b", 9)]
df = pd.concat([pd.DataFrame({"g": g, "y": k + np.sin(steps), "p": steps % 2}) for g, k in levels])
X, y = make_windows(df, lookback=12, horizon=3, target="y", groups="g", future_covariates=["p"])
TCNForecaster(max_epochs=3, random_state=0, device="cpu").fit(X, y)
"""


def test_statsmodels_warnings_stay_inside_the_member_in_a_fresh_process():
    """statsmodels' first import adds "always" filters in front of the ones in place;
    imported inside the member's warnings block, a Holt-Winters fit that did not
    converge printed a ConvergenceWarning on a new process's first fit."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _FRESH_FIT], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Warning" not in out.stderr, out.stderr[-2000:]
