"""Threads and CPUs: concurrent fits, threaded searches, emulated precision, one-thread kernels."""

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skresnet import ResidualMLPRegressor

FAST = dict(max_epochs=3, random_state=0, device="cpu")


def test_concurrent_fits_in_threads_are_reproducible(table):
    """Two fits in threads give exactly what each gives alone (per-fit generators)."""
    X, y = table
    params = [dict(random_state=1, dropout=0.3), dict(random_state=2, dropout=0.3)]
    alone = [ResidualMLPRegressor(max_epochs=5, device="cpu", **p).fit(X, y) for p in params]
    results = [None, None]

    def work(i):
        results[i] = ResidualMLPRegressor(max_epochs=5, device="cpu", **params[i]).fit(X, y)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(alone, results, strict=True):
        np.testing.assert_array_equal(a.predict(X), b.predict(X))
    state = torch.random.get_rng_state()
    ResidualMLPRegressor(**FAST).fit(X, y)
    assert torch.equal(state, torch.random.get_rng_state())


def test_threading_grid_search_equals_sequential(table):
    """GridSearchCV on joblib's threading backend reproduces the sequential search."""
    import joblib

    X, y = table
    grid = {"lr": [1e-3, 3e-3], "dropout": [0.0, 0.2]}
    est = ResidualMLPRegressor(max_epochs=4, n_fits=1, random_state=0, device="cpu")
    seq = GridSearchCV(est, grid, cv=2).fit(X, y)
    with joblib.parallel_backend("threading", n_jobs=2):
        par = GridSearchCV(clone(est), grid, cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        seq.cv_results_["mean_test_score"], par.cv_results_["mean_test_score"]
    )


def test_bf16_on_a_cpu_without_bf16_warns(table, monkeypatch):
    """Emulated mixed precision on a CPU says it is slow instead of silently being so."""
    import skresnet._training as training

    monkeypatch.setattr(training, "_cpu_has_bf16", lambda: False)
    X, y = table
    with pytest.warns(UserWarning, match="emulated"):
        ResidualMLPRegressor(precision="bf16", max_epochs=1, device="cpu").fit(X, y)


def test_tiny_2d_resnet_on_one_thread_does_not_crash():
    """The reported one-thread crash (4-channel 2-D ResNet) runs cleanly in a subprocess."""
    code = textwrap.dedent(
        """
        import numpy as np
        from skresnet import ResNetClassifier
        X = np.random.default_rng(0).normal(size=(16, 1, 8, 8))
        for _ in range(3):
            ResNetClassifier(width=4, max_epochs=1, device="cpu").fit(X, np.arange(16) % 2)
        print("ok")
        """
    )
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
