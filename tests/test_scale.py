"""Scale equivariance of a global TCNForecaster: each series in its own units."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skresnet import TCNForecaster
from skresnet.timeseries import backtest, make_windows

# ets=False: the smoothing member (a Holt-Winters fit per window) has its own
# equivariance test in test_ets.py
FAST = dict(channels=8, max_epochs=3, random_state=0, device="cpu", ets=False)
LEVELS = (0.1, 0.5, 0.9)


def _panel(scale_b: float, covariate: bool, n: int = 160) -> pd.DataFrame:
    """Two seasonal series of levels 50 and 5000 (the second times ``scale_b``), with a
    promotion-like covariate known in advance."""
    t = np.arange(n)
    rng = np.random.default_rng(0)
    a = 50 * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 2, n)
    b = 5000 * (1 + 0.3 * np.sin(2 * np.pi * t / 12 + 1)) + rng.normal(0, 100, n)
    frame = pd.DataFrame({"g": np.repeat(["a", "b"], n), "v": np.r_[a, b * scale_b]})
    if covariate:
        frame["promo"] = np.tile((t % 5 == 0).astype(float), 2)
    return frame


def _fit(frame, quantiles, covariate):
    kinds = {"future_covariates": ["promo"]} if covariate else {}
    X, y = make_windows(frame, lookback=24, horizon=6, target="v", groups="g", **kinds)
    model = TCNForecaster(quantiles=quantiles, **FAST).fit(X, y)
    return model, X


@settings(max_examples=6, deadline=None)
@given(
    exponent=st.floats(-3, 3),
    quantiles=st.sampled_from([None, LEVELS]),
    covariate=st.booleans(),
)
def test_scaling_one_series_scales_its_forecasts_and_changes_no_other(
    exponent, quantiles, covariate
):
    """Multiplying series b by c multiplies its fitted forecasts (and quantiles) by c and
    leaves series a's unchanged, to float precision, in fit and in forecast."""
    c = 10.0**exponent
    base, X = _fit(_panel(1.0, covariate), quantiles, covariate)
    scaled, Xs = _fit(_panel(c, covariate), quantiles, covariate)
    is_b = X.series == 1
    predict = (lambda m, Z: m.predict_quantiles(Z)) if quantiles else (lambda m, Z: m.predict(Z))
    p, ps = predict(base, X), predict(scaled, Xs)
    np.testing.assert_allclose(ps[~is_b], p[~is_b], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(ps[is_b] / c, p[is_b], rtol=1e-4, atol=1e-3 * 100)
    frame, frame_s = _panel(1.0, covariate), _panel(c, covariate)
    columns = ["g", "v", "promo"] if covariate else ["g", "v"]
    future = frame.groupby("g").tail(6)[["g", "promo"]] if covariate else None
    future_s = frame_s.groupby("g").tail(6)[["g", "promo"]] if covariate else None
    f = base.forecast(frame[columns], future=future, groups="g")
    fs = scaled.forecast(frame_s[columns], future=future_s, groups="g")
    np.testing.assert_allclose(fs.loc["a"], f.loc["a"], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(fs.loc["b"] / c, f.loc["b"], rtol=1e-4, atol=0.1)


def test_a_window_times_c_gives_its_forecast_times_c():
    """One fitted model: a window multiplied by 1000 is forecast 1000 times higher."""
    model, X = _fit(_panel(1.0, False), LEVELS, False)
    window = np.asarray(X[-5:])
    np.testing.assert_allclose(
        model.predict(window * 1000) / 1000, model.predict(window), rtol=1e-5
    )
    np.testing.assert_allclose(
        model.predict_quantiles(window * 1000) / 1000,
        model.predict_quantiles(window),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("c", [1e-25, 1e-35])
def test_a_series_in_tiny_units_is_forecast_as_in_its_own(c):
    """Values near 1e-25 (a rate in large units): the window's level feature squared its
    mean, which underflowed to 0 in float32, and 0 / 0 stopped the fit as "diverged".
    Fitted on the series times ``c`` (or fed a window times ``c``), the forecasts are
    ``c`` times those of the series as it is."""
    frame = _panel(1.0, False).query("g == 'a'")
    X, y = make_windows(frame, lookback=24, horizon=6, target="v")
    X, y = np.asarray(X), np.asarray(y)
    model = TCNForecaster(**FAST).fit(X, y)
    tiny = TCNForecaster(**FAST).fit(X * c, y * c)
    np.testing.assert_allclose(tiny.predict(X[-5:] * c) / c, model.predict(X[-5:]), rtol=1e-4)
    np.testing.assert_allclose(model.predict(X[-5:] * c) / c, model.predict(X[-5:]), rtol=1e-4)


def test_backtest_scores_do_not_depend_on_a_series_scale():
    """MASE, coverage and pinball loss are scale-free; so is the whole backtest."""
    kw = dict(lookback=24, horizon=6, start=130, season_length=12, target="v", groups="g")
    model = TCNForecaster(quantiles=LEVELS, **FAST)
    before = backtest(model, _panel(1.0, False), **kw)
    after = backtest(model, _panel(1e-3, False), **kw)
    cols = ["mase", "naive_mase", "pinball", "coverage_80"]
    np.testing.assert_allclose(after[cols].to_numpy(), before[cols].to_numpy(), rtol=1e-4)


@pytest.mark.parametrize(
    "series",
    [
        np.zeros(120),
        np.r_[np.zeros(60), np.full(60, 7.0)],
        -50 + np.sin(np.arange(120) / 3),
        np.where(np.arange(120) % 7 == 0, 3.0, 0.0),  # intermittent: mostly zeros
    ],
    ids=["all-zero", "constant-stretches", "negative", "intermittent"],
)
def test_zeros_negatives_and_flat_windows_give_finite_forecasts(series):
    """No window divides by zero: all-zero, constant, negative and intermittent series."""
    X, y = make_windows(series, lookback=12, horizon=3)
    model = TCNForecaster(quantiles=LEVELS, **FAST).fit(X, y)
    assert np.isfinite(model.predict(X)).all()
    assert np.isfinite(model.predict_quantiles(X)).all()
    if not series.any():
        np.testing.assert_allclose(model.predict(X), 0.0, atol=1e-6)
