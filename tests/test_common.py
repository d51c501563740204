"""scikit-learn's estimator checks over every estimator skresnet exports."""

import pytest
from sklearn.utils import estimator_checks as checks
from sklearn.utils.estimator_checks import parametrize_with_checks

import skresnet
from skresnet._tabular import RobustSmoothClip
from skresnet.timeseries import CalendarFeatures

# The tabular defaults average five fits on small tables (n_fits="auto"), which would
# run every check five times over; the full set runs with one fit, and the checks that
# the average itself could break run on the defaults (test_bagged_defaults_...).
BAGGED = {"ResNetClassifier", "ResidualMLPRegressor"}
# Ten epochs for them: the checks test the API, and the linear start learns the checks'
# small sets before any epoch.
ESTIMATORS = [
    getattr(skresnet, name)(**({"n_fits": 1, "max_epochs": 10} if name in BAGGED else {}))
    for name in skresnet.__all__
    if name[0].isupper()
]

# These two checks compare predictions of a weighted fit and a repeated-rows
# fit to 1e-7, which only float64 full-batch training reaches; a float32
# mini-batch network differs by ~1e-3 after training. What sample_weight
# means is tested directly instead: the loss on (X, y, w) equals the loss on
# the rows repeated w times (tests/test_sample_weight.py).
_WEIGHT_REASON = (
    "float32 mini-batch training cannot match a repeated-rows fit to 1e-7; "
    "the weighted-loss identity is tested in test_sample_weight.py"
)


def expected_failed_checks(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": _WEIGHT_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _WEIGHT_REASON,
    }


def test_every_estimator_is_checked():
    """The common checks below cover all three public estimators."""
    names = {type(e).__name__ for e in ESTIMATORS}
    assert names == {"ResNetClassifier", "ResidualMLPRegressor", "TCNForecaster"}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    """Each scikit-learn estimator check passes with default parameters (one fit of ten
    epochs for the tabular estimators; their averaged defaults: below)."""
    check(estimator)


_BAGGED_CHECKS = [
    checks.check_estimators_pickle,
    checks.check_fit_idempotent,
    checks.check_methods_sample_order_invariance,
    checks.check_methods_subset_invariance,
    checks.check_estimators_overwrite_params,
    checks.check_dont_overwrite_parameters,
    checks.check_dict_unchanged,
    checks.check_fit_check_is_fitted,
]


# n_fits="auto" averages several fits on these small sets whatever the epochs; five
# epochs a fit keep the checks quick (the average, not the training, is under test)
@pytest.mark.parametrize(
    ("estimator", "check"),
    [
        (skresnet.ResNetClassifier(max_epochs=5), c)
        for c in [*_BAGGED_CHECKS, checks.check_classifiers_train]
    ]
    + [
        (skresnet.ResidualMLPRegressor(max_epochs=5), c)
        for c in [*_BAGGED_CHECKS, checks.check_regressors_train]
    ],
    ids=lambda p: p.__name__ if callable(p) and not hasattr(p, "fit") else type(p).__name__,
)
def test_bagged_defaults_pass_the_checks_an_average_could_break(estimator, check):
    """The averaged defaults (``n_fits="auto"``: several fits on these small sets) pass
    the checks of persistence, idempotence, invariance to row order and subsets,
    untouched parameters and learning."""
    check(type(estimator).__name__, estimator)


# CalendarFeatures reads timestamps; the checks below feed it numeric feature
# matrices (or 1-D arrays, which for timestamps are valid input), which it
# refuses by design: numbers are not read as nanoseconds since 1970. The API
# checks, and those on sparse, complex, empty and NaN input, run.
_TIMESTAMP_REASON = "feeds a numeric feature matrix; CalendarFeatures takes timestamps"
_CALENDAR_NUMERIC_CHECKS = [
    "check_fit_score_takes_y",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_estimators_dtypes",
    "check_dtype_object",
    "check_pipeline_consistency",
    "check_estimators_nan_inf",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_fit2d_1sample",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit2d_predict1d",
    "check_fit2d_1feature",
]


@parametrize_with_checks(
    [CalendarFeatures()],
    expected_failed_checks=lambda est: dict.fromkeys(_CALENDAR_NUMERIC_CHECKS, _TIMESTAMP_REASON),
)
def test_calendar_features_checks(estimator, check):
    """CalendarFeatures passes scikit-learn's checks that do not need numeric features."""
    check(estimator)


@parametrize_with_checks([RobustSmoothClip()])
def test_robust_smooth_clip_checks(estimator, check):
    """The tables' numeric scaling (with its log scale for long tails) passes every check."""
    check(estimator)


def test_calendar_features_refuses_bad_timestamps_like_sklearn():
    """Sparse, complex, empty, NaT and multi-column input get sklearn-style errors."""
    import numpy as np
    import pandas as pd
    import pytest
    import scipy.sparse as sp

    cal = CalendarFeatures()
    with pytest.raises(TypeError, match="sparse"):
        cal.fit(sp.csr_matrix(np.ones((3, 1))))
    with pytest.raises(ValueError, match="Complex data not supported"):
        cal.fit(np.ones((3, 1), dtype=complex))
    with pytest.raises(ValueError, match="0 feature"):
        cal.fit(np.ones((3, 0)))
    with pytest.raises(ValueError, match="0 sample"):
        cal.fit(np.array([], dtype="datetime64[ns]"))
    stamps = pd.to_datetime(["2024-01-01", None, "2024-01-03"])
    with pytest.raises(ValueError, match="NaT.*position 1"):
        cal.fit(np.asarray(stamps))
    with pytest.raises(ValueError, match="shape \\(3, 2\\)"):
        cal.fit(np.ones((3, 2)))
    good = pd.date_range("2024-01-01", periods=4, freq="h").to_numpy()
    assert cal.fit_transform(good).shape == (4, 6)
