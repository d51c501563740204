"""TCNForecaster: window shapes, receptive field, covariates, window normalization."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from skresnet import TCNForecaster
from skresnet._callbacks import kept_epoch
from skresnet.timeseries import backtest, make_windows
from skresnet.timeseries._windows import series_units

# The network alone: the statistical member (ets) has its own tests in test_ets.py, and
# weighing it costs two Holt-Winters and two Theta fits per validation window.
FAST = dict(max_epochs=20, random_state=0, device="cpu", channels=16, ets=False)


@pytest.fixture(scope="module")
def sine_windows():
    t = np.arange(400)
    series = np.sin(2 * np.pi * t / 25) + 0.05 * np.random.default_rng(0).normal(size=400)
    return make_windows(series, lookback=30, horizon=5)


def test_shapes_receptive_field_and_fit(sine_windows):
    """Predictions are (n, horizon); the receptive field covers the lookback; a sine is learned."""
    X, y = sine_windows
    tcn = TCNForecaster(**FAST).fit(X, y)
    assert tcn.predict(X).shape == (len(X), 5)
    assert (tcn.lookback_, tcn.n_channels_, tcn.horizon_) == (30, 1, 5)
    assert tcn.receptive_field_ >= 30
    assert tcn.score(X, y) > 0.9


def test_one_dimensional_target(sine_windows):
    """y of shape (n,) gives predictions of shape (n,)."""
    X, y = sine_windows
    assert TCNForecaster(**{**FAST, "max_epochs": 2}).fit(X, y[:, 0]).predict(X).shape == (len(X),)


def test_window_normalization_handles_levels_outside_training(sine_windows):
    """With normalize='window' a sine shifted by +1000 is forecast around 1000; without, not."""
    X, y = sine_windows
    err = {}
    for normalize in ("window", None):
        tcn = TCNForecaster(normalize=normalize, **FAST).fit(X, y)
        err[normalize] = np.abs(tcn.predict(X + 1000) - (y + 1000)).mean()
    assert err["window"] < 0.3 < err[None]


def test_covariate_that_drives_the_target_is_used():
    """When the future depends on a covariate channel, a model with it beats one without."""
    rng = np.random.default_rng(0)
    n = 600
    promo = (rng.random(n) < 0.3).astype(float)
    sales = rng.normal(scale=0.1, size=n)
    sales[1:] += 2 * promo[:-1]  # a promotion lifts the next day's sales
    X, y = make_windows(np.c_[sales, promo], lookback=10, horizon=1, target=0, covariates=[1])
    with_cov = TCNForecaster(**FAST).fit(X, y).score(X, y)
    without = TCNForecaster(**FAST).fit(X[:, :, 0], y).score(X[:, :, 0], y)
    assert X.shape[2] == 2
    assert with_cov > 0.8 and without < 0.3


def test_target_channel_selects_the_series(sine_windows):
    """target_channel picks which channel's scale the forecast is expressed in."""
    X, y = sine_windows
    X2 = np.stack([100 * X, X], axis=2)
    tcn = TCNForecaster(target_channel=1, **FAST).fit(X2, y)
    assert tcn.score(X2, y) > 0.9
    with pytest.raises(ValueError, match="target_channel=2 but X has 2 channel"):
        TCNForecaster(target_channel=2).fit(X2, y)


def test_forecast_beyond_the_data_with_future_timestamps():
    """forecast gives horizon steps after the end, indexed by the next timestamps."""
    import pandas as pd

    t = np.arange(300)
    s = pd.Series(
        np.sin(2 * np.pi * t / 20), index=pd.date_range("2024-01-01", periods=300, freq="h")
    )
    X, y = make_windows(s, lookback=40, horizon=10)
    tcn = TCNForecaster(**FAST).fit(X, y)
    fc = tcn.forecast(s)
    assert len(fc) == 10
    assert fc.index[0] == pd.Timestamp("2024-01-13 12:00") and fc.index.freqstr == "h"
    # the window's forecast, the statistical member reading the whole series
    history = s.to_numpy()
    np.testing.assert_allclose(
        fc.to_numpy(), tcn.predict(history[-40:][None], context=[history])[0]
    )
    long = tcn.forecast(s, steps=25)
    assert len(long) == 25 and np.array_equal(long.to_numpy()[:10], fc.to_numpy())
    # steps 11-20 are the forecast from a window that ends with the first 10 forecasts
    extended = np.r_[history, fc.to_numpy()]
    np.testing.assert_allclose(
        long.to_numpy()[10:20], tcn.predict(extended[-40:][None], context=[extended])[0]
    )
    truth = np.sin(2 * np.pi * np.arange(300, 325) / 20)
    assert np.abs(long.to_numpy() - truth).mean() < 0.2


def test_forecast_errors():
    """Too short a history and recursive steps with covariates are refused clearly."""
    X, y = make_windows(
        np.c_[np.arange(60.0), np.ones(60)], lookback=8, horizon=2, target=0, covariates=[1]
    )
    tcn = TCNForecaster(max_epochs=1, device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="at least lookback_=8"):
        tcn.forecast(np.ones((5, 2)))
    with pytest.raises(ValueError, match="needs every covariate.s future values"):
        tcn.forecast(np.ones((20, 2)), steps=5)
    with pytest.raises(ValueError, match=r"history has 1 channel\(s\); expected 2"):
        tcn.forecast(np.ones(20))
    assert tcn.forecast(np.ones((20, 2))).shape == (2,)


@pytest.fixture(scope="module")
def promo_model():
    """A series driven by promotions known in advance, and a TCN trained on it."""
    rng = np.random.default_rng(0)
    n = 500
    promo = (rng.random(n) < 0.3).astype(float)
    sales = 10 + 5 * promo + 0.3 * rng.normal(size=n)
    df = pd.DataFrame({"sales": sales, "promo": promo})
    X, y = make_windows(df, lookback=24, horizon=4, target="sales", future_covariates=["promo"])
    return df, TCNForecaster(**{**FAST, "max_epochs": 30, "lr": 3e-3}).fit(X, y)


def test_future_covariates_drive_the_forecast(promo_model):
    """Promotions given in `future` move each forecast step by their lift; past-only
    covariates could not, since the lift happens on the promotion day itself."""
    df, tcn = promo_model
    plan = np.array([1.0, 0.0, 1.0, 0.0])
    fc = tcn.forecast(df, future=pd.DataFrame({"promo": plan}))
    assert (
        isinstance(fc, pd.Series) and fc.name == "sales" and list(fc.index) == [500, 501, 502, 503]
    )
    no_promo = tcn.forecast(df, future=np.zeros((4, 1))).to_numpy()
    np.testing.assert_allclose(no_promo, 10, atol=0.6)
    lift = fc.to_numpy() - no_promo
    assert (lift[plan == 1] > 2).all() and (np.abs(lift[plan == 0]) < 1).all()


def test_recursive_forecast_with_future_covariates(promo_model):
    """Past the horizon, forecasts are fed back and `future` supplies the covariate."""
    df, tcn = promo_model
    plan = np.tile([1.0, 0.0, 0.0], 4)
    fc = tcn.forecast(df, steps=10, future=plan[:, None])
    assert fc.shape == (10,)
    promo_days, plain_days = fc.to_numpy()[plan[:10] == 1], fc.to_numpy()[plan[:10] == 0]
    assert promo_days.min() > plain_days.max() + 1 and (np.abs(plain_days - 10) < 1).all()
    first = tcn.forecast(df, future=plan[:4, None])
    np.testing.assert_array_equal(fc.to_numpy()[:4], first.to_numpy())
    with pytest.raises(ValueError, match="future has 10 rows; 12 are needed"):
        tcn.forecast(df, steps=10, future=plan[:10, None])
    with pytest.raises(ValueError, match="at most 1 can be future covariates"):
        tcn.forecast(df, future=np.zeros((4, 2)))


def test_forecast_each_group_in_one_call():
    """With groups, each series is forecast from its own last window, indexed by
    (group, its next timestamps), and equals forecasting that series alone."""
    t = np.arange(120)
    frames = [
        pd.DataFrame(
            {"store": name, "sales": level + np.sin(2 * np.pi * t / 12)},
            index=pd.date_range(start, periods=120, freq="D"),
        )
        for name, level, start in (("a", 0.0, "2024-01-01"), ("b", 50.0, "2024-03-01"))
    ]
    df = pd.concat(frames)
    X, y = make_windows(df, lookback=24, horizon=6, target="sales", groups="store")
    tcn = TCNForecaster(**FAST).fit(X, y)
    fc = tcn.forecast(df, groups="store")
    assert fc.index.names == ["store", "time"] and len(fc) == 12
    assert fc.loc["b"].index[0] == pd.Timestamp("2024-06-29")
    for name, frame in zip("ab", frames, strict=True):
        alone = tcn.forecast(frame[["sales"]])
        np.testing.assert_array_equal(fc.loc[name].to_numpy(), alone.to_numpy())
    assert abs(fc.loc["b"].mean() - 50) < 1 and abs(fc.loc["a"].mean()) < 1
    labels = tcn.forecast(df[["sales"]], groups=df["store"].to_numpy())  # labels, not a column
    assert labels.name == "sales" and labels.index.names == ["group", "time"]
    np.testing.assert_array_equal(labels.to_numpy(), fc.to_numpy())
    arrays = tcn.forecast(df["sales"].to_numpy(), steps=8, groups=df["store"].to_numpy())
    assert arrays.index.names == ["group", "time"] and list(arrays.loc["a"].index) == list(
        range(120, 128)
    )


def test_early_stopping_validates_on_the_last_windows(sine_windows):
    """The early-stopping holdout is the last windows in order: its best loss is theirs."""
    X, y = sine_windows
    # without the linear start, which an epoch may not beat (then the start is kept)
    tcn = TCNForecaster(
        **{**FAST, "max_epochs": 5},
        validation_fraction=0.2,
        refit=False,
        linear_skip=False,  # FAST's ets=False: the network's own forecasts, as scored
    ).fit(X, y)
    assert "start_kept" not in tcn.history_[-1]
    n_valid = int(np.ceil(0.2 * len(X)))
    best = min(tcn.history_[:, "valid_loss"])

    unit = series_units(X, None, None)[0]  # one series: one unit for every window

    def scaled_mse(rows):
        # errors in units of the series' scale, as the loss measures them
        return np.mean(((tcn.predict(X[rows]) - y[rows]) / unit) ** 2)

    assert scaled_mse(slice(-n_valid, None)) == pytest.approx(best, rel=1e-4)
    assert scaled_mse(slice(0, n_valid)) != pytest.approx(best, rel=1e-3)


def test_early_stopping_scores_at_most_max_scored_windows(sine_windows, monkeypatch):
    """Every validation window is held out of training, but at most MAX_SCORED_WINDOWS
    of them, spread evenly over the validation period, are scored at each epoch: the
    best loss is theirs."""
    from skresnet import _training
    from skresnet.timeseries._windows import evenly

    monkeypatch.setattr(_training, "MAX_SCORED_WINDOWS", 20)
    X, y = sine_windows
    tcn = TCNForecaster(
        **{**FAST, "max_epochs": 3}, validation_fraction=0.2, refit=False, linear_skip=False
    ).fit(X, y)
    n_valid = int(np.ceil(0.2 * len(X)))
    assert n_valid > 40
    for row in tcn.history_:
        assert sum(b.get("valid_batch_size", 0) for b in row["batches"]) == 20
        assert sum(b.get("train_batch_size", 0) for b in row["batches"]) == len(X) - n_valid
    rows = evenly(np.arange(len(X) - n_valid, len(X)), 20)
    unit = series_units(X, None, None)[0]
    scored = np.mean(((tcn.predict(X[rows]) - y[rows]) / unit) ** 2)
    assert scored == pytest.approx(min(tcn.history_[:, "valid_loss"]), rel=1e-4)


def test_training_starts_from_the_linear_forecast(sine_windows):
    """With linear_skip the untrained start is the least-squares linear forecaster."""
    X, y = sine_windows
    tcn = TCNForecaster(**FAST).fit(X, y)
    start = tcn.history_[0, "batches", 0, "train_loss"]
    plain = TCNForecaster(**FAST, linear_skip=False).fit(X, y)
    assert start < 0.1 < plain.history_[0, "batches", 0, "train_loss"]


def test_silent_no_files_and_seeded(tmp_path, monkeypatch, capfd):
    """Fit (early stopping on), predict, forecast and backtest print nothing, warn nothing
    and write no file; the same seed gives the same forecast, another seed a different one."""
    monkeypatch.chdir(tmp_path)
    series = pd.Series(
        np.sin(np.arange(200) / 4), index=pd.date_range("2024-01-01", periods=200, freq="h")
    )
    X, y = make_windows(series, lookback=24, horizon=6)
    params = dict(max_epochs=3, channels=8, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tcn = TCNForecaster(random_state=0, **params).fit(X, y)
        first = tcn.forecast(series)
        backtest(tcn, series, lookback=24, horizon=6, start=180)
    assert capfd.readouterr() == ("", "")
    assert list(tmp_path.iterdir()) == []
    again = TCNForecaster(random_state=0, **params).fit(X, y).forecast(series)
    pd.testing.assert_series_equal(first, again)
    # Another seed trains another network. (With early stopping on this noiseless
    # sine, no epoch beats the seed-free least-squares start, which both fits keep.)
    one, other = (
        TCNForecaster(random_state=seed, early_stopping=False, **params).fit(X, y).forecast(series)
        for seed in (0, 1)
    )
    assert not np.allclose(one, other)


def _start_wins_windows():
    """A pure sine, which the linear start forecasts almost exactly: with a large learning
    rate no epoch beats it."""
    return make_windows(np.sin(np.arange(300) / 5), lookback=24, horizon=6)


def _small_windows(n_steps=300):
    from skresnet.datasets import make_seasonal_series
    from skresnet.timeseries import make_windows

    series = make_seasonal_series(n_steps, period=12, random_state=0)
    return make_windows(series, lookback=24, horizon=6)


def test_refit_trains_the_final_network_on_all_windows_for_the_chosen_epochs():
    from skresnet._callbacks import kept_epoch

    X, y = _small_windows()
    # refit="auto", 271 windows
    est = TCNForecaster(channels=8, max_epochs=60, random_state=0, ets=False).fit(X, y)
    stopped = est.early_stopping_history_
    assert stopped is not None and "valid_loss" in stopped[-1]
    assert est.n_iter_ == est.max_epochs_ == kept_epoch(stopped)
    assert all("valid_loss" not in row for row in est.history_)  # no rows held out
    assert est.validation_scores_ == [row["valid_score"] for row in stopped]
    again = TCNForecaster(channels=8, max_epochs=60, random_state=0, ets=False).fit(X, y)
    np.testing.assert_array_equal(est.predict(X), again.predict(X))
    # without refit: the early-stopped network itself
    params = dict(channels=8, max_epochs=60, random_state=0, ets=False)
    kept = TCNForecaster(refit=False, **params).fit(X, y)
    assert kept.early_stopping_history_ is None and "valid_loss" in kept.history_[-1]
    assert not np.array_equal(kept.predict(X), est.predict(X))


def _logistic_map_windows():
    """A chaotic series no linear autoregression forecasts: training beats the start."""
    x = np.empty(300)
    x[0] = 0.3
    for t in range(299):
        x[t + 1] = 3.9 * x[t] * (1 - x[t])
    return make_windows(x, lookback=8, horizon=2)


def test_refit_auto_skips_trained_quantile_models_and_large_sets_and_refuses_conformal():
    X, y = _logistic_map_windows()
    # the refit rule, not the statistical member, is under test: ets=False
    q = TCNForecaster(
        channels=8, max_epochs=3, quantiles=(0.1, 0.5, 0.9), random_state=0, ets=False
    )
    q.fit(X, y)
    assert q.early_stopping_history_ is None and kept_epoch(q.history_) > 0
    forced = q.set_params(refit=True).fit(X, y)
    assert forced.early_stopping_history_ is not None
    with pytest.raises(ValueError, match="refit=True"):
        q.set_params(conformal=True).fit(X, y)
    small = TCNForecaster(channels=8, max_epochs=3, random_state=0, ets=False)
    small._REFIT_MAX_WINDOWS = len(X) - 1  # just over the threshold: no refit
    assert small.fit(X, y).early_stopping_history_ is None


def test_a_quantile_model_that_kept_its_linear_start_refits_the_start_on_all_windows():
    """When no epoch beats the linear start, refit="auto" solves the start again on every
    window (zero epochs, as a point model's refit would), and keeps the calibration
    scored by the held-out start on the validation windows it had not seen."""
    X, y = _start_wins_windows()
    params = dict(
        channels=8, max_epochs=3, lr=0.05, quantiles=(0.1, 0.5, 0.9), random_state=0, ets=False
    )
    est = TCNForecaster(**params).fit(X, y)
    assert kept_epoch(est.early_stopping_history_) == 0 and est.n_iter_ == 0
    held_out = TCNForecaster(**params, refit=False).fit(X, y)
    assert held_out.early_stopping_history_ is None and kept_epoch(held_out.history_) == 0
    np.testing.assert_array_equal(est.calibration_scores_, held_out.calibration_scores_)
    np.testing.assert_array_equal(est.conformal_factors_, held_out.conformal_factors_)
    # the network is the start on all windows: what an uncalibrated refit gives
    start_on_all = TCNForecaster(**params, refit=True, conformal=False).fit(X, y)
    np.testing.assert_allclose(
        est.predict_quantiles(X, conformal=False),
        start_on_all.predict_quantiles(X, conformal=False),
        rtol=1e-6,
    )
    assert not np.allclose(est.predict(X[-20:]), held_out.predict(X[-20:]))
    # refit=False and a warm start keep the held-out start
    warm = TCNForecaster(**params, warm_start=True).fit(X, y)
    assert warm.early_stopping_history_ is None


def test_linear_start_chooses_its_penalty_and_prior_on_the_last_windows():
    """An exactly seasonal series starts as its seasonal naive forecast (the prior, fully
    shrunk to); a noisy one gets a penalty from the grid; fewer than 20 windows are the
    best-fitting seasonal naive forecast itself, untrained."""
    from skresnet._forecaster import _LINEAR_SKIP_ALPHAS
    from skresnet.modules._forecast_net import seasonal_naive_coef

    rng = np.random.default_rng(0)
    t = np.arange(140)
    season = 10 * np.sin(2 * np.pi * t / 12)
    X, y = make_windows(season, lookback=36, horizon=12)
    tcn = TCNForecaster(max_epochs=1, early_stopping=False, random_state=0).fit(X, y)
    # a seasonal naive forecast (of 12 or 24 steps back: both exact here), fully shrunk to
    weight = tcn.module_.linear_skip.weight.double()
    assert any(
        torch.allclose(weight, seasonal_naive_coef(36, 1, 0, 12, m, drift=False).T, atol=1e-3)
        for m in (12, 24)
    )
    np.testing.assert_allclose(tcn.predict(X), y, atol=1e-3)
    X, y = make_windows(season + 8.0 * rng.normal(size=140), lookback=36, horizon=12)
    tcn = TCNForecaster(max_epochs=1, early_stopping=False, random_state=0).fit(X, y)
    assert tcn.linear_skip_alpha_ in _LINEAR_SKIP_ALPHAS
    X, y = make_windows(season[:50], lookback=24, horizon=12)
    tcn = TCNForecaster(max_epochs=1, early_stopping=False, random_state=0).fit(X, y)
    assert len(X) < 20 and tcn.linear_skip_alpha_ == _LINEAR_SKIP_ALPHAS[-1] and tcn.n_iter_ == 0


def test_a_panels_start_is_chosen_by_blocked_cross_validation(monkeypatch):
    """Windows of several series (make_windows with groups) score the start's candidates
    by blocked cross-validation over time (n_series_ records how many); one series' by
    its last windows. The penalty chosen is the one choose_ridge_alpha gives that way."""
    from skresnet._forecaster import _LINEAR_SKIP_ALPHAS
    from skresnet.modules import _forecast_net
    from skresnet.modules._ridge import choose_ridge_alpha

    seen = []

    def recording(*args, **kwargs):
        seen.append(kwargs["folds"])
        return choose_ridge_alpha(*args, **kwargs)

    monkeypatch.setattr(_forecast_net, "choose_ridge_alpha", recording)
    rng = np.random.default_rng(0)
    t = np.arange(120)
    frame = pd.DataFrame(
        {
            "value": np.r_[
                50 + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(size=120),
                9000 + 400 * np.sin(2 * np.pi * t / 12) + 60 * rng.normal(size=120),
                np.cumsum(rng.normal(size=120)) + 100,
            ],
            "series": np.repeat(["a", "b", "c"], 120),
        }
    )
    X, y = make_windows(frame, lookback=24, horizon=6, target="value", groups="series")
    panel = TCNForecaster(max_epochs=1, early_stopping=False, random_state=0).fit(X, y)
    assert panel.n_series_ == 3 and seen and set(seen) == {5}
    seen.clear()
    X1, y1 = make_windows(frame["value"][:120], lookback=24, horizon=6)
    single = TCNForecaster(max_epochs=1, early_stopping=False, random_state=0).fit(X1, y1)
    assert single.n_series_ == 1 and seen and set(seen) == {None}
    # plain arrays of the panel's windows carry no series: scored like one series
    seen.clear()
    TCNForecaster(max_epochs=1, early_stopping=False, random_state=0).fit(np.asarray(X), y)
    assert set(seen) == {None}
    # weight on the last stretch only: the blocks before it have nothing to fit on
    seen.clear()
    weight = np.r_[np.zeros(len(X) - 60), np.ones(60)]
    late = TCNForecaster(max_epochs=1, early_stopping=False, random_state=0)
    late.fit(X, y, sample_weight=weight)
    assert set(seen) == {5} and np.isfinite(late.predict(X)).all()
    assert late.linear_skip_alpha_ in _LINEAR_SKIP_ALPHAS


def test_the_automatic_budget_does_not_train_a_start_fitted_on_few_windows():
    """With max_epochs="auto", fewer than 500 training windows leave the network at its
    start (no epoch); an explicit max_epochs trains them as asked."""
    X, y = _small_windows()  # 271 windows
    auto = TCNForecaster(channels=8, random_state=0, refit=False, ets=False).fit(X, y)
    assert auto.max_epochs_ == 0 and auto.n_iter_ == 0
    # 414 training windows (the bound was 300 until visnights' 378 lost by training)
    X4, y4 = _small_windows(489)
    auto = TCNForecaster(channels=8, random_state=0, refit=False, ets=False).fit(X4, y4)
    assert len(X4) - auto._n_validation(len(X4)) == 414 and auto.n_iter_ == 0
    asked = TCNForecaster(channels=8, max_epochs=3, random_state=0, refit=False, ets=False)
    asked.fit(X, y)
    assert asked.n_iter_ == 3
