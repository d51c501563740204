"""Pipelines tuned with GridSearchCV, saved with joblib and reloaded in a fresh process."""

import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import skresnet
from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster

GRIDS = {
    ResNetClassifier: {"n_blocks": [1, 2]},
    ResidualMLPRegressor: {"width": [16, 32]},
    TCNForecaster: {"channels": [8, 16]},
}


def _frame(n=80, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "city": rng.choice(["oslo", "rome", "lima"], size=n),
            "size": rng.normal(50, 10, size=n),
            "age": rng.integers(0, 30, size=n),
        }
    )
    signal = (df["city"] == "rome") * 2.0 + df["size"] / 10
    return df, signal.to_numpy()


def _load_and_predict_in_fresh_process(path, df, tmp_path):
    df.to_pickle(tmp_path / "X.pkl")
    code = textwrap.dedent(
        f"""
        import joblib, numpy as np, pandas as pd
        model = joblib.load({str(path)!r})
        X = pd.read_pickle({str(tmp_path / "X.pkl")!r})
        np.save({str(tmp_path / "pred.npy")!r}, model.predict(X))
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    return np.load(tmp_path / "pred.npy", allow_pickle=True)


@pytest.mark.parametrize("Est", list(GRIDS), ids=lambda e: e.__name__)
def test_grid_searched_pipeline_round_trips_through_joblib(Est, tmp_path):
    """GridSearchCV(n_jobs=2) over a Pipeline; the best model reloads elsewhere, same output."""
    df, signal = _frame()
    y = (signal > np.median(signal)).astype(int) if Est is ResNetClassifier else signal
    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
                        ("num", StandardScaler(), ["size", "age"]),
                    ]
                ),
            ),
            ("model", Est(max_epochs=5, random_state=0, device="cpu")),
        ]
    )
    grid = {f"model__{k}": v for k, v in GRIDS[Est].items()}
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(df, y)
    best = search.best_estimator_
    assert best.named_steps["model"].n_features_in_ == 5
    path = tmp_path / "model.joblib"
    joblib.dump(best, path)
    expected = best.predict(df)
    got = _load_and_predict_in_fresh_process(path, df, tmp_path)
    np.testing.assert_array_equal(got, expected)


def test_sparse_one_hot_pipeline_is_never_densified_whole():
    """A sparse OneHotEncoder output trains and predicts like its dense twin."""
    df, signal = _frame(n=60)
    y = (signal > np.median(signal)).astype(int)
    preds = []
    for sparse in (True, False):
        pipe = Pipeline(
            [
                ("oh", OneHotEncoder(sparse_output=sparse)),
                ("model", ResNetClassifier(max_epochs=5, random_state=0, device="cpu", n_fits=1)),
            ]
        )
        preds.append(pipe.fit(df[["city"]], y).predict_proba(df[["city"]]))
    # the linear start (LogisticRegression's lbfgs, tol 1e-4) takes other steps on
    # sparse input: the twins agree to its tolerance
    np.testing.assert_allclose(preds[0], preds[1], rtol=1e-3, atol=1e-3)


def test_cuda_trained_model_loads_on_cpu_with_a_warning():
    """A pickle recorded as trained on CUDA loads on a CPU-only machine, with a warning."""
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; see test_gpu_trained_model_loads_without_cuda")
    df, signal = _frame(n=40)
    X = df[["size", "age"]].to_numpy()
    est = ResidualMLPRegressor(max_epochs=2, random_state=0, device="cpu").fit(X, signal)
    expected = est.predict(X)
    est.net_.device = "cuda"
    est.device_ = "cuda"
    blob = pickle.dumps(est)
    with pytest.warns(UserWarning, match="trained on device 'cuda', which is not available"):
        loaded = pickle.loads(blob)
    assert loaded.device_ == "cpu"
    np.testing.assert_array_equal(loaded.predict(X), expected)


@pytest.mark.gpu
@pytest.mark.parametrize("Est", list(GRIDS), ids=lambda e: e.__name__)
@pytest.mark.parametrize("early_stopping", [True, False])
def test_gpu_trained_model_loads_without_cuda(Est, early_stopping, tmp_path):
    """A model trained with device='cuda' predicts in a process that sees no GPU, one warning."""
    df, signal = _frame(n=40)
    X = df[["size", "age"]]
    y = (signal > np.median(signal)).astype(int) if Est is ResNetClassifier else signal
    est = Est(max_epochs=2, random_state=0, device="cuda", early_stopping=early_stopping)
    est.fit(X, y)
    path = tmp_path / "gpu.joblib"
    joblib.dump(est, path)
    code = textwrap.dedent(
        f"""
        import os, warnings
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        import joblib, numpy as np, pandas as pd
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            model = joblib.load({str(path)!r})
        messages = [str(x.message) for x in w if "not available" in str(x.message)]
        assert model.device_ == "cpu" and len(messages) == 1 and "cuda" in messages[0]
        X = pd.read_pickle({str(tmp_path / "X.pkl")!r})
        np.save({str(tmp_path / "pred.npy")!r}, model.predict(X))
        """
    )
    X.to_pickle(tmp_path / "X.pkl")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    got = np.load(tmp_path / "pred.npy")
    np.testing.assert_allclose(got, est.predict(X), rtol=1e-4, atol=1e-5)


class _TensorCounter(pickle.Pickler):
    """A pickler that counts the torch tensors and storages it is asked to pickle."""

    def __init__(self, file):
        super().__init__(file)
        self.tensors = 0

    def reducer_override(self, obj):
        if isinstance(obj, torch.Tensor) or type(obj).__name__.endswith("Storage"):
            self.tensors += 1
        return NotImplemented


def _fitted_variants():
    """Each estimator fitted with and without early stopping, warm-started, and in a Pipeline."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6))
    y_reg, y_cls = X[:, 0], (X[:, 0] > 0).astype(int)
    for Est, y in (
        (ResNetClassifier, y_cls),
        (ResidualMLPRegressor, y_reg),
        (TCNForecaster, y_reg),
    ):
        for early in (True, False):
            yield Est(max_epochs=2, early_stopping=early, device="cpu").fit(X, y)
        warm = Est(max_epochs=2, warm_start=True, device="cpu").fit(X, y)
        yield warm.fit(X, y)
        yield Pipeline([("s", StandardScaler()), ("m", Est(max_epochs=2, device="cpu"))]).fit(X, y)
    yield ResNetClassifier(input_shape=(1, 2, 3), width=8, max_epochs=2, device="cpu").fit(X, y_cls)


def test_pickles_hold_no_raw_tensor():
    """No torch tensor or storage is pickled raw, for every estimator and variant."""
    import io

    for model in _fitted_variants():
        counter = _TensorCounter(io.BytesIO())
        counter.dump(model)
        assert counter.tensors == 0, type(model).__name__


def test_pickles_carry_versions_and_warn_on_a_mismatch(monkeypatch):
    """Loading under another skresnet version warns with InconsistentVersionWarning."""
    import skresnet._persistence as persistence
    from skresnet.exceptions import InconsistentVersionWarning

    X = np.random.default_rng(0).normal(size=(30, 3))
    est = ResidualMLPRegressor(max_epochs=1, device="cpu").fit(X, X[:, 0])
    state = est.__getstate__()
    assert state["_skresnet_versions"]["torch"] == torch.__version__.split("+")[0]
    blob = pickle.dumps(est)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(blob)  # same versions: silent
    real = persistence.versions()
    monkeypatch.setattr(persistence, "versions", lambda: {**real, "skresnet": "9.9.9"})
    mismatch = f"skresnet {skresnet.__version__} -> 9.9.9"
    with pytest.warns(InconsistentVersionWarning, match=mismatch):
        loaded = pickle.loads(blob)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    unstamped = {k: v for k, v in state.items() if k != "_skresnet_versions"}
    with pytest.warns(InconsistentVersionWarning, match="skresnet <0.2 -> 9.9.9"):
        ResidualMLPRegressor().__setstate__(unstamped)  # a pickle from before the stamp


def test_pickles_of_the_0_2_layout_load(monkeypatch):
    """A 0.2 pickle (fitted attributes on the estimator, no input spec or target
    encoder objects) loads, with a version warning, and predicts the same."""
    import skresnet._persistence as persistence
    from skresnet.exceptions import InconsistentVersionWarning

    real = persistence.versions()
    X = np.random.default_rng(0).normal(size=(60, 6))  # what _fitted_variants fits on
    for model in _fitted_variants():
        if isinstance(model, Pipeline):
            continue
        state = model.__getstate__()
        for part in ("input_spec_", "target_encoder_", "n_levels_", "numeric_embedding_"):
            state.pop(part, None)
        # parameters added later (0.4's table encoding and smoothing member, round 3's fits)
        for param in ("preprocessing", "numeric_embedding", "ets", "season_length", "n_fits"):
            state.pop(param, None)
        state["_skresnet_versions"] = {**real, "skresnet": "0.2.0"}
        old = type(model).__new__(type(model))
        if isinstance(model, TCNForecaster):
            # its network scales series differently since 0.4: refused, never misread
            with pytest.raises(ValueError, match="fitted by skresnet 0.2.0.*Refit it"):
                old.__setstate__(state)
            continue
        with pytest.warns(InconsistentVersionWarning, match="skresnet 0.2.0"):
            old.__setstate__(state)
        np.testing.assert_array_equal(old.predict(X), model.predict(X))
        assert old.get_params() == type(model)().set_params(**model.get_params()).get_params()


def test_skops_round_trip_trusts_only_skresnet_types():
    """skops.io stores a Pipeline with our estimator; only skresnet's classes need trust."""
    sio = pytest.importorskip("skops.io")
    df, signal = _frame()
    X = df[["size", "age"]]
    y = np.where(signal > np.median(signal), "high", "low")
    for Est, target in (
        (ResNetClassifier, y),
        (ResidualMLPRegressor, signal),
        (TCNForecaster, signal),
    ):
        pipe = Pipeline([("s", StandardScaler()), ("m", Est(max_epochs=2, device="cpu"))])
        pipe.fit(X, target)
        blob = sio.dumps(pipe)
        untrusted = sio.get_untrusted_types(data=blob)
        # The estimator and its input spec and target encoder: skresnet's own classes only.
        assert f"skresnet.{Est.__module__.split('.')[1]}.{Est.__name__}" in untrusted
        assert len(untrusted) == 3 and all(t.startswith("skresnet._") for t in untrusted)
        loaded = sio.loads(blob, trusted=untrusted)
        np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
