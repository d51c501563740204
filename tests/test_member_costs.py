"""The member's intervals and costs: rolling-origin errors where no window is held out,
and the bounds on how many windows the member forecasts when weighing and calibrating."""

import numpy as np
import pandas as pd
import pytest

from skresnet import TCNForecaster
from skresnet.timeseries import _conformal as conformal
from skresnet.timeseries import make_windows
from skresnet.timeseries._ets import COMBINATION_WEIGHTS, smooth_window
from tests.test_ets import FAST, _seasonal, two_scale_panel


def test_rolling_errors_are_out_of_sample_and_scale_free():
    from skresnet.timeseries._ets import rolling_errors

    history = _seasonal(60)
    errors = rolling_errors(history, 6, 12, lookback=24, max_origins=5)
    assert errors.shape == (5, 6) and np.all(np.isfinite(errors))
    # the last origin's error: the actual after it minus the member's forecast from
    # the history before it, in units of the 24 steps before the origin
    origin = 54
    forecast = smooth_window(history[:origin], 6, 12, history=True)
    expected = (history[origin:] - forecast) / np.mean(np.abs(history[origin - 24 : origin]))
    np.testing.assert_allclose(errors[0], expected)
    np.testing.assert_allclose(
        rolling_errors(1e4 * history, 6, 12, 24, 5), errors, rtol=0, atol=1e-4
    )
    # too short for two seasons before any origin: no errors
    assert rolling_errors(history[:28], 6, 12, 24).shape == (0, 6)


def test_one_window_quantile_model_gets_intervals_from_rolling_origins():
    """Too few windows to hold any out: the intervals still have width (the quantile
    start's spread is next to nothing), grow with the step and scale with the data."""
    y = _seasonal(60, seed=1)
    X, Y = make_windows(y[:48], lookback=36, horizon=12)
    assert len(X) == 1
    with pytest.warns(UserWarning, match="none to hold out"):
        model = TCNForecaster(quantiles=(0.1, 0.5, 0.9), season_length=12, random_state=0)
        model.fit(X, Y)
    assert model.interval_widths_.shape == (12, 1) and np.all(model.interval_widths_ > 0)
    assert np.all(np.diff(model.interval_widths_[:, 0]) >= 0)
    window = y[12:48][None]
    lower, upper = model.predict_interval(window, context=[y[:48]])
    assert np.all(upper > lower)
    np.testing.assert_allclose(model.predict(window, context=[y[:48]]), (lower + upper) / 2)
    # the uncalibrated network (the seasonal naive start) has next to no spread
    raw = model.predict_quantiles(window, conformal=False, context=[y[:48]])
    assert np.max(raw[..., 2] - raw[..., 0]) < 0.05 * np.min(upper - lower)
    with pytest.warns(UserWarning, match="none to hold out"):
        scaled = TCNForecaster(quantiles=(0.1, 0.5, 0.9), season_length=12, random_state=0)
        scaled.fit(1024 * X, 1024 * Y)
    lo2, hi2 = scaled.predict_interval(1024 * window, context=[1024 * y[:48]])
    # a power of two scales every float exactly, so the member's fits are the same
    np.testing.assert_allclose(hi2 - lo2, 1024 * (upper - lower), rtol=1e-5)


def test_one_window_quantile_model_without_the_member_says_its_intervals_are_uncalibrated():
    y = _seasonal(60, seed=1)
    X, Y = make_windows(y[:48], lookback=36, horizon=12)
    model = TCNForecaster(quantiles=(0.1, 0.5, 0.9), season_length=12, ets=False)
    with pytest.warns(UserWarning, match="nothing calibrates the quantiles"):
        model.fit(X, Y)
    assert model.interval_widths_ is None


def test_weighing_windows_spread_over_the_validation_period():
    """``evenly`` keeps at most ``count`` rows, evenly spaced over all of them (the last
    included), not only the latest, which in a panel share a few origins."""
    from skresnet.timeseries._windows import evenly

    rows = np.arange(10, 1000)
    picked = evenly(rows, 100)
    assert len(picked) == 100 and picked[-1] == 999 and picked[0] == 10
    assert set(np.diff(picked)) <= {9, 10}  # 989 steps in 99 gaps
    np.testing.assert_array_equal(evenly(rows[:40], 100), rows[:40])


def test_member_forecasts_at_most_ets_windows_when_weighing(monkeypatch):
    """The weighing's cost is bounded: of 144 validation windows (139 with unseen
    targets), the member forecasts exactly _ETS_WINDOWS, alone and with their
    histories, and the grid chooses the weight."""
    import skresnet.timeseries._ets as ets_module
    from skresnet import _forecast_weighing

    calls = []

    def fake(target, horizon, season, history=False):
        calls.append((len(target), history))
        return np.zeros((len(target), horizon))

    monkeypatch.setattr(ets_module, "smooth_windows", fake)
    series = _seasonal(760) + np.linspace(0, 5, 760)
    X, y = make_windows(series, lookback=36, horizon=6)  # 719 windows
    model = TCNForecaster(season_length=12, validation_fraction=0.2, **FAST).fit(X, y)
    count = _forecast_weighing._ETS_WINDOWS
    assert calls == [(count, False), (count, True)]  # windows alone, then histories
    assert model.ets_weight_ in COMBINATION_WEIGHTS  # not the few-windows fifth


def test_calibration_forecasts_the_member_on_at_most_100_windows(monkeypatch):
    """A quantile model calibrates on up to 100 validation windows per series; where the
    member counts and must be forecast anew on windows it did not weigh, on 100 in all,
    spread evenly over them: the member's cost does not grow with the panel."""
    import skresnet.timeseries._ets as ets_module
    from skresnet import _forecast_weighing

    calls = []

    def naive(target, horizon, season, history=False):
        calls.append((len(target), history))
        return np.stack([np.asarray(t)[-horizon:] for t in target])

    monkeypatch.setattr(ets_module, "smooth_windows", naive)
    monkeypatch.setattr(ets_module, "choose_weight", lambda *a, **k: (0.5, {0.5: 0.0}))
    t = np.arange(600.0)
    frame = pd.DataFrame(
        {"shop": np.repeat(["a", "b", "c"], 600), "y": np.tile(np.sin(t / 4), 3) + 5.0}
    )
    X, y = make_windows(frame, lookback=16, horizon=2, target="y", groups="shop")
    levels = (0.1, 0.5, 0.9)
    model = TCNForecaster(quantiles=levels, season_length=1, **FAST).fit(X, y)
    n_validation = model._n_validation(len(X))
    assert 100 < n_validation < 300 and model.ets_weight_ == 0.5
    count = _forecast_weighing._ETS_WINDOWS
    assert calls == [(count, False), (count, True), (100, False)]
    assert model.calibration_scores_.shape == (100, 2, 1)
    # the scores are those of the windows evenly spread over the validation windows
    rows = ets_module.evenly(np.arange(len(X) - n_validation, len(X)), 100)
    q = model.predict_quantiles(X[rows], conformal=False)
    expected = conformal.scores(q, y[rows])
    np.testing.assert_allclose(model.calibration_scores_, expected, rtol=1e-4)
    # without the member, every validation window calibrates
    alone = TCNForecaster(quantiles=levels, season_length=1, ets=False, **FAST).fit(X, y)
    assert alone.calibration_scores_.shape == (n_validation, 2, 1)


def test_few_calibration_windows_average_conformal_and_rolling_intervals():
    """Nine validation windows from the last stretch understate the spread: where fewer
    than 100 windows calibrate and the member counts, the quantiles are the level-by-level
    average of the conformally calibrated ones and intervals from the member's errors at
    the series' last 12 origins, up to its last observed step."""
    from skresnet.timeseries._ets import rolling_errors, window_units

    y = _seasonal(120, seed=2)
    X, Y = make_windows(y, lookback=24, horizon=6)
    model = TCNForecaster(quantiles=(0.1, 0.5, 0.9), season_length=12, random_state=0)
    model.fit(X, Y)
    assert model.ets_weight_ < 1 and len(model.calibration_scores_) < conformal.MIN_PER_STEP
    # the windows reach the member as the network reads them, in float32
    errors = rolling_errors(y.astype(np.float32), 6, 12, lookback=24, max_origins=12)
    assert errors.shape == (12, 6)  # origins up to the last step, which only Y holds
    np.testing.assert_allclose(
        model.interval_widths_, conformal.half_widths(errors, [0.1, 0.5, 0.9]), rtol=1e-5
    )
    window = X[-3:]
    raw = model.predict_quantiles(window, conformal=False)
    calibrated = conformal.calibrate(raw, model.conformal_factors_)
    around = conformal.around(raw[..., 1], model.interval_widths_, window_units(window), 3)
    expected = np.sort((calibrated + around) / 2, axis=-1)
    np.testing.assert_allclose(model.predict_quantiles(window), expected, rtol=1e-12)
    # the median is the point forecast either way; only the spread is averaged
    np.testing.assert_allclose(model.predict(window), raw[..., 1], rtol=1e-12)
    # a model of the network alone (no member) keeps its conformal intervals
    alone = TCNForecaster(quantiles=(0.1, 0.5, 0.9), season_length=12, random_state=0, ets=False)
    assert alone.fit(X, Y).interval_widths_ is None


def test_rolling_intervals_of_a_panel_use_at_most_48_origins():
    """Each origin is a member fit on the history before it: six series get eight
    origins each (48 // 6), all read to their last step, their errors pooled."""
    from skresnet.timeseries._ets import rolling_errors

    series = {f"s{k}": _seasonal(60, level=10.0**k, seed=k) for k in range(6)}
    panel = pd.concat([pd.DataFrame({"g": k, "y": v}) for k, v in series.items()])
    X, Y = make_windows(panel, lookback=24, horizon=6, target="y", groups="g")
    model = TCNForecaster(quantiles=(0.1, 0.5, 0.9), season_length=12, random_state=0)
    model.fit(X, Y)
    assert len(model.calibration_scores_) < conformal.MIN_PER_STEP
    errors = [
        rolling_errors(v.astype(np.float32), 6, 12, lookback=24, max_origins=8)
        for v in series.values()
    ]
    assert all(len(e) == 8 for e in errors)
    np.testing.assert_allclose(
        model.interval_widths_, conformal.half_widths(np.concatenate(errors), [0.1, 0.5, 0.9])
    )


def test_backtest_walk_averages_with_the_rolling_intervals_as_predict_quantiles_does():
    """backtest's batched calibration walk, then the average with the member's rolling
    intervals, equals update_calibration before each origin and predict_quantiles with
    the history as context."""
    from skresnet.timeseries import backtest

    y = _seasonal(150, seed=3)
    lookback, horizon, start = 24, 6, 120
    model = TCNForecaster(quantiles=(0.1, 0.5, 0.9), season_length=12, random_state=0)
    scores = backtest(model, y, lookback=lookback, horizon=horizon, start=start, season_length=12)
    X, Y = make_windows(y[:start], lookback=lookback, horizon=horizon)
    fitted = TCNForecaster(quantiles=(0.1, 0.5, 0.9), season_length=12, random_state=0).fit(X, Y)
    assert fitted.interval_widths_ is not None and fitted.conformal_factors_ is not None
    X_all, Y_all = make_windows(y, lookback=lookback, horizon=horizon)
    scale = np.mean(np.abs(y[12:start] - y[: start - 12]))
    levels = np.array([0.1, 0.5, 0.9])
    known = start
    for origin, (_, row) in zip(
        range(start, 150 - horizon + 1, horizon), scores.iloc[:-1].iterrows(), strict=True
    ):
        fresh = slice(known - horizon + 1 - lookback, origin - horizon + 1 - lookback)
        if origin > start:
            fitted.update_calibration(
                X_all[fresh],
                Y_all[fresh],
                context=[y[: w + lookback] for w in range(fresh.start, fresh.stop)],
            )
        known = origin
        at = origin - lookback
        q = fitted.predict_quantiles(X_all[at : at + 1], context=[y[:origin]])[0]
        error = Y_all[at][:, None] - q
        pinball = np.mean(np.maximum(levels * error, (levels - 1) * error))
        assert row["pinball"] == pytest.approx(pinball / scale, rel=1e-9)
        assert row["coverage_80"] == np.mean((Y_all[at] >= q[:, 0]) & (Y_all[at] <= q[:, 2]))


def test_averaged_intervals_of_a_panel_are_equivariant_to_a_series_scale():
    """The rolling intervals are in window units: multiplying series b by 1000 multiplies
    its quantiles by 1000 and leaves series a's alone, averaged intervals included."""

    def fit(c):
        X, Y = two_scale_panel(120, c)
        model = TCNForecaster(quantiles=(0.1, 0.5, 0.9), season_length=12, random_state=0)
        return model.fit(X, Y), X

    base, X = fit(1.0)
    scaled, Xs = fit(1000.0)
    assert base.interval_widths_ is not None and base.conformal_factors_ is not None
    np.testing.assert_allclose(scaled.interval_widths_, base.interval_widths_, rtol=1e-4)
    rows = np.r_[np.flatnonzero(X.series == 0)[-2:], np.flatnonzero(X.series == 1)[-2:]]
    q, qs = base.predict_quantiles(X[rows]), scaled.predict_quantiles(Xs[rows])
    np.testing.assert_allclose(qs[:2], q[:2], rtol=1e-4)
    np.testing.assert_allclose(qs[2:] / 1000.0, q[2:], rtol=1e-4)
