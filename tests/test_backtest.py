"""backtest: rolling origins, no look-ahead, error metrics."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skresnet import TCNForecaster
from skresnet.timeseries import backtest, forecast_errors, quantile_scores


def test_metrics_by_hand():
    """MAE, RMSE, MASE and sMAPE match their definitions on small numbers."""
    m = forecast_errors(np.array([2.0, 4.0]), np.array([1.0, 4.0]), np.array([0.0, 1.0, 3.0]))
    assert m["mae"] == 0.5 and m["rmse"] == pytest.approx(np.sqrt(0.5))
    assert m["mase"] == pytest.approx(0.5 / 1.5)
    assert m["smape"] == pytest.approx(100 * np.mean([2 / 3, 0]))


def test_scores_refuse_mismatched_shapes():
    """A forecast of another length (or a column) broadcast against actual into
    wrong numbers; each mismatch is now a ValueError that names it."""
    actual, history = np.arange(5.0), np.arange(30.0)
    with pytest.raises(ValueError, match=r"forecast has shape \(4,\), but actual has 5"):
        forecast_errors(actual, actual[:4], history)
    with pytest.raises(ValueError, match=r"forecast has shape \(5, 1\)"):
        forecast_errors(actual, actual[:, None], history)
    with pytest.raises(ValueError, match="season_length must be a positive integer"):
        forecast_errors(actual, actual, history, season_length=0)
    with pytest.raises(ValueError, match=r"quantiles has shape \(5, 2\)"):
        quantile_scores(actual, np.ones((5, 2)), [0.1, 0.5, 0.9], history)
    with pytest.raises(ValueError, match="1-D"):
        quantile_scores(actual[:, None], np.ones((5, 3)), [0.1, 0.5, 0.9], history)
    q = np.stack([actual - 1, actual, actual + 1], axis=1)
    scores = quantile_scores(actual, q, [0.1, 0.5, 0.9], history)
    assert scores["coverage_80"] == 1.0 and scores["pinball"] == pytest.approx(0.2 / 3)


def test_origins_and_overall_row():
    """One row per origin, labelled by its last observed step, plus the mean as 'overall'."""
    s = pd.Series(np.arange(100.0), index=pd.date_range("2024", periods=100, freq="D"))
    scores = backtest(LinearRegression(), s, lookback=5, horizon=4, start=80)
    assert list(scores.columns) == ["mae", "rmse", "mase", "smape", "naive_mase"]
    assert len(scores) == 5 + 1 and scores.index[0] == pd.Timestamp("2024-03-20")
    assert scores.loc["overall", "mae"] == pytest.approx(0, abs=1e-6)  # a line is learned exactly


@pytest.mark.parametrize("refit", [False, True])
def test_no_model_sees_data_after_its_origin(refit):
    """A spike planted after an origin never changes that origin's forecast."""
    rng = np.random.default_rng(0)
    y = np.sin(np.arange(120) / 3) + 0.1 * rng.normal(size=120)
    est = LinearRegression()
    base = backtest(est, y, lookback=6, horizon=3, start=90, refit=refit)
    spiked = y.copy()
    spiked[100:] += 1000  # origins 90, 93, 96, 99 end before the spike
    hit = backtest(est, spiked, lookback=6, horizon=3, start=90, refit=refit)
    before = [89, 92, 95]  # forecasts [90..92], [93..95], [96..98] never see index >= 100
    pd.testing.assert_series_equal(base.loc[before, "mae"], hit.loc[before, "mae"])
    assert hit.loc[98, "mae"] > 100  # the origin whose future holds the spike


@pytest.mark.parametrize("refit", [False, True])
def test_future_covariates_are_seen_over_the_horizon_only(refit):
    """A covariate known in advance is read over each origin's horizon (a linear model
    then forecasts y = 2 c exactly), the target never past the origin."""
    rng = np.random.default_rng(0)
    c = rng.normal(size=150)
    data = np.c_[2 * c, c]
    flat_linear = make_pipeline(
        FunctionTransformer(lambda X: np.reshape(X, (len(X), -1))), LinearRegression()
    )
    kwargs = dict(lookback=6, horizon=3, start=120, refit=refit, target=0)
    known = backtest(flat_linear, data, future_covariates=[1], **kwargs)
    past_only = backtest(flat_linear, data, covariates=[1], **kwargs)
    assert known.loc["overall", "mae"] < 1e-6 < 0.5 < past_only.loc["overall", "mae"]
    spiked = data.copy()
    spiked[130:, 0] += 1000  # the target after origin 129; the covariate is unchanged
    hit = backtest(flat_linear, spiked, future_covariates=[1], **kwargs)
    before = [119, 122, 125]  # origins 120, 123, 126 forecast up to index 128
    pd.testing.assert_series_equal(known.loc[before, "mae"], hit.loc[before, "mae"])


@pytest.mark.parametrize("refit", [False, True])
def test_backtest_over_groups_fits_one_model_per_origin(refit):
    """With groups every series gets its own origins in one table indexed by (group,
    origin); a spike in one series after an origin leaves the other series' scores alone."""
    t = np.arange(60.0)
    df = pd.DataFrame(
        {"shop": np.repeat(["a", "b"], 60), "y": np.r_[np.sin(t / 3), 5 + np.cos(t / 4)]}
    )
    kwargs = dict(lookback=6, horizon=3, start=48, refit=refit, target="y", groups="shop")
    scores = backtest(LinearRegression(), df, **kwargs)
    assert scores.index.names == ["group", "origin"] and len(scores) == 2 * 4 + 1
    assert scores.index[4] == ("b", 60 + 47) and scores.index[-1] == ("overall", "")
    spiked = df.copy()
    spiked.loc[60 + 51 :, "y"] += 1000  # series b from position 51, after the first horizon
    hit = backtest(LinearRegression(), spiked, **kwargs)
    first_origin = [("a", 47), ("b", 107)]
    pd.testing.assert_series_equal(scores.loc[first_origin, "mae"], hit.loc[first_origin, "mae"])
    if not refit:  # one model fitted before the first origin: series a never sees the spike
        pd.testing.assert_series_equal(scores.loc["a", "mae"], hit.loc["a", "mae"])


def test_backtest_with_tcn_refit_and_sliding_window():
    """The TCN runs through refitting backtests with both window kinds."""
    y = np.sin(np.arange(160) / 4)
    # the walk, not the statistical member, is under test: ets=False
    tcn = TCNForecaster(max_epochs=3, channels=8, random_state=0, device="cpu", ets=False)
    for window in ("expanding", "sliding"):
        scores = backtest(tcn, y, lookback=12, horizon=4, start=140, refit=True, window=window)
        assert len(scores) == 5 + 1 and np.isfinite(scores.to_numpy()).all()
    with pytest.raises(ValueError, match="start=10 leaves no room"):
        backtest(tcn, y, lookback=12, horizon=4, start=10)


def test_plot_forecast_draws_three_lines():
    """plot_forecast draws history, forecast and actuals on one Axes."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from skresnet.timeseries import plot_forecast

    s = pd.Series(np.arange(30.0), index=pd.date_range("2024", periods=30, freq="D"))
    fc = pd.Series([30.0, 31.0], index=pd.date_range("2024-01-31", periods=2, freq="D"))
    ax = plot_forecast(s, fc, actual=[30.5, 31.5], last=10)
    assert [ln.get_label() for ln in ax.get_lines()[:3]] == ["history", "forecast", "actual"]
    assert len(ax.get_lines()[0].get_xdata()) == 10


class _CountingLinear(LinearRegression):
    """A linear model that records the rows of every fit and predict call (on the class,
    since backtest fits clones)."""

    calls: list = []

    def fit(self, X, y):
        _CountingLinear.calls.append(("fit", len(X)))
        return super().fit(X, y)

    def predict(self, X):
        _CountingLinear.calls.append(("predict", len(X)))
        return super().predict(X)


def test_without_refit_every_origin_is_predicted_in_one_call():
    """Without refit: one fit, then one predict for all origins; with refit: one each per origin."""
    y = np.sin(np.arange(100.0))
    _CountingLinear.calls = []
    scores = backtest(_CountingLinear(), y, lookback=6, horizon=4, start=80)
    assert len(scores) - 1 == 5
    assert _CountingLinear.calls == [("fit", 80 - 6 - 4 + 1), ("predict", 5)]
    _CountingLinear.calls = []
    backtest(_CountingLinear(), y, lookback=6, horizon=4, start=80, refit=True)
    assert [kind for kind, _ in _CountingLinear.calls] == ["fit", "predict"] * 5
    assert {n for kind, n in _CountingLinear.calls if kind == "predict"} == {1}


def test_backtest_compares_with_seasonal_naive_and_warns_below_three_origins():
    """naive_mase is the seasonal naive forecast's MASE from each origin; fewer than 3
    origins per series are noisy and say so."""
    from sklearn.linear_model import LinearRegression

    t = np.arange(120.0)
    y = 10 + np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.3, 120)
    s = pd.Series(y)
    scores = backtest(LinearRegression(), s, lookback=24, horizon=12, start=84, season_length=12)
    # by hand, origin 84: repeat steps 72-83; scale: in-sample seasonal naive MAE on [:84]
    scale = np.mean(np.abs(y[12:84] - y[:72]))
    expected = np.mean(np.abs(y[84:96] - y[72:84])) / scale
    assert scores["naive_mase"].iloc[0] == pytest.approx(expected)
    with pytest.warns(UserWarning, match="2 origin\\(s\\) per series") as rec:
        backtest(LinearRegression(), s, lookback=24, horizon=12, start=96, season_length=12)
    assert [r.filename for r in rec if "origin" in str(r.message)] == [__file__]  # the caller


def test_backtest_warns_where_mase_has_no_scale():
    """MASE is NaN where the steps before the first origin cannot scale it (a season
    longer than them, a constant series), and backtest says so once; defined scores
    raise no such warning."""
    from sklearn.linear_model import LinearRegression

    y = pd.Series(10 + np.sin(np.arange(60.0)))
    with pytest.warns(UserWarning, match=r"MASE is NaN at 3 of 3 origins.*season_length=52"):
        scores = backtest(LinearRegression(), y, lookback=12, horizon=6, start=42, season_length=52)
    assert scores["mase"].isna().all() and np.isfinite(scores["mae"]).all()
    with pytest.warns(UserWarning, match="MASE is NaN"):
        backtest(LinearRegression(), pd.Series(np.full(60, 3.0)), lookback=12, horizon=6, start=42)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = backtest(LinearRegression(), y, lookback=12, horizon=6, start=42, season_length=4)
    assert np.isfinite(scores["mase"]).all()
