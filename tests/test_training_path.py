"""The tensor-slicing training path trains exactly the model a hand-written loop would."""

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster
from skresnet.modules import ResidualMLP, drawing_from


def _reference_loop(X, y, seed, *, epochs, batch_size, lr, weight_decay):
    """What a PyTorch user would write: seeded init, randperm batches, fused AdamW, MSE.

    Dropout masks come from a generator of their own, seeded like the batch order.
    """
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    losses = []
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        module = ResidualMLP(X.shape[1], 1)
        opt = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=weight_decay, fused=True)
        gen = torch.Generator().manual_seed(seed)
        module.train()
        with drawing_from(module, torch.Generator().manual_seed(seed)):
            for _ in range(epochs):
                perm = torch.randperm(len(Xt), generator=gen)
                for start in range(0, len(Xt), batch_size):
                    idx = perm[start : start + batch_size]
                    opt.zero_grad(set_to_none=True)
                    loss = torch.nn.functional.mse_loss(module(Xt[idx]), yt[idx])
                    loss.backward()
                    opt.step()
                    losses.append(loss.item())
    return np.array(losses)


def test_loss_trajectory_matches_a_hand_written_loop():
    """For a fixed seed, every batch loss of fit equals the reference loop's."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 5)).astype(np.float32)
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=100)
    params = dict(max_epochs=4, batch_size=32, lr=3e-3, weight_decay=1e-4)
    plain = dict(linear_start=False, early_stopping=False, lr_schedule=None)
    est = ResidualMLPRegressor(random_state=7, device="cpu", **plain, **params).fit(X, y)
    ours = np.concatenate([[b["train_loss"] for b in epoch["batches"]] for epoch in est.history_])
    seed = int(check_random_state(7).randint(np.iinfo(np.int32).max))
    y_std = ((y - y.mean()) / y.std()).astype(np.float32)[:, None]
    ref = _reference_loop(X, y_std, seed, epochs=4, batch_size=32, lr=3e-3, weight_decay=1e-4)
    assert len(ours) == len(ref) == 4 * 4
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_tracks_float32(precision):
    """Mixed precision on CPU gives a model close to the float32 one."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X[:, 0] - X[:, 1]
    common = dict(max_epochs=20, random_state=0, device="cpu", dropout=0.0, n_fits=1)
    ref = ResidualMLPRegressor(**common).fit(X, y)
    mixed = ResidualMLPRegressor(precision=precision, **common).fit(X, y)
    assert mixed.score(X, y) > 0.9
    assert np.abs(mixed.predict(X) - ref.predict(X)).mean() < 0.1 * y.std()


def test_same_model_from_numpy_pandas_and_sparse():
    """Dense, DataFrame and CSR inputs of the same numbers train the same model."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 6)) * (rng.random((64, 6)) < 0.4)
    y = X.sum(axis=1)
    common = dict(max_epochs=5, random_state=0, device="cpu", n_fits=1)
    ref = ResidualMLPRegressor(**common).fit(X, y).predict(X)
    for data in (pd.DataFrame(X), sp.csr_matrix(X), sp.csc_matrix(X)):
        pred = ResidualMLPRegressor(**common).fit(data, y).predict(data)
        np.testing.assert_allclose(pred, ref, rtol=1e-5, atol=1e-6)


def _tiny_fits():
    """One small fitted estimator per network family, with rows to predict."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 7))
    yield "mlp", ResidualMLPRegressor(max_epochs=2, random_state=0, device="cpu").fit(X, X[:, 0]), X
    S = rng.normal(size=(120, 2, 24))
    clf = ResNetClassifier(max_epochs=1, n_blocks=1, width=8, random_state=0, device="cpu")
    yield "resnet1d", clf.fit(S, S[:, 0, :4].sum(axis=(1)) > 0), S
    W = rng.normal(size=(150, 16)).cumsum(axis=1)
    tcn = TCNForecaster(max_epochs=1, channels=8, random_state=0, device="cpu")
    yield "tcn", tcn.fit(W, W[:, -1] + 0.1), W
    images = rng.normal(size=(80, 2, 6, 6))
    clf2d = ResNetClassifier(max_epochs=1, width=8, random_state=0, device="cpu")
    yield "resnet2d", clf2d.fit(images, images[:, 0, :3].sum(axis=(1, 2)) > 0), images


@pytest.mark.parametrize("threads", [1, 2])
def test_predict_of_one_row_equals_the_batched_prediction(threads):
    """predict(X)[i] equals predict(X[i:i+1]) exactly for each network family at 1 and 2 threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for name, est, X in _tiny_fits():
            method = est.predict_proba if hasattr(est, "predict_proba") else est.predict
            full = method(X)
            for size in (1, 2, 3, 5, 17):
                rows = [method(X[i : i + size]) for i in range(0, len(X) - size, 37)]
                expected = [full[i : i + size] for i in range(0, len(X) - size, 37)]
                np.testing.assert_array_equal(
                    np.concatenate(rows), np.concatenate(expected), err_msg=f"{name}, {size} rows"
                )
    finally:
        torch.set_num_threads(before)


def test_2d_resnets_run_channels_last_with_the_same_outputs():
    """A 2-D ResNet's weights are channels-last, give what NCHW gives, and pickle as they are."""
    rng = np.random.default_rng(0)
    images = rng.normal(size=(40, 3, 8, 8))
    clf = ResNetClassifier(max_epochs=1, width=8, random_state=0, device="cpu")
    clf.fit(images, images[:, 0].mean(axis=(1, 2)) > 0)
    convs = [m for m in clf.module_.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    assert clf.module_.stem[0].weight.stride()[1] == 1  # channels innermost: NHWC
    nchw = copy.deepcopy(clf.module_).to(memory_format=torch.contiguous_format).eval()
    assert nchw.stem[0].weight.is_contiguous()
    with torch.inference_mode():
        expected = torch.softmax(nchw(torch.as_tensor(images, dtype=torch.float32)), dim=1)
    np.testing.assert_allclose(clf.predict_proba(images), expected.numpy(), rtol=1e-4, atol=1e-5)
    loaded = pickle.loads(pickle.dumps(clf))
    assert loaded.module_.stem[0].weight.stride() == clf.module_.stem[0].weight.stride()
    np.testing.assert_array_equal(loaded.predict_proba(images), clf.predict_proba(images))


def test_a_batch_iterator_can_draw_part_of_the_rows_each_epoch():
    """max_batches: that many batches of a fresh permutation, distinct rows within an
    epoch, another part of the rows the next epoch."""
    from skresnet._data import BatchIterator, TensorData

    data = TensorData(torch.arange(100.0)[:, None], (1,), torch.zeros(100))
    batches = BatchIterator(
        data, 10, shuffle=True, generator=torch.Generator().manual_seed(0), max_batches=3
    )
    epochs = [torch.cat([X["x"] if isinstance(X, dict) else X for X, _ in batches]) for _ in "ab"]
    assert len(batches) == 3 and all(len(rows) == 30 for rows in epochs)
    assert all(len(torch.unique(rows)) == 30 for rows in epochs)
    assert not torch.equal(torch.sort(epochs[0].ravel())[0], torch.sort(epochs[1].ravel())[0])


def test_the_forecasters_automatic_epoch_holds_at_most_its_batch_cap():
    """With max_epochs="auto" an epoch trains at most _max_epoch_batches batches; an
    explicit max_epochs trains on every batch."""
    from skorch.callbacks import Callback

    from skresnet.timeseries import make_windows

    class CountBatches(Callback):
        def initialize(self):
            self.per_epoch = []
            return self

        def on_epoch_begin(self, net, **kwargs):
            self.per_epoch.append(0)

        def on_batch_end(self, net, training=False, **kwargs):
            self.per_epoch[-1] += bool(training)

    X, y = make_windows(np.sin(np.arange(600) / 3), lookback=24, horizon=4)
    params = dict(batch_size=16, channels=8, ets=False, linear_skip=False, refit=False)
    params.update(random_state=0, device="cpu")
    capped = TCNForecaster(callbacks=[CountBatches()], **params)
    capped._max_epoch_batches = 5
    capped.fit(X, y)
    counter = next(c for _, c in capped.net_.callbacks_ if isinstance(c, CountBatches))
    assert capped.epoch_batches_ == 5 and set(counter.per_epoch) == {5}
    full = TCNForecaster(callbacks=[CountBatches()], max_epochs=2, **params)
    full._max_epoch_batches = 5
    full.fit(X, y)
    counter = next(c for _, c in full.net_.callbacks_ if isinstance(c, CountBatches))
    # 573 windows, the last 58 held out: 515 training windows, 33 batches of 16
    assert full.epoch_batches_ is None and counter.per_epoch == [33, 33]


@pytest.mark.parametrize("n_fits", [1, 3])
def test_a_budget_that_ends_while_validation_improves_says_so_once_at_the_caller(n_fits):
    """max_epochs="auto" stopped by its budget while the validation loss still fell: one
    warning naming max_epochs, pointing at the user's fit call, however many fits the
    average holds (each extra fit hits the same budget)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    est = ResidualMLPRegressor(random_state=0, n_fits=n_fits)
    est._max_steps, est._min_epochs = 30, 1  # a budget of 30 steps
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est.fit(X, y)
    budget = [r for r in rec if "training budget ended" in str(r.message)]
    assert len(budget) == 1 and "max_epochs to more than" in str(budget[0].message)
    assert budget[0].filename == __file__
    assert len(getattr(est.module_, "networks", [est.module_])) == n_fits
