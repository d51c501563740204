"""The CUDA paths: training on the GPU, mixed precision, compilation, channels-last.

Every test here is marked ``gpu`` and skipped on machines without CUDA (CI has
none); run them where a GPU is available with ``python -m pytest -m gpu``.
"""

import warnings

import numpy as np
import pytest
import torch

import skresnet
from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster
from skresnet.timeseries import make_windows

pytestmark = pytest.mark.gpu


def _regression(n=400):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 6))
    return X, X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=n)


def _device_of(est) -> str:
    return next(est.module_.parameters()).device.type


def test_each_estimator_trains_on_cuda_and_predicts_numpy():
    """device='cuda' puts the network on the GPU; predictions come back as numpy arrays."""
    X, y = _regression()
    reg = ResidualMLPRegressor(max_epochs=30, random_state=0, device="cuda").fit(X, y)
    assert _device_of(reg) == "cuda" and reg.device_ == "cuda"
    assert isinstance(reg.predict(X), np.ndarray) and reg.score(X, y) > 0.9
    series = np.random.default_rng(0).normal(size=(60, 2, 32))
    labels = series[:, 0].mean(axis=1) > 0
    clf = ResNetClassifier(max_epochs=2, width=8, random_state=0, device="cuda")
    assert clf.fit(series, labels).predict_proba(series).shape == (60, 2)
    Xw, yw = make_windows(np.sin(np.arange(300) / 5), lookback=24, horizon=4)
    tcn = TCNForecaster(max_epochs=5, channels=8, random_state=0, device="cuda").fit(Xw, yw)
    assert _device_of(tcn) == "cuda" and tcn.predict(Xw).shape == (len(Xw), 4)


def test_cuda_model_predicts_like_its_cpu_copy():
    """The network trained on the GPU gives the same outputs on the CPU (float32 rounding)."""
    X, y = _regression()
    reg = ResidualMLPRegressor(max_epochs=5, random_state=0, device="cuda").fit(X, y)
    on_gpu = reg.predict(X)
    reg.net_.device = reg.device_ = "cpu"
    reg.module_.to("cpu")
    np.testing.assert_allclose(reg.predict(X), on_gpu, rtol=1e-4, atol=1e-4)


def test_same_seed_same_model_on_cuda():
    """Two fits with one random_state on the GPU give predictions equal to float32 rounding."""
    X, y = _regression()
    params = dict(max_epochs=5, random_state=3, device="cuda")
    first = ResidualMLPRegressor(**params).fit(X, y).predict(X)
    second = ResidualMLPRegressor(**params).fit(X, y).predict(X)
    np.testing.assert_allclose(first, second, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_on_cuda_tracks_float32(precision):
    """Autocast on the GPU (with the gradient scaler for fp16) trains a model close to float32."""
    X, y = _regression()
    common = dict(max_epochs=30, random_state=0, device="cuda", dropout=0.0)
    ref = ResidualMLPRegressor(**common).fit(X, y)
    mixed = ResidualMLPRegressor(precision=precision, **common).fit(X, y)
    assert mixed.net_.grad_scaler_.is_enabled() == (precision == "fp16")
    assert mixed.score(X, y) > 0.9
    assert np.abs(mixed.predict(X) - ref.predict(X)).mean() < 0.1 * y.std()


def test_compile_on_cuda_predicts_like_eager():
    """compile=True on the GPU trains and predicts like the eager network."""
    X, y = _regression()
    params = dict(max_epochs=3, random_state=0, device="cuda", dropout=0.0, width=32)
    eager = ResidualMLPRegressor(**params).fit(X, y).predict(X)
    compiled = ResidualMLPRegressor(compile=True, **params).fit(X, y).predict(X)
    np.testing.assert_allclose(compiled, eager, rtol=1e-3, atol=1e-3)


def test_2d_resnet_on_cuda_is_channels_last():
    """A 2-D ResNet on the GPU keeps channels-last weights and trains to finite outputs."""
    images = np.random.default_rng(0).normal(size=(64, 3, 8, 8))
    clf = ResNetClassifier(max_epochs=2, width=8, random_state=0, device="cuda")
    clf.fit(images, images[:, 0].mean(axis=(1, 2)) > 0)
    convs = [m for m in clf.module_.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    assert np.isfinite(clf.predict_proba(images)).all()


@pytest.mark.parametrize("Est", [ResidualMLPRegressor, ResNetClassifier, TCNForecaster])
def test_no_cuda_sync_per_batch(Est):
    """torch's sync debug mode warns on every host-device sync: 4x the batches add none."""

    def syncs(n_batches: int) -> int:
        X, y = _regression(8 * n_batches)
        if Est is ResNetClassifier:
            y = y > 0
        est = Est(max_epochs=1, batch_size=8, early_stopping=False, random_state=0, device="cuda")
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with pytest.warns(UserWarning) as record:
                est.fit(X, y)
                torch.cuda.synchronize()
        finally:
            torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in record)

    assert syncs(16) == syncs(4)


def test_quantile_forecaster_on_cuda_matches_its_cpu_copy():
    """Quantile forecasts from a CUDA-trained model, never crossing, equal to its CPU copy's."""
    Xw, yw = make_windows(np.sin(np.arange(400) / 5), lookback=24, horizon=4)
    tcn = TCNForecaster(quantiles=(0.1, 0.5, 0.9), max_epochs=5, random_state=0, device="cuda")
    tcn.fit(Xw, yw)
    q = tcn.predict_quantiles(Xw)
    assert q.shape == (len(Xw), 4, 3) and (np.diff(q, axis=-1) >= 0).all()
    # recalibration scores the new windows with the network on the GPU
    n_cal = len(tcn.calibration_scores_)
    tcn.update_calibration(Xw[-10:], yw[-10:])
    assert tcn.calibration_scores_.shape == (n_cal, 4, 1)
    q = tcn.predict_quantiles(Xw)
    tcn.net_.device = tcn.device_ = "cpu"
    tcn.module_.to("cpu")
    np.testing.assert_allclose(tcn.predict_quantiles(Xw), q, atol=1e-4)


def test_refitted_linear_start_on_cuda_keeps_the_held_out_calibration():
    """A quantile model whose early stopping kept the linear start refits it on every
    window on the GPU too, with the calibration of the held-out start."""
    from skresnet.datasets import make_seasonal_series

    series = make_seasonal_series(300, period=12, random_state=0)  # as in test_forecaster
    Xw, yw = make_windows(series, lookback=24, horizon=6)
    params = dict(channels=8, max_epochs=3, quantiles=(0.1, 0.5, 0.9), random_state=0)
    tcn = TCNForecaster(**params, device="cuda").fit(Xw, yw)
    held_out = TCNForecaster(**params, refit=False, device="cuda").fit(Xw, yw)
    if tcn.early_stopping_history_ is None:
        pytest.skip("an epoch beat the linear start on this device: nothing was refitted")
    np.testing.assert_allclose(tcn.calibration_scores_, held_out.calibration_scores_, atol=1e-5)
    assert _device_of(tcn) == "cuda" and tcn.n_iter_ == 0


def test_a_panel_on_cuda_is_equivariant_to_each_series_scale():
    """On the GPU too, multiplying one series by 1000 multiplies its forecasts by 1000 and
    leaves the other's (the per-series loss units travel with the batches)."""
    import pandas as pd

    t = np.arange(200)
    a = 50 * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + np.random.default_rng(1).normal(0, 2, 200)
    b = 5000 * (1 + 0.3 * np.sin(2 * np.pi * t / 12 + 1))
    out = []
    for c in (1.0, 1000.0):
        frame = pd.DataFrame({"g": np.repeat(["a", "b"], 200), "v": np.r_[a, b * c]})
        X, y = make_windows(frame, lookback=24, horizon=6, target="v", groups="g")
        model = TCNForecaster(max_epochs=3, random_state=0, device="cuda").fit(X, y)
        assert _device_of(model) == "cuda"
        out.append((model.predict(X), X.series == 1))
    (p, is_b), (ps, _) = out
    np.testing.assert_allclose(ps[~is_b], p[~is_b], rtol=1e-3)
    np.testing.assert_allclose(ps[is_b] / 1000, p[is_b], rtol=1e-3)


def test_a_mixed_frame_with_embedded_ids_and_members_on_cuda():
    """Level codes, their embeddings and a member ensemble run on the GPU (the codes
    index a table on the device) and predict like the CPU copy after the refit."""
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"user": [f"u{u}" for u in rng.integers(0, 40, n)], "x": rng.normal(size=n)})
    y = X["x"].to_numpy() + (X["user"] < "u2").to_numpy()
    reg = ResidualMLPRegressor(max_epochs=5, n_members=3, n_fits=1, random_state=0, device="cuda")
    reg.fit(X, y)
    assert reg.module_.category_embedding.table.device.type == "cuda"
    assert reg.early_stopping_history_ is not None  # refit="auto" ran on the GPU
    on_gpu = reg.predict(X)
    reg.net_.device = reg.device_ = "cpu"
    reg.module_.to("cpu")
    np.testing.assert_allclose(reg.predict(X), on_gpu, rtol=1e-4, atol=1e-4)


def test_mixed_small_frame_on_cuda_rebuilds_each_network_on_the_cpu():
    """Below 1,000 rows every other averaged fit embeds the numbers ("mixed"): on the
    GPU both kinds of network train on CUDA, and the pickle loads on the CPU with each
    network's own embedding and the same predictions."""
    import pickle

    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400), "k": rng.choice(["p", "q"], 400)})
    y = np.sin(3 * X["a"].to_numpy()) + (X["k"] == "p").to_numpy()
    reg = ResidualMLPRegressor(max_epochs=5, n_fits=2, random_state=0, device="cuda")
    reg.fit(X, y)
    assert reg.numeric_embedding_ == "mixed"
    assert [net.n_embedded for net in reg.module_.networks] == [0, 1]
    assert reg.module_.networks[1].embedding.frequencies.device.type == "cuda"
    on_gpu = reg.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "trained on cuda, loaded on the CPU" where none is
        restored = pickle.loads(pickle.dumps(reg))
    restored.net_.device = restored.device_ = "cpu"
    restored.module_.to("cpu")
    assert [net.n_embedded for net in restored.module_.networks] == [0, 1]
    np.testing.assert_allclose(restored.predict(X), on_gpu, rtol=1e-4, atol=1e-4)


def test_averaged_refit_classifier_on_cuda_pickles_device_free():
    """A small-table classifier on the GPU averages its fits' networks (two per refit fit,
    flat), all on CUDA; its pickle holds no CUDA tensor and loads on the CPU with the
    same probabilities."""
    import pickle

    from skresnet.modules import ProbabilityAverage

    X, y = _regression(300)
    labels = np.where(X[:, 0] * X[:, 1] > 0, "a", "b")
    clf = ResNetClassifier(max_epochs=30, random_state=0, device="cuda").fit(X, labels)
    assert isinstance(clf.module_, ProbabilityAverage) and len(clf.module_.networks) > 2
    assert {p.device.type for p in clf.module_.parameters()} == {"cuda"}
    blob = pickle.dumps(clf)
    assert b"torch.cuda" not in blob and b"cuda:" not in blob
    with pytest.warns(UserWarning, match="not available"):
        on_cpu = _unpickled_on_cpu(blob)
    np.testing.assert_allclose(on_cpu.predict_proba(X), clf.predict_proba(X), atol=1e-4)


def test_bagged_regressor_on_cuda_pickles_device_free():
    """A small-table regressor on the GPU averages five fits, all on CUDA; its pickle
    holds no CUDA tensor and loads on the CPU with the same predictions."""
    import pickle

    from skresnet.modules import OutputAverage

    X, y = _regression(300)
    reg = ResidualMLPRegressor(max_epochs=10, random_state=0, device="cuda").fit(X, y)
    assert isinstance(reg.module_, OutputAverage) and len(reg.module_.networks) == 5
    assert {p.device.type for p in reg.module_.parameters()} == {"cuda"}
    blob = pickle.dumps(reg)
    assert b"torch.cuda" not in blob and b"cuda:" not in blob
    with pytest.warns(UserWarning, match="not available"):
        on_cpu = _unpickled_on_cpu(blob)
    np.testing.assert_allclose(on_cpu.predict(X), reg.predict(X), rtol=1e-4, atol=1e-4)


def _unpickled_on_cpu(blob: bytes):
    """``blob`` unpickled as on a machine without CUDA."""
    import pickle
    from unittest import mock

    with mock.patch("skresnet._persistence.device_available", return_value=False):
        return pickle.loads(blob)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_dropout_masks_from_a_cuda_generator(dtype):
    """The masks a fit draws on the GPU (from a CUDA generator, 16 bits of a full 64-bit
    draw per element): rate 1 - p (a draw covering less than the full 64-bit range
    would shift it), kept elements scaled by 1 / q, the input's dtype and device, and
    the same masks from the same seed."""
    from skresnet.modules._layers import Dropout, drawing_from

    layer = Dropout(0.2).train()
    x = torch.ones(1999, 501, device="cuda", dtype=dtype)
    with drawing_from(layer, torch.Generator(device="cuda").manual_seed(0)):
        out = layer(x)
    assert out.device.type == "cuda" and out.dtype == dtype
    kept = out != 0
    assert abs(kept.float().mean().item() - 0.8) < 3e-3
    scale = out[kept].float().unique()
    assert len(scale) == 1 and abs(scale.item() - 65536 / round(0.8 * 65536)) < 1e-2
    with drawing_from(layer, torch.Generator(device="cuda").manual_seed(0)):
        assert torch.equal(layer(x), out)


@pytest.mark.parametrize("c", [1e-25, 1e25])
def test_a_window_in_tiny_or_huge_units_on_cuda_scales_like_on_the_cpu(c):
    """CUDA's float32 standard deviation accumulates in float32, where squares of values
    near 1e-25 underflow and of values near 1e25 overflow; the window's statistics are
    taken in units of a power of two near its largest value, so a window times ``c`` is
    forecast ``c`` times higher on the GPU as on the CPU."""
    Xw, yw = make_windows(2 + np.sin(np.arange(300) / 5), lookback=24, horizon=4)
    tcn = TCNForecaster(max_epochs=3, channels=8, random_state=0, device="cuda", ets=False)
    tcn.fit(Xw, yw)
    window = np.asarray(Xw[-8:])
    np.testing.assert_allclose(tcn.predict(window * c) / c, tcn.predict(window), rtol=1e-4)


def test_a_table_mlp_on_cuda_predicts_in_gpu_sized_batches():
    """The MLP's 1024-row validation and prediction batches are for CPU caches; on a GPU
    it keeps 4096 rows, and a prediction over several batches matches the CPU copy's."""
    X, y = _regression(n=9000)
    reg = ResidualMLPRegressor(max_epochs=2, n_fits=1, random_state=0, device="cuda").fit(X, y)
    assert reg.net_.predict_batch_size == 4096
    on_gpu = reg.predict(X)
    reg.net_.device = reg.device_ = "cpu"
    reg.module_.to("cpu")
    np.testing.assert_allclose(reg.predict(X), on_gpu, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("precision", ["float32", "bf16"])
def test_tcn_rows_on_cuda_match_its_cpu_copy(precision):
    """The TCN's channels-last rows path on the GPU: forward_last and its weight gradients
    match the same network on the CPU (float32 rounding; bf16 autocast's forward within
    2%), and a forecaster trained on the GPU predicts like its CPU copy."""
    import copy

    from skresnet.modules import TCN

    torch.manual_seed(0)
    tcn = TCN(2, channels=16, n_levels=5).train()
    x = torch.randn(64, 2, 90)
    on_cpu = tcn.forward_last(x)
    grad_cpu = torch.autograd.grad(on_cpu.square().sum(), tcn.blocks[0].conv1.weight)[0]
    gpu = copy.deepcopy(tcn).cuda()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    with (
        torch.backends.cudnn.flags(enabled=True, allow_tf32=False),  # float32 convolutions
        torch.autocast("cuda", dtype=dtype, enabled=precision == "bf16"),
    ):
        out = gpu.forward_last(x.cuda())
        grad_gpu = torch.autograd.grad(out.float().square().sum(), gpu.blocks[0].conv1.weight)[0]
    if precision == "bf16":  # bf16 keeps 8 bits of mantissa: the forward only, to 2%
        torch.testing.assert_close(out.float().cpu(), on_cpu.detach(), rtol=2e-2, atol=2e-2)
    else:
        torch.testing.assert_close(out.cpu(), on_cpu.detach(), rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(grad_gpu.cpu(), grad_cpu, rtol=1e-3, atol=1e-3)
    Xw, yw = make_windows(np.sin(np.arange(400) / 5), lookback=48, horizon=6)
    with skresnet.config_context(allow_tf32=False):
        est = TCNForecaster(max_epochs=3, random_state=0, device="cuda", ets=False).fit(Xw, yw)
        on_gpu = est.predict(Xw)
    est.net_.device = est.device_ = "cpu"
    est.module_.to("cpu")
    np.testing.assert_allclose(est.predict(Xw), on_gpu, rtol=1e-4, atol=1e-4)
