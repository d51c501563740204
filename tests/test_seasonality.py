"""A season the seasonal naive forecast misses, found in a panel's first differences."""

import numpy as np
import pandas as pd
import pytest

from skresnet import TCNForecaster
from skresnet.timeseries import make_windows
from skresnet.timeseries._seasonality import (
    _DIVISOR_TOLERANCE,
    _lag_errors,
    confirmed_season,
    differenced_season,
    fundamental_season,
    panel_season,
    shows_season,
)
from tests.test_ets import FAST


def _trending(n=80, season=4, amplitude=1.0, seed=0):
    """A random walk with drift and a mild season: a step's noise is as large as the
    season's swing, so the last value forecasts better than the value a season ago."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + np.cumsum(1 + rng.normal(0, 1, n)) + amplitude * np.sin(2 * np.pi * t / season)


def _panel(n_series=8, **kw):
    frames = [
        pd.DataFrame({"series": f"s{i}", "value": _trending(seed=i, **kw)}) for i in range(n_series)
    ]
    return pd.concat(frames, ignore_index=True)


def _windows(series, lookback=12):
    return np.lib.stride_tricks.sliding_window_view(series, lookback)


def test_differenced_season_finds_the_lag_of_the_differences_autocorrelation():
    assert differenced_season(_windows(_trending(season=4))) == 4
    assert differenced_season(_windows(_trending(n=200, season=6), lookback=24)) == 6
    # a random walk's differences are noise: no lag autocorrelates on average
    walk = np.cumsum(np.random.default_rng(0).normal(size=300))
    assert differenced_season(_windows(walk)) == 1
    # growth that persists (differences AR(1), as seasonally adjusted GDP's):
    # autocorrelated at every short lag, decaying from lag 1, with no peak
    rng = np.random.default_rng(3)
    growth = np.zeros(400)
    for t in range(1, 400):
        growth[t] = 0.7 * growth[t - 1] + rng.normal()
    assert differenced_season(_windows(np.cumsum(growth), lookback=24)) == 1
    # windows of constant steps (a line), or too short for a lag of 2
    assert differenced_season(_windows(np.arange(50.0))) == 1
    assert differenced_season(np.ones((5, 3))) == 1


def test_shows_season_is_a_one_sided_test_on_the_differences():
    assert shows_season(_trending(n=120), 4)
    assert not shows_season(_trending(n=120), 3)
    walks = np.cumsum(np.random.default_rng(1).normal(size=(200, 120)), axis=1)
    # at 5% one-sided, about one random walk in twenty passes by chance
    assert np.mean([shows_season(w, 4) for w in walks]) < 0.1
    assert not shows_season(np.arange(100.0), 4)  # constant steps
    assert not shows_season(_trending(n=9), 4)  # under two seasons of differences


def test_panel_season_needs_more_series_than_chance():
    histories = [_trending(n=60, seed=i) for i in range(8)]
    target = np.concatenate([_windows(h) for h in histories])
    assert panel_season(target, histories) == 4
    # a single series cannot pass a binomial test at 1% (its own test is at 5%); two
    # that pass (p = 0.0025) do not either, the lag having been chosen among the 5
    # lags a 12-step window searches (0.01 / 5); three do (p = 1.25e-4)
    assert all(shows_season(h, 4) for h in histories[:3])
    assert panel_season(_windows(histories[0]), histories[:1]) == 1
    assert panel_season(np.concatenate([_windows(h) for h in histories[:2]]), histories[:2]) == 1
    assert panel_season(np.concatenate([_windows(h) for h in histories[:3]]), histories[:3]) == 4
    walks = list(np.cumsum(np.random.default_rng(2).normal(size=(8, 60)), axis=1))
    assert panel_season(np.concatenate([_windows(w) for w in walks]), walks) == 1
    # free of each series' scale and level
    scaled = [h * c + d for h, c, d in zip(histories, [1e-3, 1, 7, 1e4] * 2, range(8), strict=True)]
    assert panel_season(np.concatenate([_windows(h) for h in scaled]), scaled) == 4


def test_confirmed_season_tests_a_given_lag_at_one_percent():
    strong = _trending(n=120, amplitude=3.0)
    assert confirmed_season([strong], 4) == 4
    assert confirmed_season([strong], 3) == 1
    # a single random walk passes at 1% one-sided, not at the panel's 5% per series
    walks = list(np.cumsum(np.random.default_rng(4).normal(size=(300, 120)), axis=1))
    at_one = np.mean([confirmed_season([w], 4) == 4 for w in walks])
    assert at_one < 0.02 and at_one < np.mean([shows_season(w, 4) for w in walks])
    # a panel: a count of series showing it at 5% beyond a binomial's 1% (3 of 8 do)
    histories = [_trending(n=60, seed=i) for i in range(8)]
    assert confirmed_season(histories[:3] + walks[:5], 4) == 4
    assert confirmed_season(walks[:8], 4) == 1
    # free of the series' scale
    assert confirmed_season([strong * 1e-4 + 3], 4) == 4


def test_member_reads_the_season_the_start_chose_where_the_series_shows_it():
    """One series whose start shrinks towards the value a season ago, chosen on held-out
    windows over the last value (quarterly growth: ``JohnsonJohnson``): the member takes
    that season where the differences show it at 1%, and no lag they do not show."""
    Xs, ys = make_windows(_trending(n=120, amplitude=3.0), lookback=12, horizon=4)
    model = TCNForecaster(refit=False, **dict(FAST, validation_fraction=0.03)).fit(Xs, ys)
    module = model.net_.module_
    target, codes = model._series_codes(Xs, Xs)
    for prior, season in [((4, True), 4), ((3, False), 1), (None, 1)]:
        module.start_season, module.start_prior = 1, prior
        model._set_season(target, codes)
        assert model.season_length_ == season


def _monthly(n=240, seed=0):
    """Monthly temperatures: a yearly cycle and weather that persists a little."""
    rng = np.random.default_rng(seed)
    return 10 + 6 * np.sin(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 1, n)


def test_fundamental_season_is_the_shortest_divisor_the_history_repeats():
    y = _monthly()
    assert fundamental_season([y], 24, 12, 36) == 12
    assert fundamental_season([y], 36, 12, 36) == 12
    assert fundamental_season([y], 12, 12, 36) == 12  # 2, 3, 4 and 6 do not repeat it
    assert fundamental_season([y * 1e6 - 5], 24, 12, 36) == 12  # free of scale and level
    assert fundamental_season([y], 7, 7, 21) == 7  # no divisor
    assert fundamental_season([y[:40]], 24, 12, 36) == 24  # too short to compare two years
    # a history that repeats exactly: the shortest exact divisor, without a ratio
    exact = np.tile(np.arange(12.0), 10)
    assert fundamental_season([exact], 24, 12, 36) == 12
    assert fundamental_season([exact], 12, 12, 36) == 12
    assert fundamental_season([np.ones(100)], 24, 12, 36) == 24  # constant: no season read
    # a week of three-step days, the third day unlike the others (a weekend): a day
    # back differs far more than a week back, so the week stays
    day = np.array([0.0, 5.0, 9.0])
    rng = np.random.default_rng(1)
    week = np.concatenate([day, day, day, day, day, 3 * day, 3 * day])
    weekly = np.tile(week, 30) + rng.normal(0, 0.3, 30 * len(week))
    assert fundamental_season([weekly], 21, 7, 42) == 21
    # a panel: the series' ratios averaged, each in its own units
    panel = [_monthly(seed=i) * c for i, c in enumerate([1.0, 1e-3, 50.0])]
    assert fundamental_season(panel, 24, 12, 36) == 12


def test_fundamental_season_keeps_the_season_the_member_forecasts_better_from():
    """A half-year cycle with a small yearly step (months that differ all the same,
    as DutchSales'): six months back repeats the history within the tolerance, but
    the member forecasts the last origins better from the year."""
    t = np.arange(240)
    rng = np.random.default_rng(0)
    y = 10 + 5 * np.sin(2 * np.pi * t / 6) + 0.4 * np.sign(np.sin(2 * np.pi * t / 12))
    y = y + rng.normal(0, 1.0, 240)
    ratio = _lag_errors(y, range(1, 13)) / _lag_errors(y, range(1, 13))[-1]
    assert ratio[5] < min(ratio[4], ratio[6]) and ratio[5] <= _DIVISOR_TOLERANCE
    assert fundamental_season([y], 12, 12, 36) == 12


def test_member_reads_the_fundamental_season_of_the_start():
    """A start that fits two years back best gives the member a season of 12, not 24;
    a season the user gives is kept."""
    Xs, ys = make_windows(_monthly(), lookback=36, horizon=12)
    model = TCNForecaster(refit=False, **dict(FAST, validation_fraction=0.03)).fit(Xs, ys)
    target, codes = model._series_codes(Xs, Xs)
    model.net_.module_.start_season = 24
    model._set_season(target, codes)
    assert model.season_length_ == 12
    model.set_params(season_length=24)._set_season(target, codes)
    assert model.season_length_ == 24


def test_member_takes_a_season_a_trend_hides_from_the_start():
    """On a panel of trending series with a mild season the start reads the last value
    (no season); the member's season is then the one the differences show."""
    X, y = make_windows(_panel(6, n=60), lookback=12, horizon=4, target="value", groups="series")
    # under 10 validation windows: the season is set, the member's weight fixed unforecast
    few = dict(FAST, validation_fraction=0.03)
    model = TCNForecaster(refit=False, **few).fit(X, y)  # net_ is the start's
    assert model.net_.module_.start_season == 1
    assert model.season_length_ == 4
    # no start, no season found (as before); one series: the start's season
    assert TCNForecaster(linear_skip=False, **few).fit(X, y).season_length_ == 1
    Xs, ys = make_windows(_trending(n=120), lookback=12, horizon=4)
    single = TCNForecaster(refit=False, **few).fit(Xs, ys)
    assert single.net_.module_.start_season == 1 and single.season_length_ == 1


@pytest.mark.parametrize("seed", [0, 1])
def test_a_panel_without_season_keeps_none(seed):
    rng = np.random.default_rng(seed)
    walks = np.cumsum(rng.normal(0.5, 1, (8, 80)), axis=1) + 100
    panel = pd.DataFrame({"series": np.repeat(np.arange(8), 80), "value": walks.ravel()})
    X, y = make_windows(panel, lookback=12, horizon=4, target="value", groups="series")
    assert TCNForecaster(**dict(FAST, validation_fraction=0.03)).fit(X, y).season_length_ == 1
