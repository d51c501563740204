"""A mixed-type table's target units: the encoding of many-level columns must not carry them."""

import numpy as np
import pandas as pd
import pytest

from skresnet import ResidualMLPRegressor
from skresnet._tabular import MAX_ONE_HOT

FAST = dict(max_epochs=3, n_fits=1, random_state=0, device="cpu")


def _prices(n=300, seed=0):
    """A house-price-like table: a many-level neighbourhood, a size, a kind."""
    rng = np.random.default_rng(seed)
    hood = rng.integers(0, 2 * MAX_ONE_HOT, n)
    frame = pd.DataFrame(
        {
            "hood": [f"h{i}" for i in hood],
            "size": rng.normal(150, 40, n),
            "kind": rng.choice(["flat", "house"], n),
        }
    )
    y = 20.0 * hood + frame["size"] + 30.0 * (frame["kind"] == "house") + rng.normal(0, 5, n)
    return frame, y.to_numpy()


@pytest.mark.parametrize("scale", [1.0, 1e5])
def test_target_encoding_of_a_continuous_target_is_standardized(scale):
    X, y = _prices()
    model = ResidualMLPRegressor(**FAST).fit(X, scale * y)
    encoded = model.preprocessor_.named_transformers_["target"].transform(X[["hood"]])
    assert encoded.shape == (len(X), 1)
    # means per level in price units (up to 1e7 here) would reach the network as such
    assert abs(encoded.mean()) < 0.1
    assert 0.5 < encoded.std() < 1.5


def test_regression_on_a_frame_is_equivariant_to_the_target_units():
    """Prices in cents and in thousands give the same model: the target is standardized,
    and so is what the target encoder makes of it."""
    X, y = _prices()
    base = ResidualMLPRegressor(**FAST).fit(X, y).predict(X)
    for scale, shift in [(1e5, 0.0), (1e-3, 0.0), (1.0, 1e4)]:
        moved = ResidualMLPRegressor(**FAST).fit(X, scale * y + shift).predict(X)
        np.testing.assert_allclose((moved - shift) / scale, base, rtol=0, atol=1e-3 * y.std())
