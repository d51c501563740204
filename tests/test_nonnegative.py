"""TCNForecaster(nonnegative=...): forecasts of a quantity never below zero are floored at 0."""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skresnet import TCNForecaster
from skresnet.timeseries import backtest, make_windows

pytestmark = pytest.mark.filterwarnings("ignore")
FAST = dict(max_epochs=3, random_state=0, device="cpu")


def _counts(n=160, seed=0):
    """Small counts, mostly zeros at the troughs of a cycle: smooth forecasts dip below 0."""
    rng = np.random.default_rng(seed)
    rate = np.clip(3 * np.sin(np.arange(n) / 3), 0, None)
    return rng.poisson(rate).astype(float)


def _panel():
    return pd.DataFrame(
        {
            "g": np.repeat(["a", "b"], 160),
            "y": np.r_[_counts(seed=0), 50 * _counts(seed=1)],
        }
    )


def test_auto_floors_at_zero_exactly_what_the_unfloored_model_gives():
    """The floor changes no fit: the same seed with nonnegative=False gives the same
    forecasts, negative ones included, and "auto" gives them floored at 0."""
    X, y = make_windows(_counts(), lookback=12, horizon=4)
    floored = TCNForecaster(ets=False, **FAST).fit(X, y)
    raw = TCNForecaster(ets=False, nonnegative=False, **FAST).fit(X, y)
    assert floored.nonnegative_ is True and raw.nonnegative_ is False
    assert (raw.predict(X) < 0).any()
    np.testing.assert_array_equal(floored.predict(X), np.maximum(raw.predict(X), 0.0))


def test_a_negative_target_value_turns_auto_off_and_true_floors_anyway():
    series = _counts()
    series[100] = -1.0  # one negative value among the futures of the windows
    X, y = make_windows(series, lookback=12, horizon=4)
    auto = TCNForecaster(ets=False, **FAST).fit(X, y)
    forced = TCNForecaster(ets=False, nonnegative=True, **FAST).fit(X, y)
    assert auto.nonnegative_ is False and forced.nonnegative_ is True
    assert (auto.predict(X) < 0).any()
    np.testing.assert_array_equal(forced.predict(X), np.maximum(auto.predict(X), 0.0))


def test_quantiles_intervals_and_the_combination_are_floored():
    """With the statistical member and conformal intervals: every quantile, interval
    bound and forecast from a history is at least 0, and the quantiles stay ordered."""
    panel = _panel()
    X, y = make_windows(panel, lookback=12, horizon=4, target="y", groups="g")
    model = TCNForecaster(quantiles=(0.1, 0.5, 0.9), **FAST).fit(X, y)
    raw = TCNForecaster(quantiles=(0.1, 0.5, 0.9), nonnegative=False, **FAST).fit(X, y)
    assert model.nonnegative_
    # the network's own quantiles: floored, otherwise the same fit
    X = X[::10]  # each window predicted costs the member's fits
    q, q_raw = (m.predict_quantiles(X, conformal=False) for m in (model, raw))
    assert (q_raw < 0).any()
    np.testing.assert_array_equal(q, np.maximum(q_raw, 0.0))
    # calibrated on the floored quantiles it serves: at least 0, still ordered
    q = model.predict_quantiles(X)
    assert q.min() == 0.0 and (np.diff(q, axis=-1) >= 0).all()
    lower, upper = model.predict_interval(X, coverage=0.8)
    assert lower.min() >= 0 and (upper >= lower).all()
    future = model.forecast(panel, groups="g", quantiles=True)
    assert future.to_numpy().min() >= 0


def test_backtest_scores_the_floored_quantiles():
    """backtest's recalibrated quantiles are floored as predict_quantiles' are: on
    outcomes never below 0 the floor can only lower the pinball loss, and here it does."""
    panel = _panel()
    kw = dict(lookback=12, horizon=4, start=120, target="y", groups="g", season_length=1)
    # the network's quantiles (the combination's floor: the test above)
    params = dict(quantiles=(0.1, 0.5, 0.9), ets=False, **FAST)
    scores = {
        flag: backtest(TCNForecaster(nonnegative=flag, **params), panel, **kw).loc["overall"]
        for flag in (True, False)
    }
    assert scores[True]["pinball"].iloc[0] < scores[False]["pinball"].iloc[0]
    assert scores[True]["mae"].iloc[0] <= scores[False]["mae"].iloc[0]


def test_nonnegative_is_validated():
    X, y = make_windows(_counts(), lookback=12, horizon=4)
    with pytest.raises(InvalidParameterError, match="nonnegative"):
        TCNForecaster(nonnegative="yes", **FAST).fit(X, y)
