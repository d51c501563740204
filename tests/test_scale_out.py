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
        ResidualMLPRegressor(max_epochs=4, n_fits=1, random_state=0, device="cpu"),
        GRID,
        cv=2,
        n_jobs=-1,
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


# Run in a child process: Ray reads its network settings when it is imported.
# RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 makes a single-machine Ray use the
# loopback address for every service (as it does on macOS and Windows);
# without it Ray listens on all interfaces even with _node_ip_address.
_RAY_SCRIPT = """
import json, subprocess
import numpy as np, joblib, ray, torch
from ray.util.joblib import register_ray
from tests.test_scale_out import _scores

ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False,
         log_to_driver=False, configure_logging=False)
try:
    register_ray()
    got = _scores("ray")
    threads = ray.get([ray.remote(num_cpus=1)(lambda: torch.get_num_threads()).remote()
                       for _ in range(2)])
    try:  # the listening sockets, with their processes, while Ray is up
        listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        listening = None
finally:
    ray.shutdown()
print("RESULT", json.dumps({"scores": list(got), "threads": threads, "listening": listening}))
"""


def test_ray_search_equals_the_sequential_one_on_the_loopback():
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("ray")
    expected = _scores()
    env = {
        **os.environ,
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_AUTH_MODE": "disabled",  # no token files written for a throwaway local instance
        "RAY_USAGE_STATS_ENABLED": "0",  # no usage report sent anywhere
        "PYTHONPATH": str(Path(__file__).parents[1]),
    }
    done = subprocess.run(
        [sys.executable, "-c", _RAY_SCRIPT], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    np.testing.assert_allclose(result["scores"], expected, atol=1e-4)
    assert result["threads"] == [1, 1]  # one CPU per task: one torch thread
    if result["listening"] is not None:
        ray_sockets = [
            line.split()[3]
            for line in result["listening"].splitlines()
            if any(name in line for name in ('"raylet"', '"gcs_server"', '"ray::'))
        ]
        assert ray_sockets  # Ray's services were seen...
        for address in ray_sockets:  # ...and every one listens on the loopback only
            assert address.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")), address
