"""GPU switches (cudnn benchmark, TF32): applied during fit only, restored after, even on error."""

from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

import skresnet
from skresnet import ResidualMLPRegressor


def _flags():
    return (
        torch.backends.cudnn.benchmark,
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
    )


class Spy(Callback):
    """Records the torch backend flags seen inside training; optionally fails."""

    def __init__(self, fail=False):
        self.fail = fail

    def on_epoch_begin(self, net, **kwargs):
        seen.append(_flags())
        if self.fail:
            raise ValueError("boom")


seen: list = []


@pytest.mark.parametrize("fail", [False, True])
def test_switches_apply_during_fit_and_are_restored(fail):
    X = np.random.default_rng(0).normal(size=(40, 3))
    before = _flags()
    seen.clear()
    reg = ResidualMLPRegressor(max_epochs=1, n_fits=1, device="cpu", callbacks=[("spy", Spy(fail))])
    with skresnet.config_context(cudnn_benchmark=not before[0], allow_tf32=not before[1]):
        if fail:
            with pytest.raises(ValueError, match="boom"):
                reg.fit(X, X[:, 0])
        else:
            reg.fit(X, X[:, 0])
    assert seen == [(not before[0], not before[1], not before[1])]
    assert _flags() == before
    assert skresnet.get_config() == {
        "fit_threads": 1,
        "cudnn_benchmark": None,
        "allow_tf32": None,
        "docs_url": "http://127.0.0.1:8000/",
    }


def test_default_leaves_torch_settings_alone():
    X = np.random.default_rng(0).normal(size=(40, 3))
    seen.clear()
    before = _flags()
    spy = [("spy", Spy())]
    ResidualMLPRegressor(max_epochs=1, n_fits=1, device="cpu", callbacks=spy).fit(X, X[:, 0])
    assert seen == [before] and _flags() == before


def test_set_config_checks_types():
    with pytest.raises(TypeError, match="cudnn_benchmark must be a bool"):
        skresnet.set_config(cudnn_benchmark="yes")


def test_html_repr_links_each_estimator_to_its_api_page():
    import re

    from sklearn.pipeline import make_pipeline

    from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster
    from skresnet.timeseries import CalendarFeatures, RowStandardScaler

    assert ResNetClassifier()._get_doc_link() == "http://127.0.0.1:8000/api/ResNetClassifier/"
    with skresnet.config_context(docs_url="https://docs.example/skresnet"):
        html = make_pipeline(RowStandardScaler(), ResidualMLPRegressor())._repr_html_()
        assert CalendarFeatures()._get_doc_link().endswith("/skresnet/api/timeseries/")
        assert TCNForecaster()._get_doc_link() == "https://docs.example/skresnet/api/TCNForecaster/"
    links = set(re.findall(r'href="([^"#]+)', html))
    assert "https://docs.example/skresnet/api/ResidualMLPRegressor/" in links
    assert "https://docs.example/skresnet/api/timeseries/" in links
    assert skresnet.get_config()["docs_url"] == "http://127.0.0.1:8000/"  # restored
    # every page linked is one the site builds
    for name in ("ResNetClassifier", "ResidualMLPRegressor", "TCNForecaster", "timeseries"):
        assert (Path(__file__).parents[1] / "docs" / "api" / f"{name}.md").exists()
    with pytest.raises(TypeError, match="docs_url"):
        skresnet.set_config(docs_url=3)


class _Threads(Callback):
    seen: list = []

    def on_epoch_begin(self, net, **kwargs):
        _Threads.seen.append(torch.get_num_threads())


@pytest.mark.parametrize("fit_threads", [1, 2, None])
def test_fit_threads_apply_during_fit_and_are_restored(fit_threads):
    X = np.random.default_rng(0).normal(size=(40, 3))
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        _Threads.seen.clear()
        with skresnet.config_context(fit_threads=fit_threads):
            reg = ResidualMLPRegressor(max_epochs=2, n_fits=1, callbacks=[("t", _Threads())])
            reg.fit(X, X[:, 0])
        expected = 3 if fit_threads is None else fit_threads
        assert _Threads.seen == [expected, expected]
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
    assert skresnet.get_config()["fit_threads"] == 1  # the default, restored


def test_fit_threads_make_a_fit_independent_of_torchs_thread_count():
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(n_samples=300, random_state=0)
    before = torch.get_num_threads()
    weights = []
    try:
        for threads in (1, 2):  # the caller's torch thread count
            torch.set_num_threads(threads)
            model = ResidualMLPRegressor(max_epochs=5, random_state=0, linear_start=False)
            weights.append(model.fit(X, y).module_.state_dict())  # default fit_threads=1
    finally:
        torch.set_num_threads(before)
    for name, value in weights[0].items():  # bit-identical trained weights
        assert torch.equal(value, weights[1][name]), name


def test_fit_threads_hold_blas_and_torch_in_every_phase(monkeypatch):
    """The forecaster's statistical member (scipy's L-BFGS-B under statsmodels) and the
    linear start run after and before the training loop: they see fit_threads too, for
    torch and for numpy's BLAS, and the caller's counts come back afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from skresnet import TCNForecaster
    from skresnet._forecast_weighing import ForecastWeighing
    from skresnet.timeseries import make_windows

    seen = []
    weigh = ForecastWeighing._after_early_stopping

    def spy(self, *args, **kwargs):
        blas = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
        seen.append((torch.get_num_threads(), blas))
        return weigh(self, *args, **kwargs)

    monkeypatch.setattr(ForecastWeighing, "_after_early_stopping", spy)
    t = np.arange(200.0)
    X, y = make_windows(10 + np.sin(2 * np.pi * t / 7), lookback=14, horizon=7)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with threadpool_limits(limits=2, user_api="blas"):
            TCNForecaster(max_epochs=1, random_state=0).fit(X, y)
            outside = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen == [(1, {1})] or seen == [(1, set())]  # no BLAS loaded: nothing to hold
    assert outside <= {2}


def test_fit_threads_make_a_started_fit_independent_of_the_callers_threads():
    """With the linear start (scikit-learn's RidgeCV on scipy's LAPACK) and the
    training loop both on fit_threads, the caller's torch and BLAS thread counts do
    not change a seeded fit."""
    from sklearn.datasets import make_friedman1
    from threadpoolctl import threadpool_limits

    X, y = make_friedman1(n_samples=300, random_state=0)
    before = torch.get_num_threads()
    weights = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            with threadpool_limits(limits=threads, user_api="blas"):
                model = ResidualMLPRegressor(max_epochs=3, n_fits=1, random_state=0)
                weights.append(model.fit(X, y).module_.state_dict())
    finally:
        torch.set_num_threads(before)
    for name, value in weights[0].items():
        assert torch.equal(value, weights[1][name]), name


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_fit_threads_is_checked(bad):
    with pytest.raises(ValueError, match="fit_threads must be an int >= 1 or None"):
        skresnet.set_config(fit_threads=bad)
