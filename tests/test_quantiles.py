"""Quantile forecasts: pinball loss, non-crossing outputs, intervals, calibration, forecast."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from skresnet import TCNForecaster
from skresnet.modules import PinballLoss, TCNForecastNet
from skresnet.timeseries import _conformal as conformal
from skresnet.timeseries import backtest, make_windows
from skresnet.timeseries._windows import WindowArray

LEVELS = (0.1, 0.5, 0.9)
# ets=False: calibration with the smoothing member is tested in test_ets.py
FAST = dict(max_epochs=15, random_state=0, device="cpu", channels=16, ets=False)


def scores_of(model, X, y):
    """Conformal scores of windows by the model's own (uncalibrated) quantiles."""
    return conformal.scores(model.predict_quantiles(X, conformal=False), y)


@pytest.fixture(scope="module")
def noisy():
    """A seasonal series plus Gaussian noise of known spread, and its windows."""
    rng = np.random.default_rng(0)
    t = np.arange(2400)
    series = np.sin(2 * np.pi * t / 24) + 0.5 * rng.normal(size=len(t))
    return series, *make_windows(series, lookback=48, horizon=2)


def test_pinball_gradient_matches_a_hand_computation():
    """d/df of mean(max(q e, (q - 1) e)), e = y - f, is -q where y > f and 1 - q where y < f."""
    rng = np.random.default_rng(1)
    levels = torch.tensor([0.1, 0.5, 0.9])
    pred = torch.tensor(rng.normal(size=(6, 4, 3)), dtype=torch.float32, requires_grad=True)
    target = torch.tensor(rng.normal(size=(6, 4)), dtype=torch.float32)
    loss = PinballLoss(levels.tolist())(pred, target)
    loss.mean().backward()
    above = target.unsqueeze(-1) > pred.detach()
    expected = torch.where(above, -levels, 1 - levels) / pred.numel()
    torch.testing.assert_close(pred.grad, expected)
    # and the values: an under-forecast by e costs q e, an over-forecast (1 - q) e
    error = (target.unsqueeze(-1) - pred).detach()
    torch.testing.assert_close(loss.detach(), torch.where(error > 0, levels, levels - 1) * error)


@pytest.mark.parametrize("seed", range(5))
def test_network_quantiles_never_cross(seed):
    """Whatever the weights, the quantile outputs are non-decreasing in the level."""
    torch.manual_seed(seed)
    net = TCNForecastNet(2, 3, n_quantiles=5, median_index=2, lookback=20, linear_skip=True)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(3 * torch.randn_like(p))
    out = net(10 * torch.randn(64, 20, 2))
    assert out.shape == (64, 3, 5)
    assert (out.diff(dim=-1) >= 0).all()


def test_fitted_quantiles_do_not_cross_and_predict_is_the_median(noisy):
    _, X, y = noisy
    model = TCNForecaster(quantiles=LEVELS, **FAST).fit(X[:1500], y[:1500])
    q = model.predict_quantiles(X[1500:])
    assert q.shape == (len(X) - 1500, 2, 3)
    assert (np.diff(q, axis=-1) >= 0).all()
    np.testing.assert_allclose(model.predict(X[1500:]), q[..., 1], rtol=1e-12)
    np.testing.assert_array_equal(model.quantiles_, LEVELS)
    lower, upper = model.predict_interval(X[1500:], coverage=0.8)
    np.testing.assert_array_equal(lower, q[..., 0])
    np.testing.assert_array_equal(upper, q[..., 2])


def test_shapes_for_one_step_and_for_many_series():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "y": np.sin(np.arange(600) / 5) + 0.1 * rng.normal(size=600),
            "store": np.repeat(["a", "b", "c"], 200),
        },
        index=np.tile(pd.date_range("2024-01-01", periods=200, freq="D"), 3),
    )
    X, y = make_windows(frame, lookback=20, horizon=1, target="y", groups="store")
    model = TCNForecaster(quantiles=(0.05, 0.5, 0.95), **FAST).fit(X, y.ravel())
    assert model.predict(X[:7]).shape == (7,)
    assert model.predict_quantiles(X[:7]).shape == (7, 1, 3)
    lower, upper = model.predict_interval(X[:7], coverage=0.9)
    assert lower.shape == upper.shape == (7,) and (lower <= upper).all()
    forecast = model.forecast(frame, groups="store", quantiles=True)
    assert list(forecast.columns) == [0.05, 0.5, 0.95]
    assert forecast.index.get_level_values(0).unique().tolist() == ["a", "b", "c"]
    assert forecast.index.get_level_values(1)[0] == pd.Timestamp("2024-07-19")
    np.testing.assert_allclose(
        forecast[0.5].to_numpy(), model.forecast(frame, groups="store").to_numpy()
    )


def test_coverage_of_80_percent_intervals_on_gaussian_noise(noisy):
    """Fitted once on 1600 windows, then kept calibrated along the rest of the series as
    backtest does, the default 80% interval covers 77-83% of the values that follow.
    Over six draws of the noise: 0.795-0.816 kept calibrated, 0.792-0.859 calibrated at
    fit only (on the last 100 validation windows, whose errors are correlated, so they
    hold less than 100 windows' worth of information). The network's intervals alone
    (ets=False): with the statistical member, each of the ~370 origins and recalibration
    windows costs a Holt-Winters and a Theta fit on 1000 steps (285 s on 2 cores; the
    member's intervals are tested in test_ets.py)."""
    series, _, _ = noisy
    lookback, horizon, n_train = 48, 2, 1600
    scores = backtest(
        TCNForecaster(quantiles=LEVELS, ets=False, random_state=0, device="cpu"),
        series,
        lookback=lookback,
        horizon=horizon,
        start=n_train + lookback + horizon - 1,
    )
    assert len(scores) - 1 == (len(series) - n_train - lookback - 1) // horizon
    covered = scores.loc["overall", "coverage_80"]
    assert 0.77 <= covered <= 0.83, covered


def test_linear_start_is_calibrated_on_the_training_windows(noisy):
    """Before any gradient step, each quantile level has its share of the windows below it."""
    _, X, y = noisy
    start = TCNForecaster(
        quantiles=(0.1, 0.25, 0.5, 0.75, 0.9),
        lr=1e-12,
        max_epochs=1,
        early_stopping=False,
        random_state=0,
        device="cpu",
    ).fit(X, y)
    below = (y[..., None] <= start.predict_quantiles(X)).mean(axis=(0, 1))
    np.testing.assert_allclose(below, [0.1, 0.25, 0.5, 0.75, 0.9], atol=0.02)


@pytest.mark.parametrize("n_windows", [2000, 500])
def test_conformal_calibration_widens_to_nominal_coverage_on_the_calibration_windows(
    noisy, n_windows
):
    """With conformal=True, the 80% interval covers 80% of the calibration values (the
    conformal quantile, so at most one value more). The calibration windows are the last
    validation windows, at most 100: per horizon step from 100 on (2000 windows: 200
    validation windows, the last 100 calibrate), over the steps pooled below (500: 50),
    scaling the network's own distances from the median. (refit=False: the network
    that scored the calibration windows is the one predicting; a start refitted on
    all windows would have seen them.)"""
    _, X, y = noisy
    X, y = X[:n_windows], y[:n_windows]
    model = TCNForecaster(quantiles=LEVELS, conformal=True, refit=False, **FAST).fit(X, y)
    factors = model.conformal_factors_
    assert factors.shape == (2, 1)
    n_cal = min(int(np.ceil(0.1 * len(X))), 100)
    assert model.calibration_scores_.shape == (n_cal, 2, 1)
    lower, upper = model.predict_interval(X[-n_cal:])
    inside = (y[-n_cal:] >= lower) & (y[-n_cal:] <= upper)
    if n_cal >= 100:
        covered, n = inside.mean(axis=0), n_cal
    else:
        assert factors[0, 0] == factors[1, 0]
        covered, n = inside.mean(), inside.size
    level = np.ceil((n + 1) * 0.8) / n
    assert np.all((level <= covered) & (covered <= level + 1 / n)), covered
    raw = model.predict_quantiles(X[:50], conformal=False)
    q = model.predict_quantiles(X[:50])
    np.testing.assert_allclose(q[..., 1], raw[..., 1])
    np.testing.assert_allclose(q[..., 2] - q[..., 1], factors[:, 0] * (raw[..., 2] - raw[..., 1]))
    np.testing.assert_allclose(q[..., 1] - q[..., 0], factors[:, 0] * (raw[..., 1] - raw[..., 0]))


def test_backtest_reports_pinball_and_coverage(noisy):
    series, _, _ = noisy
    scores = backtest(
        TCNForecaster(quantiles=LEVELS, **FAST),
        series[:800],
        lookback=48,
        horizon=4,
        season_length=24,
    )
    assert {"pinball", "coverage_80", "mase"} <= set(scores.columns)
    overall = scores.loc["overall"]
    assert 0 < overall["pinball"] < overall["mase"]  # averaged over levels, <= half the MAE
    assert 0 <= overall["coverage_80"] <= 1


def test_update_calibration_slides_over_the_newest_windows(noisy):
    """New windows' scores replace as many of the oldest; once all are new, the factors are
    those of the new windows alone, and the intervals cover 80% of them (pooled: 50 windows)."""
    _, X, y = noisy
    model = TCNForecaster(quantiles=LEVELS, **FAST).fit(X[:500], y[:500])
    before = model.calibration_scores_.copy()
    assert before.shape == (50, 2, 1)
    network = model.predict_quantiles(X[500:], conformal=False)
    model.update_calibration(X[500:510], y[500:510])
    np.testing.assert_array_equal(model.calibration_scores_[:40], before[10:])
    np.testing.assert_allclose(
        model.calibration_scores_[40:], scores_of(model, X[500:510], y[500:510])
    )
    # errors twice as large: the intervals widen until they cover 80% of them
    Xn, yn = X[600:650], y[600:650]
    mid = model.predict(Xn)
    yn = mid + 2 * (yn - mid)
    factor_before = model.conformal_factors_[0, 0]
    model.update_calibration(Xn, yn)
    k = int(np.ceil(101 * 0.8))  # 50 windows x 2 steps, pooled: the 81st smallest
    level = k / 100
    new_scores = scores_of(model, Xn, yn)
    np.testing.assert_array_equal(model.calibration_scores_, new_scores)
    assert model.conformal_factors_[0, 0] == np.sort(new_scores, axis=None)[k - 1] * (1 + 1e-9)
    assert model.conformal_factors_[0, 0] > 1.3 * factor_before  # 1.45 at this seed
    lower, upper = model.predict_interval(Xn)
    covered = ((yn >= lower) & (yn <= upper)).mean()
    assert level <= covered <= level + 0.01, covered
    np.testing.assert_array_equal(
        model.predict_quantiles(X[500:], conformal=False), network
    )  # net unchanged


def test_a_panel_calibrates_on_up_to_100_windows_per_series():
    """Windows of three series from make_windows calibrate on their last 300 validation
    windows (the same 100 time steps of each series), a plain array of them on the last 100
    (which, in time order, come from the last 34 steps)."""
    rng = np.random.default_rng(0)
    t = np.arange(1500.0)
    frame = pd.DataFrame(
        {
            "shop": np.repeat(["a", "b", "c"], 1500),
            "y": np.tile(np.sin(t / 4), 3) + 0.3 * rng.normal(size=4500),
        }
    )
    X, y = make_windows(frame, lookback=16, horizon=2, target="y", groups="shop")
    assert X.n_series == 3 and int(np.ceil(0.1 * len(X))) > 300
    # without the linear start, which a panel chooses by blocked cross-validation
    params = {**FAST, "max_epochs": 2, "linear_skip": False}
    panel = TCNForecaster(quantiles=LEVELS, **params).fit(X, y)
    assert panel.calibration_scores_.shape == (300, 2, 1)
    # the same windows said to be of one series (same loss units, so the same network)
    one = WindowArray.of(np.asarray(X), channels=X.channels, n_future=0, series=X.series)
    flat = TCNForecaster(quantiles=LEVELS, **params).fit(one, y)
    assert flat.calibration_scores_.shape == (100, 2, 1)
    np.testing.assert_array_equal(flat.calibration_scores_, panel.calibration_scores_[-100:])


def test_update_calibration_refuses_what_it_cannot_use(noisy):
    _, X, y = noisy
    with pytest.raises(NotFittedError):
        TCNForecaster(quantiles=LEVELS).update_calibration(X[:5], y[:5])
    point = TCNForecaster(**FAST).fit(X[:300], y[:300])
    with pytest.raises(ValueError, match="points only"):
        point.update_calibration(X[:5], y[:5])
    raw = TCNForecaster(quantiles=LEVELS, conformal=False, **FAST).fit(X[:300], y[:300])
    with pytest.raises(ValueError, match="not conformally calibrated.*conformal=True"):
        raw.update_calibration(X[:5], y[:5])
    model = TCNForecaster(quantiles=LEVELS, **FAST).fit(X[:300], y[:300])
    with pytest.raises(ValueError, match="y has shape \\(5, 3\\); expected \\(n_windows, 2\\)"):
        model.update_calibration(X[:5], np.zeros((5, 3)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.update_calibration(X[:5], y[:4])
    with pytest.raises(ValueError, match="NaN"):
        model.update_calibration(X[:5], np.full((5, 2), np.nan))


def test_backtest_keeps_the_calibration_up_to_date_as_errors_grow():
    """The noise doubles after the fit: calibrated at fit only, the 80% interval covers far
    less than 80%; kept calibrated origin by origin (the default), it recovers. The network
    and so the point forecasts are the same either way."""
    rng = np.random.default_rng(3)
    t = np.arange(1400)
    spread = np.where(t < 900, 0.3, 0.9)
    series = np.sin(2 * np.pi * t / 24) + spread * rng.normal(size=len(t))
    kw = dict(lookback=48, horizon=4, start=900, season_length=24)
    model = TCNForecaster(quantiles=LEVELS, **FAST)
    fixed = backtest(model, series, recalibrate=False, **kw).loc["overall"]
    kept = backtest(model, series, **kw).loc["overall"]
    assert kept["mase"] == fixed["mase"]
    assert fixed["coverage_80"] < 0.6
    assert 0.7 <= kept["coverage_80"] <= 0.85, kept["coverage_80"]
    assert kept["pinball"] < fixed["pinball"]


def test_backtest_walks_the_calibration_as_update_calibration_would(noisy):
    """backtest's batched walk equals fitting the same model, then before each origin
    update_calibration on the windows whose targets ended since the previous one, then
    predict_quantiles: the same windows, in the same order, to the last digit."""
    series = noisy[0][:700]
    lookback, horizon, start = 48, 4, 600
    scores = backtest(
        TCNForecaster(quantiles=LEVELS, **FAST),
        series,
        lookback=lookback,
        horizon=horizon,
        start=start,
        season_length=24,
    )
    X, y = make_windows(series[:start], lookback=lookback, horizon=horizon)
    model = TCNForecaster(quantiles=LEVELS, **FAST).fit(X, y)
    X_all, y_all = make_windows(series, lookback=lookback, horizon=horizon)
    known = start  # windows (by origin w = row + lookback) with targets ending by then
    for origin, (_, row) in zip(
        range(start, 700 - horizon + 1, horizon), scores.iloc[:-1].iterrows(), strict=True
    ):
        fresh = slice(known - horizon + 1 - lookback, origin - horizon + 1 - lookback)
        if origin > start:
            model.update_calibration(X_all[fresh], y_all[fresh])
        known = origin
        q = model.predict_quantiles(X_all[origin - lookback : origin - lookback + 1])[0]
        actual = y_all[origin - lookback]
        error = actual[:, None] - q
        pinball = np.mean(np.maximum(np.array(LEVELS) * error, (np.array(LEVELS) - 1) * error))
        scale = np.mean(np.abs(series[24:start] - series[: start - 24]))
        assert row["pinball"] == pytest.approx(pinball / scale, rel=1e-12)
        inside = (actual >= q[:, 0]) & (actual <= q[:, 2])
        assert row["coverage_80"] == inside.mean()


def test_backtest_calibration_walk_over_groups_never_looks_ahead():
    """With groups, one calibration serves every series and takes a window only once its
    target is known: a jump in series b from step 160 leaves every score before it alone
    (series a's up to origin 158, whose targets end at 161), and series a's later
    intervals widen with b's new errors."""
    rng = np.random.default_rng(0)
    t = np.arange(200.0)
    df = pd.DataFrame(
        {
            "shop": np.repeat(["a", "b"], 200),
            "y": np.r_[np.sin(t / 3), np.cos(t / 4)] + 0.2 * rng.normal(size=400),
        }
    )
    kw = dict(lookback=12, horizon=4, start=150, target="y", groups="shop")
    model = TCNForecaster(quantiles=LEVELS, **FAST)
    before = backtest(model, df, **kw)
    jumped = df.copy()
    jumped.loc[200 + 160 :, "y"] += 3.0
    after = backtest(model, jumped, **kw)
    cols = ["pinball", "coverage_80"]
    a_early = [("a", 150 + k - 1) for k in (0, 4, 8)]  # labels: the step before each origin
    b_early = [("b", 350 + k - 1) for k in (0, 4)]
    pd.testing.assert_frame_equal(before.loc[a_early, cols], after.loc[a_early, cols])
    pd.testing.assert_frame_equal(before.loc[b_early, cols], after.loc[b_early, cols])
    a_late = [("a", o - 1) for o in range(166, 197, 4)]
    assert (after.loc[a_late, "pinball"] != before.loc[a_late, "pinball"]).any()
    assert after.loc[a_late, "coverage_80"].mean() >= before.loc[a_late, "coverage_80"].mean()


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(quantiles=(0.1, 0.9)), "not symmetric around 0.5"),
        (dict(quantiles=(0.1, 0.2, 0.3)), "not symmetric around 0.5"),
        (dict(quantiles=(0.05, 0.5, 0.9)), "pairs of levels p and 1 - p"),
        (dict(quantiles=(0.5,)), "one level; give at least three"),
        (dict(quantiles=0.9), "must be an instance of .list."),
        (dict(quantiles=(0.0, 0.5, 1.0)), "distinct floats in \\(0, 1\\)"),
        (dict(quantiles=(0.5, 0.5, 0.9)), "distinct"),
        (dict(quantiles=("a", 0.5, 0.9)), "sequence of floats"),
        (dict(quantiles=LEVELS, loss="huber"), "pinball"),
        (dict(conformal=True), "set quantiles"),
        (dict(quantiles=LEVELS, conformal=True, early_stopping=False), "early_stopping=True"),
    ],
)
def test_bad_quantile_settings_are_refused(params, message):
    X, y = make_windows(np.sin(np.arange(100) / 3), lookback=10, horizon=2)
    with pytest.raises(ValueError, match=message):
        TCNForecaster(max_epochs=1, device="cpu", **params).fit(X, y)


def test_quantile_methods_explain_what_is_missing():
    X, y = make_windows(np.sin(np.arange(100) / 3), lookback=10, horizon=2)
    point = TCNForecaster(max_epochs=1, device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="points only"):
        point.predict_quantiles(X)
    with pytest.raises(ValueError, match="points only"):
        point.predict_interval(X)
    model = TCNForecaster(quantiles=LEVELS, max_epochs=1, device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="coverage can be one of \\[0.8\\]"):
        model.predict_interval(X, coverage=0.9)
    with pytest.raises(ValueError, match="not fed back"):
        model.forecast(np.sin(np.arange(30) / 3), steps=3, quantiles=True)
    model.set_params(warm_start=True, quantiles=(0.2, 0.5, 0.8))
    with pytest.raises(ValueError, match="warm start"):
        model.fit(X, y)


def test_conformal_auto_calibrates_quantile_models_with_early_stopping_only():
    from skresnet.datasets import make_seasonal_series
    from skresnet.timeseries import make_windows

    series = make_seasonal_series(300, period=12, random_state=0)
    X, y = make_windows(series, lookback=24, horizon=6)
    common = dict(channels=8, max_epochs=3, random_state=0, ets=False)  # test_ets has it
    levels = (0.1, 0.5, 0.9)
    auto = TCNForecaster(quantiles=levels, **common).fit(X, y)
    assert auto.conformal_factors_.shape == (6, 1)
    explicit = TCNForecaster(quantiles=levels, conformal=True, **common).fit(X, y)
    np.testing.assert_array_equal(auto.predict_quantiles(X), explicit.predict_quantiles(X))
    assert (
        TCNForecaster(quantiles=levels, conformal=False, **common).fit(X, y).conformal_factors_
        is None
    )
    # "auto" never raises: off without quantiles, without early stopping, or with refit=True
    assert TCNForecaster(**common).fit(X, y).conformal_factors_ is None
    no_stop = TCNForecaster(quantiles=levels, early_stopping=False, **common).fit(X, y)
    assert no_stop.conformal_factors_ is None
    refit = TCNForecaster(quantiles=levels, refit=True, **common).fit(X, y)
    assert refit.conformal_factors_ is None and refit.early_stopping_history_ is not None


@pytest.fixture(scope="module")
def calibrated():
    X, y = make_windows(np.sin(np.arange(400) / 4), lookback=12, horizon=3)
    return TCNForecaster(quantiles=(0.05, 0.25, 0.5, 0.75, 0.95), **FAST).fit(X, y), X


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_new=st.integers(1, 60),
    spread=st.floats(0.0, 50.0),
    seed=st.integers(0, 2**16),
)
def test_any_update_keeps_the_median_and_the_order(calibrated, n_new, spread, seed):
    """Whatever actuals arrive (any number of windows, errors from none to huge), the
    calibration keeps its size, every factor is finite and non-negative, the quantiles stay
    in order and the middle one (predict) does not move."""
    fitted, X = calibrated
    model = copy.deepcopy(fitted)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(X), size=n_new)
    y_new = model.predict(X[rows]) + spread * rng.standard_normal((n_new, 3))
    before = model.predict(X[:50])
    model.update_calibration(X[rows], y_new)
    assert model.calibration_scores_.shape == fitted.calibration_scores_.shape
    assert np.isfinite(model.conformal_factors_).all() and (model.conformal_factors_ >= 0).all()
    q = model.predict_quantiles(X[:50])
    assert (np.diff(q, axis=-1) >= 0).all()
    np.testing.assert_array_equal(q[..., 2], before)
    np.testing.assert_array_equal(model.predict(X[:50]), before)
