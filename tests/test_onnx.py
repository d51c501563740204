"""ONNX export: onnxruntime gives what predict/predict_proba give, per family and Pipeline."""

import numpy as np
import pandas as pd
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")
pytest.importorskip("onnxscript")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster  # noqa: E402
from skresnet.onnx import to_onnx  # noqa: E402
from skresnet.timeseries import make_windows  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")
rng = np.random.default_rng(0)
FAST = dict(max_epochs=2, random_state=0, device="cpu")


def _table(n=60):
    X = rng.normal(size=(n, 4)).astype(np.float32)
    return X, X[:, 0] - X[:, 1]


def _case(name):
    """(fitted estimator, held-out X) for each exported family."""
    X, y = _table()
    if name == "mlp-classifier":
        # one fit: the averaged networks' graph is test_refit_classifier_averaging_...
        clf = ResNetClassifier(n_fits=1, **FAST)
        return clf.fit(X[:40], np.where(y[:40] > 0, "up", "down")), X[40:]
    if name == "resnet1d":
        S = rng.normal(size=(40, 2, 16)).astype(np.float32)
        return ResNetClassifier(width=8, **FAST).fit(S[:30], np.arange(30) % 3), S[30:]
    if name == "resnet2d-flat-rows":
        images = rng.normal(size=(40, 64)).astype(np.float32)
        clf = ResNetClassifier(input_shape=(1, 8, 8), width=8, **FAST)
        return clf.fit(images[:30], np.arange(30) % 2), images[30:]
    if name == "regressor-raw-units":  # standardized inside the network, a count logged
        X = np.c_[1e3 * X + 1e4, np.round(np.exp(3 * np.abs(X[:, 0])))].astype(np.float32)
        est = ResidualMLPRegressor(**FAST).fit(X[:40], y[:40])
        assert est.module_.networks[0].input_log_scale[-1] > 0
        return est, X[40:]
    if name == "regressor-2-outputs":
        return ResidualMLPRegressor(**FAST).fit(X[:40], np.c_[y, 2 * y][:40] + 100), X[40:]
    if name == "tcn-nonnegative":  # counts: the floor at 0 is part of the graph
        counts = np.random.default_rng(1).poisson(np.clip(3 * np.sin(np.arange(200) / 3), 0, None))
        Xw, yw = make_windows(counts.astype(float), lookback=12, horizon=4)
        model = TCNForecaster(ets=False, **FAST).fit(Xw[:150], yw[:150])
        assert model.nonnegative_ and (model.predict(Xw[150:]) == 0).any()
        return model, Xw[150:]
    Xw, yw = make_windows(
        pd.DataFrame({"y": np.sin(np.arange(200) / 4), "x": rng.normal(size=200)}),
        lookback=12,
        horizon=3,
        target="y",
        covariates=["x"],
    )
    if name == "tcn-quantiles":
        model = TCNForecaster(quantiles=(0.1, 0.5, 0.9), **FAST)
        return model.fit(Xw[:150], yw[:150]), Xw[150:]
    return TCNForecaster(**FAST).fit(Xw[:150], yw[:150]), Xw[150:]


ALL_CASES = [
    "mlp-classifier",
    "resnet1d",
    "resnet2d-flat-rows",
    "regressor-2-outputs",
    "regressor-raw-units",
    "tcn-forecaster",
    "tcn-quantiles",
    "tcn-nonnegative",
]


@pytest.mark.parametrize("name", ALL_CASES)
def test_every_export_takes_any_batch_size(name):
    """Exported with a batch of 2, the graph serves batches of 1, 7 and 37 (no batch size
    is baked in, quantile forecasters included), equal to predict."""
    est, X_test = _case(name)
    session = ort.InferenceSession(to_onnx(est, X_test[:2]).SerializeToString())
    X_big = np.concatenate([X_test] * 4)[:37]
    for n in (1, 7, 37):
        X = np.asarray(X_big[:n], dtype=np.float32)
        outputs = session.run(None, {"X": X})
        expected = est.predict(X)
        assert len(outputs[0]) == n
        if hasattr(est, "classes_"):
            np.testing.assert_array_equal(outputs[0], expected)
        else:
            np.testing.assert_allclose(outputs[0], expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", [c for c in ALL_CASES if c != "tcn-quantiles"])
def test_onnxruntime_matches_predict(name):
    """Held-out outputs of onnxruntime equal predict/predict_proba within 1e-4; batch is dynamic."""
    est, X_test = _case(name)
    session = ort.InferenceSession(to_onnx(est, X_test[:2]).SerializeToString())
    outputs = session.run(None, {"X": np.asarray(X_test, dtype=np.float32)})
    if hasattr(est, "classes_"):
        assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
        np.testing.assert_array_equal(outputs[0], est.predict(X_test))
        np.testing.assert_allclose(outputs[1], est.predict_proba(X_test), atol=1e-4)
    else:
        np.testing.assert_allclose(outputs[0], est.predict(X_test), rtol=1e-4, atol=1e-4)
    assert len(outputs[0]) == len(X_test) != 2


@pytest.mark.parametrize("Est", [ResNetClassifier, ResidualMLPRegressor], ids=lambda e: e.__name__)
def test_pipeline_with_column_transformer_exports_through_skl2onnx(Est):
    """skl2onnx converts the sklearn steps; our converter the network; outputs match."""
    n = 80
    df = pd.DataFrame(
        {
            "city": rng.choice(["oslo", "rome", "lima"], size=n),
            "size": rng.normal(50, 10, size=n),
            "age": rng.integers(0, 30, size=n).astype(np.int64),
        }
    )
    signal = (df["city"] == "rome") * 2.0 + df["size"] / 10
    y = (signal > signal.median()).astype(int) if Est is ResNetClassifier else signal
    prep = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["city"]),
            ("num", StandardScaler(), ["size", "age"]),
        ]
    )
    pipe = Pipeline([("prep", prep), ("model", Est(**FAST))]).fit(df[:60], y[:60])
    test = df[60:]
    session = ort.InferenceSession(to_onnx(pipe, df[:2]).SerializeToString())
    outputs = session.run(None, {c: test[[c]].to_numpy() for c in df.columns})
    if Est is ResNetClassifier:
        np.testing.assert_array_equal(outputs[0], pipe.predict(test))
        np.testing.assert_allclose(outputs[1], pipe.predict_proba(test), atol=1e-4)
    else:
        np.testing.assert_allclose(outputs[0].ravel(), pipe.predict(test), rtol=1e-4, atol=1e-4)


def test_refit_classifier_averaging_two_networks_exports():
    """A refit classifier's module averages two networks' probabilities; the graph
    computes that average too."""
    from skresnet.modules import ProbabilityAverage

    X = rng.normal(size=(300, 5)).astype(np.float32)
    y = np.where(X[:, 0] * X[:, 1] > 0, "a", "b")
    # two fits, each averaging its two networks: nested averages, four networks
    clf = ResNetClassifier(max_epochs=10, n_fits=2, random_state=0, device="cpu")
    clf.fit(X[:250], y[:250])
    assert isinstance(clf.module_, ProbabilityAverage)
    session = ort.InferenceSession(to_onnx(clf, X[:2]).SerializeToString())
    label, proba = session.run(None, {"X": X[250:]})
    np.testing.assert_array_equal(label, clf.predict(X[250:]))
    np.testing.assert_allclose(proba, clf.predict_proba(X[250:]), atol=1e-5)


def test_bagged_regressor_exports_the_average_of_its_fits():
    from skresnet.modules import OutputAverage

    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = np.sin(2 * X[:, 0]) + X[:, 1]
    reg = ResidualMLPRegressor(max_epochs=5, random_state=0, device="cpu").fit(X[:150], y[:150])
    assert isinstance(reg.module_, OutputAverage)
    session = ort.InferenceSession(to_onnx(reg, X[:2]).SerializeToString())
    (out,) = session.run(None, {"X": X[150:]})
    np.testing.assert_allclose(out.ravel(), reg.predict(X[150:]), rtol=1e-4, atol=1e-4)
