"""Conformal calibration's pure functions (skresnet/timeseries/_conformal.py)."""

import numpy as np
import pytest

from skresnet.timeseries import _conformal as conformal

LEVELS = np.array([0.1, 0.5, 0.9])


def _quantiles(n=30, horizon=2, seed=0):
    rng = np.random.default_rng(seed)
    mid = rng.normal(size=(n, horizon))
    half = rng.uniform(0.5, 2.0, size=(n, horizon))
    return np.stack([mid - half, mid, mid + 2 * half], axis=-1)


def test_scores_are_one_on_a_bound_and_below_one_inside():
    """A value on the lower or upper quantile scores 1, the median 0, halfway 0.5."""
    q = _quantiles()
    for y, expected in ((q[..., 0], 1.0), (q[..., 2], 1.0), (q[..., 1], 0.0)):
        np.testing.assert_allclose(conformal.scores(q, y)[..., 0], expected)
    halfway = (q[..., 1] + q[..., 2]) / 2
    np.testing.assert_allclose(conformal.scores(q, halfway)[..., 0], 0.5)


def test_factors_pool_the_steps_below_the_threshold_and_split_them_above():
    """Below MIN_PER_STEP windows one factor serves all steps; from it on, one per step, the
    ceil((n + 1) c)-th smallest of that step's scores (split conformal's rank, not one
    above it)."""
    rng = np.random.default_rng(0)
    few = rng.uniform(size=(20, 3, 1))
    f = conformal.factors(few, LEVELS)
    assert f.shape == (3, 1) and np.all(f == f[0])
    many = rng.uniform(size=(conformal.MIN_PER_STEP, 3, 1)) * np.array([1, 2, 3])[:, None]
    f = conformal.factors(many, LEVELS)
    n = len(many)
    k = int(np.ceil((n + 1) * 0.8))
    np.testing.assert_allclose(f[:, 0], np.sort(many[..., 0], axis=0)[k - 1])
    assert np.all((many[..., 0] <= f[:, 0]).sum(axis=0) == k)  # covers k of n, no more
    assert f[0, 0] < f[1, 0] < f[2, 0]


def test_calibrated_intervals_hold_the_k_values_their_factor_was_set_by():
    """The calibration values are inside the calibrated intervals k times of n, rounding
    included: the value that sets a factor lies on its bound, and without the factor's
    1e-9 widening mid + score * (bound - mid) rounded to just inside it (seed 5 here)."""
    for seed in range(40):
        q = _quantiles(n=100, horizon=3, seed=seed)
        rng = np.random.default_rng(seed + 100)
        y = q[..., 1] + rng.normal(scale=2.0, size=q.shape[:2])
        cal = conformal.calibrate(q, conformal.factors(conformal.scores(q, y), LEVELS))
        inside = (cal[..., 0] <= y) & (y <= cal[..., 2])
        k = int(np.ceil(101 * 0.8))
        assert np.all(inside.sum(axis=0) == k), (seed, inside.sum(axis=0))


def test_calibrate_scales_the_intervals_and_keeps_the_order():
    """Factor 1 leaves the quantiles, 0 collapses them onto the median, 2 doubles the gaps;
    the result never crosses."""
    q = _quantiles()
    np.testing.assert_allclose(conformal.calibrate(q, np.ones((2, 1))), q)
    np.testing.assert_allclose(conformal.calibrate(q, np.zeros((2, 1)))[..., 0], q[..., 1])
    wide = conformal.calibrate(q, np.full((2, 1), 2.0))
    np.testing.assert_allclose(wide[..., 2] - wide[..., 1], 2 * (q[..., 2] - q[..., 1]))
    assert conformal.calibrate(q, None) is q
    assert np.all(np.diff(wide, axis=-1) >= 0)


def test_walk_equals_sliding_and_calibrating_group_by_group():
    """The batched walk gives what sliding each group's scores in and calibrating the next
    origin's quantiles gives, and returns the final window."""
    rng = np.random.default_rng(1)
    stored = rng.uniform(size=(12, 2, 1))
    q_new, q_at = _quantiles(9, seed=2), _quantiles(6, seed=3)
    y_new = q_new[..., 1] + rng.normal(size=(9, 2))
    new_counts, at_counts = [0, 4, 5], [2, 2, 2]
    out, final = conformal.walk(stored, LEVELS, q_new, y_new, new_counts, q_at, at_counts)
    expected, window, a = [], stored, 0
    for k, (n_new, n_at) in enumerate(zip(new_counts, at_counts, strict=True)):
        if n_new:
            window = conformal.slide(
                window, conformal.scores(q_new[a : a + n_new], y_new[a : a + n_new])
            )
            a += n_new
        expected.append(
            conformal.calibrate(q_at[2 * k : 2 * k + n_at], conformal.factors(window, LEVELS))
        )
    np.testing.assert_array_equal(out, np.concatenate(expected))
    np.testing.assert_array_equal(final, window)
    assert final.shape == stored.shape


@pytest.mark.parametrize(
    "coverage, message",
    [(0.5, "can be one of \\[0.8\\]"), (-0.1, "in \\[0, 1\\]"), ("x", "in \\[0, 1\\]")],
)
def test_interval_bounds_name_what_is_offered(coverage, message):
    """The bounds of an offered coverage, or an error listing the offered ones."""
    assert conformal.interval_bounds(LEVELS, 0.8) == (0, 2)
    assert conformal.interval_bounds(LEVELS, 0.0) == (1, 1)
    with pytest.raises(ValueError, match=message):
        conformal.interval_bounds(LEVELS, coverage)


def test_half_widths_are_conformal_quantiles_of_absolute_errors_growing_with_the_step():
    from skresnet.timeseries._conformal import around, half_widths

    levels = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
    errors = np.stack([np.arange(1.0, 10.0) * s for s in (1, -1, 2)], axis=0)  # (3, 9)
    errors = np.concatenate([errors, np.zeros((6, 9))])  # 9 origins
    widths = half_widths(errors, levels)
    assert widths.shape == (9, 2)
    # 80%: the ceil(10 * 0.8) = 8th smallest of 9 |errors| per step, made non-decreasing
    expected = np.sort(np.abs(errors), axis=0)[7]
    np.testing.assert_allclose(widths[:, 0], np.maximum.accumulate(expected))
    assert np.all(widths[:, 0] >= widths[:, 1])
    assert half_widths(np.empty((0, 9)), levels) is None
    mid = np.array([[10.0] * 9, [20.0] * 9])
    q = around(mid, widths, np.array([1.0, 2.0]), 5)
    np.testing.assert_allclose(q[..., 2], mid)
    np.testing.assert_allclose(q[1, :, 4] - q[1, :, 2], 2 * widths[:, 0])
    assert np.all(np.diff(q, axis=-1) >= 0)
