"""Bad input gets a ValueError/TypeError/NotFittedError that says what was expected."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster

ESTIMATORS = [ResNetClassifier, ResidualMLPRegressor, TCNForecaster]
X = np.random.default_rng(0).random((10, 3))
Y = np.arange(10) % 2


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda e: e.__name__)
def fitted(request):
    return request.param(max_epochs=1, device="cpu").fit(X, Y)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "X_bad,y_bad,match",
    [
        (np.where(np.eye(10, 3), np.nan, X), Y, "Input X contains NaN"),
        (np.where(np.eye(10, 3), np.inf, X), Y, "Input X contains infinity"),
        (np.empty((0, 3)), np.empty(0), r"Found array with 0 sample\(s\)"),
        (X[:, 0], Y, "Expected 2D array, got 1D array"),
        (np.zeros((10, 1, 1, 1, 2)), Y, "X has 5 dimensions"),
        (X, Y[:-1], "inconsistent numbers of samples: \\[10, 9\\]"),
        (X + 1j, Y, "Complex data not supported"),
        (np.full((10, 3), "a", dtype=object), Y, "X must hold numbers .* could not convert"),
        (X, np.r_[np.nan, Y[1:]], "Input y contains NaN"),
    ],
    ids=["nan", "inf", "empty", "1d", "5d", "lengths", "complex", "object", "y-nan"],
)
def test_bad_fit_input_is_rejected_with_a_clear_message(Est, X_bad, y_bad, match):
    """Each kind of malformed fit input raises ValueError naming the problem."""
    with pytest.raises(ValueError, match=match):
        Est().fit(X_bad, y_bad)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_predict_before_fit_raises_not_fitted(Est):
    """predict on an unfitted estimator raises NotFittedError."""
    with pytest.raises(NotFittedError, match="not fitted yet"):
        Est().predict(X)


def test_feature_count_differing_from_fit(fitted):
    """predict with another number of columns names both counts."""
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3 features"):
        fitted.predict(X[:, :2])


def test_classifier_rejects_continuous_target():
    """A classifier given a continuous y says so."""
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        ResNetClassifier().fit(X, np.linspace(0, 1, 10))


def test_classifier_rejects_other_sample_shape():
    """A series classifier refuses series of another length at predict time."""
    clf = ResNetClassifier(max_epochs=1, width=2, device="cpu").fit(
        np.zeros((4, 2, 5)), [0, 1, 0, 1]
    )
    with pytest.raises(
        ValueError, match=r"samples of shape \(2, 6\).*fitted on samples of shape \(2, 5\)"
    ):
        clf.predict(np.zeros((4, 2, 6)))
    with pytest.raises(ValueError, match="architecture='mlp' does not match X of shape"):
        ResNetClassifier(architecture="mlp").fit(np.zeros((4, 2, 5)), [0, 1, 0, 1])


def test_one_class_is_rejected():
    """A classifier needs two classes with positive weight."""
    with pytest.raises(ValueError, match="at least 2 classes .* got 1 class"):
        ResNetClassifier().fit(X, np.ones(10))
    with pytest.raises(ValueError, match="at least 2 classes"):
        ResNetClassifier().fit(X, Y, sample_weight=Y.astype(float))


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "params,match",
    [
        (
            {"lr": -1},
            "The 'lr' parameter of .* must be a float in the range \\(0.0, inf\\). Got -1",
        ),
        ({"optimizer": "lbfgs"}, "The 'optimizer' parameter .* must be a str among"),
        ({"device": "gpu"}, "device='gpu' is not a valid device"),
        ({"device": "cuda:7"}, "device='cuda:7' was requested but"),
        ({"max_epochs": 0}, "The 'max_epochs' parameter"),
    ],
)
def test_bad_parameters_are_named(Est, params, match):
    """Invalid constructor values are reported at fit with the parameter's name."""
    if "cuda" in str(params.get("device")) and __import__("torch").cuda.device_count() > 7:
        pytest.skip("this machine has that many GPUs")
    with pytest.raises(ValueError, match=match):
        Est(**params).fit(X, Y)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_bad_sample_weight(Est):
    """Wrong length, negative and all-zero sample weights are refused."""
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\), expected \(10,\)"):
        Est().fit(X, Y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        Est().fit(X, Y, sample_weight=-np.ones(10))
    with pytest.raises(ValueError, match="at least one non-zero"):
        Est().fit(X, Y, sample_weight=np.zeros(10))
