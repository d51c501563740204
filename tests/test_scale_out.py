"""GridSearchCV on a cluster: joblib's dask backend equals the sequential search.

The cluster is local and bound to 127.0.0.1, so nothing leaves the
loopback. Skipped without the ``[distributed]`` extra.
"""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skresnet import ResidualMLPRegressor

GRID = {"width": [8, 16], "lr": [1e-3, 3e-3]}


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _scores(backend=None, **backend_params) -> np.ndarray:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = X[:, 0] - X[:, 1] ** 2 + 0.1 * rng.normal(size=120)
    search = GridSearchCV(
        ResidualMLPRegressor(max_epochs=4, random_state=0, device="cpu"), GRID, cv=2, n_jobs=-1
    )
    if backend is None:
        search.set_params(n_jobs=1)
        return search.fit(X, y).cv_results_["mean_test_score"]
    with joblib.parallel_backend(backend, **backend_params):
        return search.fit(X, y).cv_results_["mean_test_score"]


def test_dask_local_cluster_search_equals_the_sequential_one():
    distributed = pytest.importorskip("dask.distributed")
    expected = _scores()
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            processes=True,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # one core per worker: torch must not run more threads than that
        assert set(client.run(_torch_threads).values()) == {1}
        got = _scores("dask")
    np.testing.assert_allclose(got, expected, atol=1e-4)
