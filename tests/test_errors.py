"""Bad input gets a ValueError/TypeError/NotFittedError that says what was expected."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster
from skresnet.timeseries import CalendarFeatures, RowStandardScaler, backtest, make_windows

ESTIMATORS = [ResNetClassifier, ResidualMLPRegressor, TCNForecaster]
X = np.random.default_rng(0).random((10, 3))
Y = np.arange(10) % 2
FAST = dict(max_epochs=3, random_state=0, device="cpu")


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
        (X, np.r_[[None], Y[1:]].astype(object), "Input y contains NaN|missing label"),
        (X, pd.array(np.r_[[None], Y[1:]], dtype="Int64"), "Input y contains NaN|missing label"),
    ],
    ids=[
        "nan",
        "inf",
        "empty",
        "1d",
        "5d",
        "lengths",
        "complex",
        "object",
        "y-nan",
        "y-none",
        "y-pd-na",
    ],
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


def test_class_weight_keys_are_the_users_labels():
    """class_weight={label: w} weights the class of that label, for int and str labels."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] + 0.8 * rng.normal(size=120) > 0, 2, 1)
    for labels in (y, np.where(y == 2, "yes", "no")):
        shares = []
        for heavy_class in (1, 2):
            other = 3 - heavy_class
            weights = {labels[y == heavy_class][0]: 50.0, labels[y == other][0]: 1.0}
            clf = ResNetClassifier(class_weight=weights, max_epochs=30, random_state=0, n_fits=1)
            pred = clf.fit(X, labels).predict(X)
            shares.append(np.mean(pred == labels[y == 2][0]))
        # Half the rows are of each class; 50x weight on a class makes it the
        # prediction for most of them, on either side.
        assert shares[0] < 0.35 and shares[1] > 0.65, shares


def test_predict_refuses_values_beyond_float32(table):
    """float64 input of 1e39 is an error at predict, not inf/NaN output."""
    X, y = table
    est = ResidualMLPRegressor(**FAST).fit(X, y)
    bad = X.astype(np.float64)
    bad[0, 0] = 1e39
    with pytest.raises(ValueError, match="infinity|too large"):
        est.predict(bad)


@pytest.mark.parametrize("scale", [1e20, 1e30])
def test_extreme_feature_scales_are_refused(table, scale):
    """Features near 1e20 give a ValueError asking for standardization, not NaN predictions."""
    X, y = table
    with pytest.raises(ValueError, match="StandardScaler"):
        ResidualMLPRegressor(**FAST).fit(X * scale, y)


def test_extreme_series_scales_are_refused_with_a_forecasting_hint():
    """A forecaster's windows beyond float32's safe range ask for the series to be divided
    by a constant, not for a StandardScaler (which would scale each lag apart)."""
    from skresnet import TCNForecaster

    X = np.abs(np.random.default_rng(0).normal(size=(40, 8))) * 1e20
    with pytest.raises(ValueError, match="Divide the series by a constant") as err:
        TCNForecaster(max_epochs=1).fit(X, X[:, -2:])
    assert "StandardScaler" not in str(err.value)


def test_huge_targets_are_scaled_without_overflow(table):
    """A target near 1e160 trains and predicts finite values on its own scale."""
    X, y = table
    est = ResidualMLPRegressor(max_epochs=30, random_state=0, device="cpu").fit(X, y * 1e160)
    pred = est.predict(X)
    assert np.isfinite(pred).all()
    assert np.corrcoef(pred / 1e160, y)[0, 1] > 0.9


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ResNetClassifier(device="mps", max_epochs=1), "device='mps'"),
        (lambda: ResNetClassifier(device="meta", max_epochs=1), "device='meta'"),
        (lambda: ResNetClassifier(width=True, max_epochs=1), "'width'"),
        (lambda: ResNetClassifier(norm="batch", batch_size=1, max_epochs=1), "batch_size=1"),
    ],
)
def test_bad_parameters_name_themselves(make, message):
    """Invalid parameters give one sklearn-style error naming the parameter."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=message):
        make().fit(X, np.arange(20) % 2)


def test_bad_kernel_sizes_and_backtest_arguments_are_named():
    """kernel_sizes, step, horizon and season_length of 0 are named, not crashes."""
    series = np.sin(np.arange(100) / 3)
    with pytest.raises(ValueError, match="kernel_sizes"):
        ResNetClassifier(kernel_sizes=(0, 3), max_epochs=1).fit(
            np.zeros((8, 1, 16)), np.arange(8) % 2
        )
    for kwargs, name in [({"step": 0}, "step"), ({"horizon": 0}, "horizon")]:
        with pytest.raises(ValueError, match=name):
            backtest(TCNForecaster(), series, lookback=10, **{"horizon": 2, **kwargs})
    with pytest.raises(ValueError, match="season_length"):
        backtest(TCNForecaster(), series, lookback=10, horizon=2, season_length=0)
    for name in ("refit", "recalibrate"):
        with pytest.raises(TypeError, match=f"{name} must be True or False, got 'yes'"):
            backtest(TCNForecaster(), series, lookback=10, horizon=2, **{name: "yes"})


def test_smaller_input_checks():
    """Zero weights, duplicate calendar components and a negative eps are refused."""
    X, y = make_windows(np.sin(np.arange(80) / 3), lookback=8, horizon=2)
    with pytest.raises(ValueError, match="non-zero|sums to zero"):
        TCNForecaster(**FAST).fit(X, y, sample_weight=np.zeros(len(X)))
    stamps = pd.DataFrame(index=pd.date_range("2024-01-01", periods=5, freq="h"))
    with pytest.raises(ValueError, match="repeats"):
        CalendarFeatures(components=("hour", "hour")).fit(stamps)
    with pytest.raises(ValueError, match="eps"):
        RowStandardScaler(eps=-1.0).fit(np.ones((2, 3)))


def test_read_only_input_trains_without_warning(table):
    """A read-only array (e.g. a joblib memmap) trains without torch's writability warning."""
    X, y = table
    X = X.copy()
    X.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ResidualMLPRegressor(**FAST).fit(X, y)


@pytest.mark.parametrize("as_frame", [False, True])
def test_missing_class_labels_are_refused_by_row(as_frame):
    """A None among string labels failed in a sort of mixed types (TypeError), before
    and inside a DataFrame's target encoder."""
    X_fit = pd.DataFrame({"x": X[:, 0], "kind": list("ab") * 5}) if as_frame else X
    labels = np.array(["no", "yes"] * 5, dtype=object)
    labels[4] = None
    with pytest.raises(ValueError, match="y has 1 missing label.*first at row 4"):
        ResNetClassifier(**FAST).fit(X_fit, labels)


def test_repeated_multiindex_and_empty_frames():
    """Repeated labels are named; MultiIndex columns work; an empty frame names us."""
    frame = pd.DataFrame({"x": X[:, 0], "kind": list("ab") * 5})
    with pytest.raises(ValueError, match=r"repeated column labels \['x'\]"):
        ResidualMLPRegressor(**FAST).fit(pd.concat([frame, frame[["x"]]], axis=1), Y)
    nested = frame.set_axis(pd.MultiIndex.from_tuples([("p", "x"), ("q", "kind")]), axis=1)
    model = ResidualMLPRegressor(**FAST).fit(nested, Y)
    assert list(model.feature_names_in_) == ["('p', 'x')", "('q', 'kind')"]
    np.testing.assert_allclose(model.predict(nested), model.predict(nested.iloc[::-1])[::-1])
    with pytest.raises(ValueError, match="0 sample.*required by ResidualMLPRegressor"):
        ResidualMLPRegressor(**FAST).fit(frame.iloc[:0], Y[:0])


@pytest.mark.parametrize(
    "shape, hint",
    [((30, 16, 16, 3), r"transpose\(0, 3, 1, 2\)"), ((30, 40, 1), r"transpose\(0, 2, 1\)")],
)
def test_channels_last_samples_are_warned_about(shape, hint):
    """numpy images (n, H, W, C) and Keras series (n, L, C) would be read as many
    channels of a few pixels or steps; channels-first samples fit without a warning."""
    X_cl = np.random.default_rng(0).random(shape)
    labels = np.arange(30) % 2
    with pytest.warns(UserWarning, match="looks channels-last.*" + hint) as record:
        ResNetClassifier(max_epochs=1, random_state=0).fit(X_cl, labels)
    ours = [r for r in record if "channels-last" in str(r.message)]
    assert ours[0].filename == __file__  # the warning points at the caller
    first = np.moveaxis(X_cl, -1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ResNetClassifier(max_epochs=1, random_state=0).fit(first, labels)


def test_grayscale_images_are_warned_about():
    """(n, H, W) images (load_digits().images, MNIST) would be read as series of H
    channels; the warning gives X[:, None], and the images or series it names as
    such fit without one."""
    images = np.random.default_rng(0).random((30, 8, 8))
    labels = np.arange(30) % 2
    with pytest.warns(UserWarning, match=r"looks like grayscale images.*X\[:, None\]") as rec:
        ResNetClassifier(max_epochs=1, random_state=0).fit(images, labels)
    assert [r.filename for r in rec if "grayscale" in str(r.message)] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ResNetClassifier(max_epochs=1, random_state=0).fit(images[:, None], labels)
        ResNetClassifier(max_epochs=1, random_state=0, architecture="resnet2d").fit(images, labels)
        ResNetClassifier(max_epochs=1, random_state=0).fit(images[:, :3], labels)


def test_samples_of_different_shapes_are_named():
    """A list of series of different lengths failed with numpy's "inhomogeneous
    shape" message; X (or y) of ragged samples now gets a ValueError that says so."""
    rng = np.random.default_rng(0)
    ragged = [rng.random((1, 30 + i % 3)) for i in range(20)]
    labels = np.arange(20) % 2
    with pytest.raises(ValueError, match="X holds samples of different shapes"):
        ResNetClassifier(max_epochs=1).fit(ragged, labels)
    with pytest.raises(ValueError, match="y holds samples of different shapes"):
        TCNForecaster(max_epochs=1).fit(np.ones((20, 10)), [[1.0, 2.0], [1.0, 2.0, 3.0]] * 10)
    # a column of series (pandas' object array of arrays): numpy's "setting an array
    # element with a sequence" before, now what to give instead
    column = np.empty(20, dtype=object)
    column[:] = [rng.random(30) for _ in range(20)]
    for X in (column, pd.Series(column)):
        with pytest.raises(ValueError, match=r"X holds sequences .* np\.stack\(X\)"):
            ResNetClassifier(max_epochs=1).fit(X, labels)
    with pytest.raises(ValueError, match=r"X holds sequences"):
        ResidualMLPRegressor(max_epochs=1, preprocessing=None).fit(column[:, None], labels)


def test_a_column_float32_rounds_away_is_warned_about():
    """1e7 +- 1 is one float32 step: the column's variation was rounded away without a
    word (R^2 0.90 where it gives 0.997). fit warns, naming the column; the same
    column without its offset, or with one float32 resolves, fits quietly."""
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(60, 3))
    target = Xr[:, 0]
    with pytest.warns(UserWarning, match=r"X column\(s\) \[0\] vary little.*1e\+07") as rec:
        ResidualMLPRegressor(max_epochs=1).fit(Xr + [1e7, 0, 0], target)
    assert [r.filename for r in rec if "vary little" in str(r.message)] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ResidualMLPRegressor(max_epochs=1).fit(Xr, target)
        ResidualMLPRegressor(max_epochs=1).fit(Xr + [1e4, 0, 0], target)
        ResidualMLPRegressor(max_epochs=1).fit((Xr + [1e7, 0, 0]).astype(np.float32), target)


def test_device_takes_a_torch_device_as_skorch_does():
    """device=torch.device("cpu") fits as "cpu" does, is kept unchanged by clone and
    get_params, and a CUDA device on a machine without one is refused as the string."""
    import torch
    from sklearn.base import clone

    model = ResidualMLPRegressor(**{**FAST, "device": torch.device("cpu")}).fit(X, Y)
    plain = ResidualMLPRegressor(**{**FAST, "device": "cpu"}).fit(X, Y)
    np.testing.assert_allclose(model.predict(X), plain.predict(X))
    assert model.device_ == "cpu" and clone(model).get_params()["device"] == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            ResidualMLPRegressor(**{**FAST, "device": torch.device("cuda")}).fit(X, Y)


def test_callbacks_that_are_not_skorch_callbacks_are_named():
    """callbacks=[1, 2] failed inside skorch with "'int' object has no attribute
    'set_params'"; each entry is now checked, instances, classes and pairs alike."""
    from skorch.callbacks import EpochTimer

    with pytest.raises(ValueError, match=r"callbacks\[1\] is \('t', 3\); expected a skorch"):
        ResidualMLPRegressor(**{**FAST, "callbacks": [EpochTimer(), ("t", 3)]}).fit(X, Y)
    kinds = [EpochTimer(), ("timer", EpochTimer()), EpochTimer]
    model = ResidualMLPRegressor(**{**FAST, "callbacks": kinds, "n_fits": 1}).fit(X, Y)
    assert model.get_params()["callbacks"] is kinds


def test_text_labels_with_pd_na_are_refused_by_name():
    """A pandas string array with pd.NA would fail inside scikit-learn's finiteness
    check ("boolean value of NA is ambiguous"); it is a missing label."""
    labels = pd.array(["a", None] + ["a", "b"] * 4, dtype="string")
    with pytest.raises(ValueError, match="1 missing label.*first at row 1"):
        ResNetClassifier(**FAST).fit(X, labels)
