"""The defects a second review found in the newer features, each pinned by a test."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import skresnet
from skresnet import ResNetClassifier, TCNForecaster
from skresnet.timeseries import make_windows

LEVELS = (0.1, 0.5, 0.9)


@pytest.fixture(scope="module")
def sine():
    """The review's windows: a sine, 24 steps back, 6 ahead."""
    return make_windows(np.sin(np.arange(300) / 5), lookback=24, horizon=6)


@pytest.fixture(scope="module")
def quantile_model(sine):
    X, y = sine
    return TCNForecaster(quantiles=LEVELS, max_epochs=3, random_state=0).fit(X, y)


@pytest.mark.parametrize("coverage", [-0.8, 1.5, float("nan"), "0.8", True])
def test_coverage_outside_zero_one_is_refused(quantile_model, sine, coverage):
    """A negative or otherwise impossible coverage is an error, never an inverted interval."""
    with pytest.raises(ValueError, match="coverage must be a number in \\[0, 1\\]"):
        quantile_model.predict_interval(sine[0][-5:], coverage=coverage)


def test_zero_coverage_is_the_median_twice(quantile_model, sine):
    """coverage=0 is the degenerate interval at the median, which is what predict returns."""
    lower, upper = quantile_model.predict_interval(sine[0][-5:], coverage=0.0)
    np.testing.assert_array_equal(lower, upper)
    np.testing.assert_allclose(lower, quantile_model.predict(sine[0][-5:]), rtol=1e-6)


def test_forecast_labels_continue_after_the_history():
    """An integer index continues at its step; a PeriodIndex keeps periods; no label repeats."""
    s = pd.Series(np.sin(np.arange(400) / 5))
    X, y = make_windows(s, lookback=24, horizon=6)
    model = TCNForecaster(max_epochs=2, random_state=0).fit(X, y)
    tail = model.forecast(s.iloc[-100:])
    assert list(tail.index) == list(range(400, 406))
    every_other = pd.Series(s.to_numpy(), index=np.arange(0, 800, 2))
    assert list(model.forecast(every_other).index) == list(range(800, 812, 2))
    monthly = pd.Series(s.to_numpy(), index=pd.period_range("1990-01", periods=400, freq="M"))
    future = model.forecast(monthly)
    assert isinstance(future.index, pd.PeriodIndex)
    assert future.index[0] == monthly.index[-1] + 1 and len(future) == 6


def test_a_refused_set_config_changes_nothing():
    """set_config and config_context check every argument before assigning any."""
    before = skresnet.get_config()
    with pytest.raises(TypeError, match="docs_url"):
        skresnet.set_config(fit_threads=3, docs_url=5)
    assert skresnet.get_config() == before
    with pytest.raises(TypeError, match="cudnn_benchmark"):
        with skresnet.config_context(fit_threads=2, cudnn_benchmark="yes"):
            pass
    assert skresnet.get_config() == before


@pytest.mark.parametrize("quantiles", [None, LEVELS])
def test_zero_weight_windows_do_not_shape_the_forecaster(sine, quantiles):
    """Changing the weight-0 windows (inputs scaled, targets shifted) changes neither
    forecasts nor quantiles: channel statistics, the start and its spread are weighted."""
    X, y = sine
    X, y = np.array(X), np.array(y)
    weight = np.ones(len(X))
    weight[::3] = 0.0
    params = dict(quantiles=quantiles, max_epochs=5, random_state=0)
    a = TCNForecaster(**params).fit(X, y, sample_weight=weight)
    X2, y2 = X.copy(), y.copy()
    X2[weight == 0] *= 3.0
    y2[weight == 0] += 20.0
    b = TCNForecaster(**params).fit(X2, y2, sample_weight=weight)
    np.testing.assert_allclose(a.predict(X[-20:]), b.predict(X[-20:]), rtol=1e-5, atol=1e-5)
    if quantiles is not None:
        np.testing.assert_allclose(
            a.predict_quantiles(X[-20:]), b.predict_quantiles(X[-20:]), rtol=1e-5, atol=1e-5
        )


@pytest.mark.parametrize("seed", [0, 3, 7, 11])
def test_a_class_with_one_sample_fits_for_every_seed(seed):
    """The only sample of a class always trains (never held out), whatever the seed."""
    X = np.random.default_rng(0).normal(size=(200, 4))
    y = np.zeros(200, int)
    y[17] = 1
    model = ResNetClassifier(random_state=seed, max_epochs=3, n_fits=1).fit(X, y)
    assert list(model.classes_) == [0, 1]
    assert model.predict_proba(X[:3]).shape == (3, 2)


def test_history_attributes_after_a_refit_that_kept_the_start():
    """A refit of zero epochs has an empty history; every history attribute still answers."""
    X, y = make_windows(np.sin(np.arange(300) / 5), lookback=24, horizon=6)
    for quantiles in (None, LEVELS):  # the start forecasts a pure sine; no epoch beats it
        model = TCNForecaster(  # the histories, not the member: ets=False
            channels=8, max_epochs=3, lr=0.05, quantiles=quantiles, random_state=0, ets=False
        )
        _check_empty_history(model.fit(X, y))


def _check_empty_history(model):
    assert model.early_stopping_history_ is not None and len(model.history_) == 0
    assert model.best_loss_ is None and hasattr(model, "best_loss_")
    assert model.loss_curve_ == [] and model.n_iter_ == 0
    assert len(model.validation_scores_) == len(model.early_stopping_history_)
    assert model.best_validation_score_ == max(model.validation_scores_)


@pytest.fixture(scope="module")
def five_levels(sine):
    X, y = sine
    levels = (0.05, 0.25, 0.5, 0.75, 0.95)
    return TCNForecaster(quantiles=levels, max_epochs=3, random_state=0).fit(X, y)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(coverage=st.floats(0.0, 1.0))
def test_any_coverage_in_zero_one_gives_an_ordered_interval_or_names_the_valid_ones(
    five_levels, sine, coverage
):
    """Coverage 0, 0.5 and 0.9 give lower <= upper around the median; any other value in
    [0, 1] is refused by a message listing exactly those the model offers."""
    X = sine[0][-4:]
    offered = [0.0, 0.5, 0.9]
    distance = min(abs(coverage - c) for c in offered)
    assume(not 1e-9 < distance < 3e-9)  # levels match within 1e-9: coverage within 2e-9
    if distance <= 1e-9:
        lower, upper = five_levels.predict_interval(X, coverage=coverage)
        median = five_levels.predict(X)
        assert (lower <= median + 1e-9).all() and (median <= upper + 1e-9).all()
    else:
        with pytest.raises(ValueError, match=r"can be one of \[0.9, 0.5\]"):
            five_levels.predict_interval(X, coverage=coverage)


@settings(max_examples=60, deadline=None)
@given(
    pairs=st.lists(st.floats(0.01, 0.49), min_size=1, max_size=4, unique=True),
    nudge=st.floats(1e-4, 0.01),
)
def test_symmetric_levels_are_accepted_and_asymmetric_ones_refused(pairs, nudge):
    """Levels 0.5 plus pairs p, 1 - p pass the fit-time check; moving one level breaks it."""
    from skresnet.timeseries._conformal import check_levels

    levels = sorted({*pairs, 0.5, *(1 - p for p in pairs)})
    if min(np.diff(levels)) < 2e-4:
        return  # levels that close cannot be nudged apart
    fitted = check_levels(tuple(levels), "mse", False, True)
    np.testing.assert_allclose(fitted + fitted[::-1], 1.0)
    levels[0] = levels[0] + nudge / 2 if levels[0] + nudge / 2 < levels[1] else levels[0] / 2
    with pytest.raises(ValueError, match="not symmetric around 0.5"):
        check_levels(tuple(levels), "mse", False, True)


@pytest.mark.parametrize("quantiles", [None, LEVELS])
@settings(
    max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**16), share=st.floats(0.1, 0.6), factor=st.floats(-5.0, 5.0))
def test_any_zero_weight_subset_leaves_the_forecaster_unchanged(
    sine, quantiles, seed, share, factor
):
    """Whichever windows get weight 0, and whatever their values become, the fitted model
    forecasts the same as with their original values (integer weights as repeated rows:
    a weight of 0 is a row that is not there)."""
    X, y = (np.array(a) for a in sine)
    rng = np.random.default_rng(seed)
    weight = (rng.random(len(X)) >= share).astype(float)
    weight[-30:] = 1.0  # keep validation windows to calibrate on
    params = dict(quantiles=quantiles, channels=8, max_epochs=2, random_state=0)
    a = TCNForecaster(**params).fit(X, y, sample_weight=weight)
    X2, y2 = X.copy(), y.copy()
    X2[weight == 0] *= factor
    y2[weight == 0] = rng.normal(size=y2[weight == 0].shape) * 10
    b = TCNForecaster(**params).fit(X2, y2, sample_weight=weight)
    predict = (
        (lambda m: m.predict_quantiles(X[-20:])) if quantiles else (lambda m: m.predict(X[-20:]))
    )
    np.testing.assert_allclose(predict(a), predict(b), rtol=1e-4, atol=1e-4)
