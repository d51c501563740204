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
    reg = ResidualMLPRegressor(max_epochs=1, device="cpu", callbacks=[("spy", Spy(fail))])
    with skresnet.config_context(cudnn_benchmark=not before[0], allow_tf32=not before[1]):
        if fail:
            with pytest.raises(ValueError, match="boom"):
                reg.fit(X, X[:, 0])
        else:
            reg.fit(X, X[:, 0])
    assert seen == [(not before[0], not before[1], not before[1])]
    assert _flags() == before
    assert skresnet.get_config() == {
        "cudnn_benchmark": None,
        "allow_tf32": None,
        "docs_url": "http://127.0.0.1:8000/",
    }


def test_default_leaves_torch_settings_alone():
    X = np.random.default_rng(0).normal(size=(40, 3))
    seen.clear()
    before = _flags()
    ResidualMLPRegressor(max_epochs=1, device="cpu", callbacks=[("spy", Spy())]).fit(X, X[:, 0])
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
