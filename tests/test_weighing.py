"""The statistical member's weight is chosen on validation windows whose targets no
training window had (purged of the overlap), so that the trained network's fit of its
last training targets does not count as validation accuracy."""

import numpy as np
import pandas as pd
import pytest

from skresnet import TCNForecaster
from skresnet.timeseries import make_windows
from skresnet.timeseries._ets import unseen_targets, weighing_rows

FAST = dict(max_epochs=1, channels=8, random_state=0, device="cpu")


def _panel(n_series: int, length: int) -> pd.DataFrame:
    """Each value is its step plus 1000 times its series: a target names its steps."""
    values = [np.arange(length) + 1000.0 * k for k in range(n_series)]
    return pd.DataFrame({"s": np.repeat(np.arange(n_series), length), "y": np.concatenate(values)})


@pytest.mark.parametrize(("n_series", "horizon", "n_valid"), [(1, 1, 7), (1, 5, 12), (3, 4, 20)])
def test_unseen_targets_are_exactly_those_no_training_window_had(n_series, horizon, n_valid):
    X, Y = make_windows(_panel(n_series, 40), lookback=6, horizon=horizon, target="y", groups="s")
    first = len(X) - n_valid
    rows = np.arange(first, len(X))
    seen = set(np.asarray(Y[:first]).ravel().tolist())
    expected = [not seen.intersection(np.atleast_1d(Y[r]).tolist()) for r in rows]
    np.testing.assert_array_equal(unseen_targets(rows, X.series, first, horizon), expected)


def test_weighing_rows_forecast_every_candidate_up_to_the_count_and_weigh_the_unseen():
    series = np.zeros(300, dtype=np.int64)
    few = np.arange(250, 300)
    rows, weigh = weighing_rows(few, series, 250, 12, count=100)
    np.testing.assert_array_equal(rows, few)  # all forecast: the calibration reuses them
    np.testing.assert_array_equal(weigh, np.arange(50) >= 11)
    many = np.arange(100, 300)
    rows, weigh = weighing_rows(many, series, 100, 12, count=100)
    assert len(rows) == 100 and weigh.all() and rows.min() >= 111 and rows[-1] == 299


def test_the_forecaster_weighs_on_the_unseen_windows_only(monkeypatch):
    import skresnet.timeseries._ets as ets_module

    seen_rows = []
    choose = ets_module.choose_weight

    def spy(model, *args, **kwargs):
        seen_rows.append(len(model))
        return choose(model, *args, **kwargs)

    monkeypatch.setattr(ets_module, "choose_weight", spy)
    # which rows are weighed is under test, not the member's fits: seasonal naive for it
    monkeypatch.setattr(
        ets_module,
        "smooth_windows",
        lambda target, horizon, season, history=False: np.stack(
            [np.resize(np.asarray(w, float)[-season:], horizon) for w in target]
        ),
    )
    t = np.arange(400)
    y = 50 + 10 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 1, 400)
    X, Y = make_windows(y, lookback=24, horizon=12)  # 365 windows, 37 validating
    model = TCNForecaster(season_length=12, **FAST).fit(X, Y)
    # 37 - 11 = 26 unseen: from 10 to 49 rows the fifth is checked against the network
    assert seen_rows and set(seen_rows) == {37 - 11}
    assert model.ets_weight_ in (0.2, 1.0)
