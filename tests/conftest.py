import os

import numpy as np
import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Under pytest-xdist every worker would start torch on all cores; with
    # two workers on two cores that oversubscription made the suite 4x slower.
    torch.set_num_threads(1)
    # The BLAS libraries too (numpy's, and scipy's own, loaded later by statsmodels:
    # a limit applies to those loaded, so scipy's is loaded first): the statistical
    # member's fits ran 2x slower with two BLAS threads in each of two workers (six
    # forecaster tests: 115 s against 53 s).
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same global random state."""
    np.random.seed(0)
    torch.manual_seed(0)
    yield


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def table():
    """A small linear regression table, shared by the reliability tests."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4)).astype(np.float32)
    return X, X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=80)
