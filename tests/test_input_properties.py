"""Property-based input validation: any drawn input gives finite predictions or a clear error."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster

ESTIMATORS = {
    "classifier": lambda: ResNetClassifier(max_epochs=1, width=8, random_state=0, device="cpu"),
    "regressor": lambda: ResidualMLPRegressor(max_epochs=1, width=8, random_state=0, device="cpu"),
    "forecaster": lambda: TCNForecaster(max_epochs=1, channels=4, random_state=0, device="cpu"),
}
# Words an error must use to say what was wrong with the input.
_NAMED = (
    "X",
    "y",
    "sample",
    "feature",
    "dimension",
    "shape",
    "NaN",
    "infinity",
    "class",
    "magnitude",
    "number",
    "window",
    "complex",
)


@st.composite
def inputs(draw):
    """Arrays of drawn shape, dtype and contents, with NaN/inf, extremes, empties, objects."""
    n = draw(st.integers(0, 12))
    shape = draw(st.sampled_from([(n,), (n, 3), (n, 1), (n, 2, 5), (n, 0)]))
    kind = draw(st.sampled_from(["float64", "float32", "int", "bool", "object", "complex"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    X = rng.normal(size=shape)
    scale = draw(st.sampled_from([1.0, 1e-30, 1e10, 1e20, 1e39, 1e300]))
    X = X * scale
    special = draw(st.sampled_from([None, np.nan, np.inf, -np.inf]))
    if special is not None and X.size:
        X.flat[draw(st.integers(0, X.size - 1))] = special
    if kind == "int":
        X = np.nan_to_num(X).clip(-1e9, 1e9).astype(np.int64)
    elif kind == "bool":
        X = X > 0
    elif kind == "object":
        X = X.astype(object)
        if X.size:
            X.flat[0] = "text"
    elif kind == "complex":
        X = X + 1j
    elif kind == "float32":
        with np.errstate(over="ignore"):
            X = X.astype(np.float32)
    y = np.arange(n) % 2
    return X, y


@pytest.mark.parametrize("name", list(ESTIMATORS))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=inputs())
def test_fit_predict_give_finite_output_or_a_named_error(name, data):
    """fit then predict on a drawn input: finite predictions, or ValueError/TypeError naming it."""
    X, y = data
    est = ESTIMATORS[name]()
    try:
        with np.errstate(all="ignore"):
            est.fit(X, y.astype(float) if name != "classifier" else y)
            pred = est.predict(X)
    except (ValueError, TypeError) as exc:
        assert any(word.lower() in str(exc).lower() for word in _NAMED), str(exc)
        return
    assert np.isfinite(np.asarray(pred, dtype=float)).all()
    assert len(pred) == len(X)
