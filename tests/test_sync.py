"""No host-device sync per batch: the work the host waits for does not grow with the batches.

GPU throughput depends on the host never waiting for the device inside the
training loop. On CPU the same calls are counted: every ``Tensor.item``,
``.cpu()``, ``.tolist()``, ``.numpy()`` and tensor-to-bool conversion during
a one-epoch fit. Four times the batches must not add a single one.
"""

import numpy as np
import pytest
import torch

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster

SYNCS = ("item", "cpu", "tolist", "numpy", "__bool__")


def _count_syncs(monkeypatch, fit) -> int:
    count = 0
    for name in SYNCS:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            nonlocal count
            count += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    try:
        fit()
    finally:
        monkeypatch.undo()
    return count


CASES = {
    "mlp-classifier": (ResNetClassifier, lambda n, rng: rng.normal(size=(n, 5)), "labels"),
    "resnet1d": (ResNetClassifier, lambda n, rng: rng.normal(size=(n, 1, 24)), "labels"),
    "resnet2d": (ResNetClassifier, lambda n, rng: rng.normal(size=(n, 1, 8, 8)), "labels"),
    "mlp-regressor": (ResidualMLPRegressor, lambda n, rng: rng.normal(size=(n, 5)), "values"),
    "tcn": (TCNForecaster, lambda n, rng: rng.normal(size=(n, 16)), "values"),
    "tcn-quantiles": (TCNForecaster, lambda n, rng: rng.normal(size=(n, 16)), "values"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_syncs_do_not_grow_with_the_number_of_batches(monkeypatch, case):
    """One epoch with early stopping (the training and the validation loop)."""
    early_stopping = True
    Est, make_X, kind = CASES[case]
    extra = {"quantiles": (0.1, 0.5, 0.9)} if case == "tcn-quantiles" else {}
    # whether a fit refits, and for how many epochs, depends on the data, not on
    # the batches
    extra["refit"] = False
    if Est is TCNForecaster:
        # weighing the smoothing member predicts once after training, from 10
        # validation windows on: a step per fit, not per batch
        extra["ets"] = False

    def fit(n_batches):
        rng = np.random.default_rng(0)
        n = 8 * n_batches
        X = make_X(int(n / 0.8) if early_stopping else n, rng)
        y = np.arange(len(X)) % 2 if kind == "labels" else rng.normal(size=len(X))
        est = Est(
            max_epochs=1,
            batch_size=8,
            early_stopping=early_stopping,
            validation_fraction=0.2,
            random_state=0,
            device="cpu",
            **extra,
        )
        return lambda: est.fit(X, y)

    few = _count_syncs(monkeypatch, fit(4))
    many = _count_syncs(monkeypatch, fit(16))
    assert many == few, f"{many - few} more syncs for 12 more batches"
