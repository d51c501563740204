"""The forecaster's statistical member: per-window Holt-Winters and Theta, and its combination."""

import pickle

import numpy as np
import pandas as pd
import pytest

from skresnet import TCNForecaster
from skresnet.timeseries import make_windows
from skresnet.timeseries._ets import (
    COMBINATION_WEIGHTS,
    THETAS,
    _fit_holt_winters,
    _theta_fit,
    choose_theta,
    choose_weight,
    combine,
    holt_winters,
    in_units,
    smooth_window,
    smooth_windows,
    stl_smoothing,
    theta,
)

FAST = dict(channels=8, max_epochs=3, random_state=0, device="cpu")


def _seasonal(n=200, level=100.0, seed=0):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return level * (1 + 0.2 * np.sin(2 * np.pi * t / 12) + 0.002 * t) + rng.normal(0, 1, n)


@pytest.mark.parametrize("c", [1e-3, 7.0, 1e4])
def test_smoothing_scales_with_the_window(c):
    w = _seasonal(36)
    base = smooth_window(w, 12, 12)
    # the window in its units is bit-identical (in_units), and so are the fits
    np.testing.assert_allclose(smooth_window(w * c, 12, 12), base * c, rtol=1e-12)
    assert base.shape == (12,) and np.all(np.isfinite(base))


@pytest.mark.parametrize("method", [holt_winters, theta, smooth_window])
def test_each_member_follows_a_seasonal_pattern(method):
    w = _seasonal(48) / 100.0
    forecast = method(w[:36], 12, 12)
    # the season repeats: far closer to the truth than the window's mean level
    assert np.abs(forecast - w[36:]).mean() < 0.25 * np.abs(w[36:] - w[:36].mean()).mean()


def test_member_is_two_thirds_holt_winters_one_third_theta_or_the_one_that_worked():
    w = _seasonal(36)
    z, unit = in_units(w)
    assert unit == np.abs(w).mean()
    both = (2 * holt_winters(z, 6, 12) + theta(z, 6, 12, choose=False)) / 3 * unit
    np.testing.assert_allclose(smooth_window(w, 6, 12), both, rtol=1e-9)
    # a history (a context) has its Theta line chosen at the last origins
    history = _seasonal(120)
    z, unit = in_units(history)
    chosen = (2 * holt_winters(z, 6, 12) + theta(z, 6, 12)) / 3 * unit
    np.testing.assert_allclose(smooth_window(history, 6, 12, history=True), chosen, rtol=1e-9)
    # three points: too few for either, so no forecast (the network's alone is kept)
    assert np.all(np.isnan(smooth_window(np.array([1.0, 2.0, 4.0]), 2, 1)))


def test_theta_line_is_chosen_by_the_errors_at_the_last_origins():
    """A steady trend takes the largest theta (the trend line's full drift, where the
    classical 2 keeps half of it), a level with noise a small one; the choice is the
    theta of least error at the last three origins, and theta() forecasts with it."""
    rng = np.random.default_rng(0)
    t = np.arange(60)
    trend = 1 + 0.05 * t + rng.normal(0, 0.02, 60)
    assert choose_theta(trend, 6, 1) == max(THETAS)
    expected = _theta_fit(trend, 1).forecast(6, theta=max(THETAS))
    np.testing.assert_allclose(theta(trend, 6, 1), expected, rtol=1e-12)
    # the choice, recomputed by hand: each origin's fit on the values before it
    errors = []
    for k in (1, 2, 3):
        fit = _theta_fit(trend[: 60 - 6 * k], 1)
        actual = trend[60 - 6 * k : 66 - 6 * k]
        errors.append([np.abs(fit.forecast(6, theta=th) - actual).mean() for th in THETAS])
    assert THETAS[int(np.argmin(np.sum(errors, axis=0)))] == max(THETAS)
    level = 1 + rng.normal(0, 0.05, 60)
    level[30:] += 0.3  # a step: a drift fitted across it does not carry on
    assert choose_theta(level, 6, 1) < 2.0


def test_theta_keeps_the_classical_line_without_origins_to_judge():
    """A window too short for any earlier origin (or one whose earlier part would lose
    its season) keeps theta = 2, the classical method."""
    w = _seasonal(30) / 100.0
    assert choose_theta(w[:8], 6, 1) == 2.0
    assert choose_theta(w, 12, 12) == 2.0  # 18 values before the origin: not 2 seasons
    z = _seasonal(60) / 100.0
    assert choose_theta(z, 12, 12) in THETAS


@pytest.mark.parametrize("form", ["mul", "add"])
def test_holt_winters_takes_the_season_form_of_lower_aicc(form):
    t = np.arange(96)
    rng = np.random.default_rng(1)
    season = np.sin(2 * np.pi * t / 12)
    if form == "mul":  # a season growing with the level (a10-like)
        w = np.exp(0.02 * t) * (1 + 0.4 * season) * (1 + rng.normal(0, 0.01, 96))
    else:  # a season of fixed size on a rising level
        w = 10 + 0.1 * t + 2 * season + rng.normal(0, 0.1, 96)
    z, _ = in_units(w)
    fits = {s: _fit_holt_winters(z, 12, s) for s in ("mul", "add")}
    assert min(fits, key=lambda s: fits[s].aicc) == form
    np.testing.assert_array_equal(holt_winters(z, 12, 12), fits[form].forecast(12))
    # with a value at or below zero the season can only be additive
    shifted = z - z.min()
    np.testing.assert_allclose(
        holt_winters(shifted, 12, 12), _fit_holt_winters(shifted, 12, "add").forecast(12)
    )


def test_a_season_over_24_steps_is_read_by_theta_alone():
    """Holt-Winters smooths seasons up to 24 steps; a weekly series' 52-week season
    is deseasonalized by Theta, and the member is then Theta alone."""
    t = np.arange(260)
    rng = np.random.default_rng(0)
    w = 100 * (1 + 0.2 * np.sin(2 * np.pi * t / 52)) + rng.normal(0, 1, 260)
    history, future = w[:208], w[208:221]
    z, unit = in_units(history)
    alone = theta(z, 13, 52, choose=False) * unit
    np.testing.assert_allclose(smooth_window(history, 13, 52), alone, rtol=1e-9)
    error = np.abs(smooth_window(history, 13, 52) - future).mean()
    flat = np.abs(smooth_window(history, 13, 1) - future).mean()
    assert error < 0.2 * flat
    # under two seasons of data: no season, Holt-Winters and Theta again
    short = history[-100:]
    z, u = in_units(short)
    both = (2 * holt_winters(z, 13, 52) + theta(z, 13, 52, choose=False)) / 3 * u
    np.testing.assert_allclose(smooth_window(short, 13, 52), both, rtol=1e-9)


def test_a_season_of_13_to_24_steps_is_taken_out_by_stl():
    """An hourly series' daily season: STL takes it out and a damped trend smooths the
    rest (statsmodels' STLForecast), in place of Holt-Winters' 24 seasonal states; the
    member is two thirds of that and one third Theta, and scales with the window."""
    from statsmodels.tsa.forecasting.stl import STLForecast
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    t = np.arange(120)
    rng = np.random.default_rng(0)
    w = 50 * (1 + 0.3 * np.sin(2 * np.pi * t / 24) + 0.002 * t) + rng.normal(0, 1, 120)
    history, future = w[:96], w[96:]
    z, unit = in_units(history)
    model = dict(trend="add", damped_trend=True, initialization_method="estimated")
    fit = STLForecast(z, ExponentialSmoothing, model_kwargs=model, period=24).fit(
        fit_kwargs=dict(method="L-BFGS-B", use_brute=False)
    )
    np.testing.assert_allclose(stl_smoothing(z, 24, 24), fit.forecast(24), rtol=1e-12)
    both = (2 * stl_smoothing(z, 24, 24) + theta(z, 24, 24, choose=False)) / 3 * unit
    np.testing.assert_allclose(smooth_window(history, 24, 24), both, rtol=1e-9)
    np.testing.assert_allclose(
        smooth_window(history * 1e4, 24, 24), smooth_window(history, 24, 24) * 1e4, rtol=1e-12
    )
    error = np.abs(smooth_window(history, 24, 24) - future).mean()
    assert error < 0.2 * np.abs(smooth_window(history, 24, 1) - future).mean()
    # a season of 12 steps stays Holt-Winters'; under two seasons of data, no season
    z12, u12 = in_units(_seasonal(36))
    hw = (2 * holt_winters(z12, 6, 12) + theta(z12, 6, 12, choose=False)) / 3 * u12
    np.testing.assert_allclose(smooth_window(_seasonal(36), 6, 12), hw, rtol=1e-9)
    short = history[-40:]
    z, u = in_units(short)
    flat = (2 * holt_winters(z, 24, 24) + theta(z, 24, 24, choose=False)) / 3 * u
    np.testing.assert_allclose(smooth_window(short, 24, 24), flat, rtol=1e-9)


def test_smoothing_of_flat_zero_negative_and_short_windows():
    np.testing.assert_array_equal(smooth_window(np.full(24, 3.5), 4, 12), np.full(4, 3.5))
    np.testing.assert_array_equal(smooth_window(np.zeros(24), 4, 12), np.zeros(4))
    negative = smooth_window(_seasonal(36) - 200.0, 6, 12)  # additive season
    assert np.all(np.isfinite(negative)) and np.all(negative < 0)
    short = smooth_window(_seasonal(20), 3, 12)  # under two seasons: no season
    assert short.shape == (3,) and np.all(np.isfinite(short))
    assert smooth_windows(np.stack([_seasonal(36), np.zeros(36)]), 5, 12).shape == (2, 5)


def test_combine_weights_the_median_and_keeps_the_spread():
    model = np.array([[1.0, 2.0]])
    smoothed = np.array([[3.0, np.nan]])
    np.testing.assert_array_equal(combine(model, smoothed, 1.0), model)
    # NaN (a smoothing that failed): the model alone at that step
    np.testing.assert_array_equal(combine(model, smoothed, 0.0), [[3.0, 2.0]])
    np.testing.assert_array_equal(combine(model, smoothed, 0.5), [[2.0, 2.0]])
    q = np.array([[[0.0, 1.0, 4.0], [1.0, 2.0, 3.0]]])
    out = combine(q, np.array([[3.0, 0.0]]), 0.5, median=1)
    np.testing.assert_array_equal(out, [[[1.0, 2.0, 5.0], [0.0, 1.0, 2.0]]])


def test_choose_weight_prefers_the_better_member_and_the_model_on_ties():
    rng = np.random.default_rng(0)
    actual = rng.normal(size=(30, 4))
    noise = rng.normal(size=(30, 4))
    unit = np.ones(30)
    assert choose_weight(actual, actual + noise, actual, unit)[0] == 1.0
    assert choose_weight(actual + noise, actual, actual, unit)[0] == 0.0
    weight, errors = choose_weight(actual, actual, actual, unit)
    assert weight == 1.0 and set(errors) == set(COMBINATION_WEIGHTS)


def test_choose_weight_takes_one_forecaster_alone_only_by_the_margin():
    """An end of the grid must beat its neighbour by alone_margin, else the neighbour."""
    rng = np.random.default_rng(0)
    actual = rng.normal(size=(200, 4))
    unit = np.ones(200)
    model = actual + rng.normal(size=(200, 4))
    # the member: the network's errors and more, a little or much more
    for scale, expected in [(0.1, 0.75), (3.0, 1.0)]:
        member = model + scale * rng.normal(size=(200, 4))
        weight, errors = choose_weight(model, member, actual, unit, alone_margin=0.03)
        assert choose_weight(model, member, actual, unit)[0] == 1.0
        assert errors[1.0] < errors[0.75]
        assert weight == expected
        assert (errors[1.0] < 0.97 * errors[0.75]) == (expected == 1.0)
    # the same for the member alone, and two weights are never overruled
    member = actual + rng.normal(size=(200, 4))
    model = member + 0.1 * rng.normal(size=(200, 4))
    assert choose_weight(model, member, actual, unit)[0] == 0.0
    assert choose_weight(model, member, actual, unit, alone_margin=0.03)[0] == 0.25
    assert choose_weight(model, member, actual, unit, (0.0, 1.0), alone_margin=0.5)[0] == 0.0


def test_the_margin_spares_a_network_that_reads_covariates(monkeypatch):
    """From 50 validation windows an end of the grid needs ALONE_MARGIN, unless the
    windows carry covariates, which the member cannot read."""
    import skresnet.timeseries._ets as ets_module

    margins = []
    choose = ets_module.choose_weight

    def spy(*args, alone_margin=0.0, **kwargs):
        margins.append(alone_margin)
        return choose(*args, alone_margin=alone_margin, **kwargs)

    monkeypatch.setattr(ets_module, "choose_weight", spy)
    # the grid from 5 windows, so that the test stays fast
    monkeypatch.setattr("skresnet._forecast_weighing._MIN_WINDOWS_TO_WEIGH", 5)
    monkeypatch.setattr("skresnet._forecast_weighing._MIN_WINDOWS_TO_CHECK", 5)
    # 100 windows, 10 of them validating, 5 of those of targets no training window had
    y = _seasonal(129)
    frame = pd.DataFrame({"y": y, "promo": np.arange(129) % 5 == 0})
    for covariates, expected in [(None, ets_module.ALONE_MARGIN), (["promo"], 0.0)]:
        margins.clear()
        kw = dict(lookback=24, horizon=6, target="y", future_covariates=covariates)
        X, Y = make_windows(frame, **kw)
        model = TCNForecaster(season_length=1, **{**FAST, "max_epochs": 1}).fit(X, Y)
        assert len(X) == 100 and margins and set(margins) == {expected}
        assert model.ets_weight_ in COMBINATION_WEIGHTS


def test_forecaster_combines_as_documented():
    X, y = make_windows(_seasonal(240), lookback=36, horizon=12)
    # a network of three epochs without its linear start: the member does better on
    # the 19 validation windows, too few to weigh finely: the network counts a fifth
    model = TCNForecaster(season_length=12, linear_skip=False, **FAST).fit(X, y)
    assert model.ets_weight_ == pytest.approx(0.2) and model.season_length_ == 12
    plain = TCNForecaster(ets=False, season_length=12, linear_skip=False, **FAST).fit(X, y)
    assert plain.ets_weight_ == 1.0
    last = np.asarray(X[-3:])
    expected = combine(plain.predict(last), smooth_windows(last, 12, 12), model.ets_weight_)
    # the same network (ets does not change training), combined after it
    np.testing.assert_allclose(model.predict(last), expected, rtol=1e-6)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(last), model.predict(last))


def test_forecaster_weighs_on_validation_windows():
    """A member that forecasts exactly wins the whole weight; with too few validation
    windows to weigh (under 50), the network counts a fifth and the member the rest."""
    t = np.arange(300)
    series = 50 + 10 * np.sin(2 * np.pi * t / 12)  # exactly seasonal: the member is exact
    X, y = make_windows(series, lookback=36, horizon=6)
    model = TCNForecaster(
        season_length=12, linear_skip=False, validation_fraction=0.25, **FAST
    ).fit(X, y)  # 65 validation windows
    assert model.ets_weight_ == 0.0
    np.testing.assert_allclose(model.predict(X[-2:]), y[-2:], rtol=1e-3)
    few = TCNForecaster(season_length=12, **FAST)
    assert few.fit(X, y).ets_weight_ == pytest.approx(0.2)  # 26 validation windows
    with pytest.warns(UserWarning, match="none to hold out"):
        one = TCNForecaster(season_length=12, **FAST).fit(X[:1], y[:1])
    assert one.ets_weight_ == pytest.approx(0.2)  # one window: nothing to weigh on
    zero = np.r_[np.ones(200), np.zeros(len(X) - 200)]  # no validation window weighs
    fit = TCNForecaster(season_length=12, validation_fraction=0.25, **FAST).fit(X, y, zero)
    assert fit.ets_weight_ == pytest.approx(0.2)


def test_few_validation_windows_keep_the_network_alone_where_it_is_better():
    """Rows that are not windows of a series (sklearn's checks feed such): the member
    reads nonsense, and 20 validation windows suffice to leave it out."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12))
    y = X @ rng.normal(size=12)
    model = TCNForecaster(**FAST).fit(X, y)
    assert model.ets_weight_ == 1.0


@pytest.mark.parametrize("period", [4, 7, 12])
def test_season_is_found_without_season_length(period):
    """The member's season defaults to the seasonal naive forecast that fits the
    training windows best, whichever prior the linear start shrinks towards."""
    t = np.arange(400)
    rng = np.random.default_rng(period)
    series = 100 + 0.2 * t + 15 * np.sin(2 * np.pi * t / period) + rng.normal(0, 1, 400)
    X, y = make_windows(series, lookback=3 * period, horizon=period)
    # a small validation share: the season is the start's, found on the training
    # windows, and the member is fitted on few validation windows
    few = dict(FAST, validation_fraction=0.05)
    assert TCNForecaster(**few).fit(X, y).season_length_ == period
    assert TCNForecaster(linear_skip=False, **few).fit(X, y).season_length_ == 1


def test_season_of_weekly_data_is_the_nearest_whole_period():
    """A year of 52.18 weeks: 51 weeks fit within 10% of 52, but the shorter season is
    no local minimum of the seasonal naive error, so 52 is found (not 51)."""
    t = np.arange(700)
    rng = np.random.default_rng(0)
    series = 100 + 30 * np.sin(2 * np.pi * t / 52.18) + rng.normal(0, 1, 700)
    X, y = make_windows(series, lookback=104, horizon=13)
    assert TCNForecaster(**FAST).fit(X, y).season_length_ == 52


def test_quantiles_stay_ordered_and_calibrated_with_the_combination():
    X, y = make_windows(_seasonal(240), lookback=36, horizon=12)
    model = TCNForecaster(quantiles=(0.1, 0.5, 0.9), season_length=12, **FAST).fit(X, y)
    q = model.predict_quantiles(X[-5:])
    assert np.all(np.diff(q, axis=-1) >= 0)
    np.testing.assert_allclose(q[..., 1], model.predict(X[-5:]), rtol=1e-6)
    assert model.conformal_factors_ is not None


def test_weighing_units_are_each_series_seasonal_naive_error():
    """The combination is weighed as MASE counts errors: per series, the mean absolute
    season-step difference of its windows, which scales with that series alone; a
    constant series takes its level, one of zeros 1."""
    from skresnet.timeseries._windows import series_units

    a, b = _seasonal(80), _seasonal(80, level=5.0, seed=1)
    Xa, _ = make_windows(a, lookback=24, horizon=4)
    Xb, _ = make_windows(b, lookback=24, horizon=4)
    flat = np.full_like(Xa, 3.0)
    X = np.concatenate([Xa, Xb, flat, 0 * flat])
    series = np.repeat(np.arange(4), len(Xa))
    unit = series_units(X, series, None, season=12)
    expected = np.abs(Xa[:, 12:] - Xa[:, :-12]).mean()
    np.testing.assert_allclose(unit[: len(Xa)], expected, rtol=1e-6)
    assert np.unique(unit[series == 2]) == pytest.approx(3.0)
    assert np.unique(unit[series == 3]) == pytest.approx(1.0)
    scaled = X.copy()
    scaled[series == 1] *= 1000
    changed = series_units(scaled, series, None, season=12)
    np.testing.assert_allclose(changed[series == 1], 1000 * unit[series == 1], rtol=1e-5)
    np.testing.assert_array_equal(changed[series != 1], unit[series != 1])
    # a window no longer than the season: one-step differences
    short = series_units(Xa[:, :8], None, None, season=12)
    np.testing.assert_allclose(short, np.abs(np.diff(Xa[:, :8], axis=1)).mean(), rtol=1e-6)


def two_scale_panel(n: int, c: float):
    """Windows (lookback 24, horizon 6) of two monthly series of levels 50 and 5000,
    the second multiplied by ``c``."""
    t = np.arange(n)
    noise = np.random.default_rng(0).normal(size=(2, n))
    a = 50 * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + 2 * noise[0]
    b = 5000 * (1 + 0.3 * np.sin(2 * np.pi * t / 12 + 1)) + 90 * noise[1]
    frame = pd.DataFrame({"g": np.repeat(["a", "b"], n), "v": np.r_[a, b * c]})
    return make_windows(frame, lookback=24, horizon=6, target="v", groups="g")


def test_panel_weight_and_forecasts_are_equivariant_to_a_series_scale():
    def panel(c):
        X, y = two_scale_panel(150, c)
        return TCNForecaster(season_length=12, **FAST).fit(X, y), X

    base, X = panel(1.0)
    scaled, Xs = panel(1000.0)
    assert base.ets_weight_ == scaled.ets_weight_
    rows = np.r_[np.flatnonzero(X.series == 0)[-2:], np.flatnonzero(X.series == 1)[-2:]]
    p, ps = base.predict(X[rows]), scaled.predict(Xs[rows])
    np.testing.assert_allclose(ps[:2], p[:2], rtol=1e-4)
    np.testing.assert_allclose(ps[2:] / 1000.0, p[2:], rtol=1e-4)


def test_ets_parameters_are_checked():
    X, y = make_windows(_seasonal(120), lookback=24, horizon=4)
    with pytest.raises(ValueError, match="ets=True .* early_stopping=True"):
        TCNForecaster(ets=True, early_stopping=False, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="season_length"):
        TCNForecaster(season_length=0, **FAST).fit(X, y)
    off = TCNForecaster(early_stopping=False, **FAST).fit(X, y)  # "auto": no combination
    assert off.ets_weight_ == 1.0


def test_onnx_refuses_a_combined_forecaster():
    pytest.importorskip("onnx")
    from skresnet.onnx import to_onnx

    t = np.arange(300)
    X, y = make_windows(50 + 10 * np.sin(2 * np.pi * t / 12), lookback=36, horizon=6)
    model = TCNForecaster(season_length=12, linear_skip=False, **FAST).fit(X, y)
    assert model.ets_weight_ < 1.0
    with pytest.raises(ValueError, match="ets=False"):
        to_onnx(model, np.asarray(X[:2]))


def test_context_gives_the_member_the_longer_history():
    """With each window's history, the member is fitted on it (at most MAX_CONTEXT
    steps) and weighed by ``ets_context_weight_``; the network reads the window either
    way; forecast passes the history."""
    from skresnet._forecast_outputs import MAX_CONTEXT

    series = _seasonal(400)
    X, y = make_windows(series[:300], lookback=36, horizon=12)
    model = TCNForecaster(season_length=12, linear_skip=False, **FAST).fit(X, y)
    assert model.ets_weight_ < 1.0
    window = series[264:300][None]
    plain = TCNForecaster(ets=False, season_length=12, linear_skip=False, **FAST).fit(X, y)
    network = plain.predict(window)
    long = series[300 - MAX_CONTEXT : 300]
    expected = combine(network, smooth_windows([long], 12, 12, True), model.ets_context_weight_)
    np.testing.assert_allclose(model.predict(window, context=[series[:300]]), expected, rtol=1e-6)
    alone = combine(network, smooth_windows(window, 12, 12), model.ets_weight_)
    np.testing.assert_allclose(model.predict(window), alone, rtol=1e-6)
    # the window as its own context: as without one
    np.testing.assert_array_equal(model.predict(window, context=[window[0]]), model.predict(window))
    np.testing.assert_allclose(model.forecast(series[:300]), expected[0], rtol=1e-6)
    c = 1000.0  # the member scales with the history
    np.testing.assert_allclose(
        model.predict(window * c, context=[series[:300] * c]) / c, expected, rtol=1e-4
    )


def test_context_weight_is_chosen_on_the_validation_windows_histories():
    """Windows of one season are too short for the member to read the season; the
    histories read back from the windows before them are not: reading them, the exact
    member wins the whole weight, and forecasts from the history are exact."""
    t = np.arange(200)
    series = 50 + 10 * np.sin(2 * np.pi * t / 12)
    X, y = make_windows(series, lookback=12, horizon=6)
    model = TCNForecaster(
        season_length=12, linear_skip=False, validation_fraction=0.35, **FAST
    ).fit(X, y)  # 65 validation windows
    assert model.ets_context_weight_ == 0.0
    assert model.ets_weight_ > 0.0  # alone, the member has no season to read
    np.testing.assert_allclose(model.forecast(series[:194], 6), series[194:], rtol=1e-3)
    # every other window weighs 0 and is not there: the histories are the windows
    # alone again, whose 12 steps hold no season for the member
    gaps = (np.arange(len(X)) % 2 == 0).astype(float)
    cut = TCNForecaster(season_length=12, linear_skip=False, validation_fraction=0.35, **FAST)
    assert cut.fit(X, y, sample_weight=gaps).ets_context_weight_ > 0.0
    refit = model.set_params(ets=False).fit(X, y)
    assert refit.ets_weight_ == refit.ets_context_weight_ == 1.0


def test_context_is_checked():
    X, y = make_windows(_seasonal(200), lookback=24, horizon=4)
    # few validation windows: the member is not weighed, the checks are what is tested
    model = TCNForecaster(season_length=12, validation_fraction=0.05, **FAST).fit(X, y)
    history = _seasonal(200)
    window = np.asarray(X[-1:])
    with pytest.raises(ValueError, match=r"context has 2 histories for 1 windows"):
        model.predict(window, context=[history, history])
    with pytest.raises(ValueError, match=r"context\[0\] must be window 0's target history"):
        model.predict(window, context=[history[:-1]])
    bad = np.r_[np.nan, X[-1]]
    with pytest.raises(ValueError, match=r"context\[0\] has NaN"):
        model.predict(window, context=[bad])
    with pytest.raises(TypeError, match="context must be a list"):
        model.predict(window, context=3.0)


def test_window_histories_read_back_stride_one_windows_per_series():
    from skresnet.timeseries._windows import window_histories

    a, b = np.arange(30.0), 1000 + np.arange(20.0)
    frame = pd.DataFrame(
        {"g": ["a"] * 30 + ["b"] * 20, "y": np.r_[a, b]},
        index=np.r_[np.arange(30), np.arange(20)],
    )
    X, _ = make_windows(frame, lookback=5, horizon=2, target="y", groups="g")
    rows = np.arange(len(X))
    histories = window_histories(np.asarray(X, float), X.series, rows, max_steps=12)
    for row, history in zip(rows, histories, strict=True):
        window = np.asarray(X[row], float)
        source = a if window[0] < 1000 else b
        end = int(np.flatnonzero(source == window[-1])[0]) + 1
        # the series up to the window's end, at most max_steps of it
        np.testing.assert_array_equal(history, source[max(0, end - 12) : end])
    # windows of stride 2 do not continue each other: each is its own history
    X2 = np.lib.stride_tricks.sliding_window_view(a, 5)[::2]
    for row, history in enumerate(window_histories(X2, None, range(len(X2)), 50)):
        np.testing.assert_array_equal(history, X2[row])


def test_member_fits_run_on_one_blas_thread_at_predict_too(monkeypatch):
    """smooth_windows holds numpy's and scipy's BLAS to one thread around the member's
    statsmodels fits (L-BFGS-B on a few parameters), whatever the caller set, and gives
    the caller's count back."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from skresnet.timeseries import _ets

    def blas_threads():
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    seen = []
    member = _ets.smooth_window

    def spy(*args, **kwargs):
        seen.append(blas_threads())
        return member(*args, **kwargs)

    monkeypatch.setattr(_ets, "smooth_window", spy)
    t = np.arange(40.0)
    windows = np.stack([10 + np.sin(2 * np.pi * (t + k) / 4) for k in range(3)])
    with threadpool_limits(limits=2, user_api="blas"):
        out = _ets.smooth_windows(windows, 4, 4)
        after = blas_threads()
    assert out.shape == (3, 4) and np.all(np.isfinite(out))
    assert all(threads <= {1} for threads in seen) and len(seen) == 3
    assert after <= {2}
