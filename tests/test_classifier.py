"""ResNetClassifier: labels, architectures chosen by shape, weights, training options."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import load_digits, make_blobs

from skresnet import ResNetClassifier
from skresnet._callbacks import kept_epoch

FAST = dict(max_epochs=15, random_state=0, device="cpu", n_fits=1)  # bagging: test_tables


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, n_features=5, random_state=0)
    return X.astype(np.float32), y


@pytest.mark.parametrize(
    "labels",
    [np.array(["cat", "dog", "eel"]), np.array([10, 20, 30]), np.array([True, False, True])],
    ids=["str", "int", "bool"],
)
def test_predict_returns_original_labels(blobs, labels):
    """predict returns labels of the type given in fit; classes_ holds them sorted."""
    X, y = blobs
    y_lab = labels[y]
    clf = ResNetClassifier(**FAST).fit(X, y_lab)
    assert list(clf.classes_) == sorted(set(y_lab.tolist()))
    pred = clf.predict(X)
    assert pred.dtype == y_lab.dtype
    assert set(pred) <= set(y_lab)


def test_predict_proba_rows_sum_to_one_and_match_predict(blobs):
    """predict_proba has one column per class, rows sum to 1, argmax gives predict."""
    X, y = blobs
    clf = ResNetClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert np.array_equal(clf.classes_[proba.argmax(1)], clf.predict(X))
    assert clf.score(X, y) > 0.9


def test_architecture_follows_input_shape():
    """2-D, 3-D and 4-D X build the residual MLP, the 1-D and the 2-D ResNet."""
    rng = np.random.default_rng(0)
    y = np.arange(16) % 2
    for X, arch in [
        (rng.normal(size=(16, 6)), "mlp"),
        (rng.normal(size=(16, 2, 12)), "resnet1d"),
        (rng.normal(size=(16, 1, 8, 8)), "resnet2d"),
    ]:
        clf = ResNetClassifier(max_epochs=1, width=4, device="cpu").fit(X, y)
        assert clf.architecture_ == arch
        assert clf.predict_proba(X).shape == (16, 2)


def test_input_shape_reshapes_flat_rows_of_digits():
    """input_shape=(1, 8, 8) turns load_digits rows into images for the 2-D ResNet."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    clf = ResNetClassifier(
        input_shape=(1, 8, 8), n_blocks=1, max_epochs=8, batch_size=32, random_state=0
    )
    clf.fit(X, y)
    assert clf.architecture_ == "resnet2d" and clf.sample_shape_ == (1, 8, 8)
    assert clf.score(X, y) > 0.8


def test_resnet1d_on_flat_rows_is_one_channel_series():
    """architecture='resnet1d' on flat rows treats each row as a 1-channel series."""
    X = np.random.default_rng(0).normal(size=(20, 30))
    clf = ResNetClassifier(architecture="resnet1d", width=4, max_epochs=1).fit(X, np.arange(20) % 2)
    assert clf.sample_shape_ == (1, 30)


def test_input_shape_that_does_not_fit_is_rejected():
    """An input_shape whose product differs from n_features names both."""
    X = np.zeros((4, 10))
    with pytest.raises(
        ValueError, match=r"input_shape=\(2, 4\) cannot reshape X of shape \(4, 10\)"
    ):
        ResNetClassifier(input_shape=(2, 4)).fit(X, [0, 1, 0, 1])


def test_class_weight_acts_as_sample_weight(blobs):
    """class_weight={c: w} gives the same model as sample_weight=w on class c."""
    X, y = blobs
    a = ResNetClassifier(class_weight={0: 3.0, 1: 1.0, 2: 0.5}, **FAST).fit(X, y)
    w = np.select([y == 0, y == 1], [3.0, 1.0], 0.5)
    b = ResNetClassifier(**FAST).fit(X, y, sample_weight=w)
    c = ResNetClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_balanced_class_weight_raises_minority_recall():
    """class_weight='balanced' predicts the rare class more often than no weighting."""
    X, y = make_blobs(n_samples=[190, 10], centers=[[0, 0], [1.0, 1.0]], random_state=0)
    plain = ResNetClassifier(**FAST).fit(X, y)
    balanced = ResNetClassifier(class_weight="balanced", **FAST).fit(X, y)
    assert (balanced.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()


def test_same_seed_same_predictions_other_seed_differs(blobs):
    """The same random_state reproduces predictions exactly on CPU; another does not."""
    X, y = blobs
    # Separable blobs: early stopping keeps the linear start, which a refit would
    # solve again on every row whatever the seed (a seed-free answer).
    fast = {**FAST, "refit": False}
    p1 = ResNetClassifier(**fast).fit(X, y).predict_proba(X)
    p2 = ResNetClassifier(**fast).fit(X, y).predict_proba(X)
    p3 = ResNetClassifier(**{**fast, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)


def test_numpy_pandas_and_sparse_inputs_give_the_same_model(blobs):
    """Results do not depend on whether X came as numpy, pandas, list or sparse."""
    X, y = blobs
    ref = ResNetClassifier(**FAST).fit(X, y).predict_proba(X)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    for data in (frame, X.tolist(), sp.csr_matrix(X), X.astype(np.float64)):
        clf = ResNetClassifier(**FAST).fit(data, y)
        np.testing.assert_allclose(clf.predict_proba(data), ref, rtol=1e-5, atol=1e-6)
    assert list(ResNetClassifier(**FAST).fit(frame, y).feature_names_in_) == list(frame.columns)


def test_skip_connections_false_builds_plain_network(blobs):
    """skip_connections=False trains the same network without shortcuts."""
    X, y = blobs
    clf = ResNetClassifier(skip_connections=False, **FAST).fit(X, y)
    assert not any(b.skip_connection for b in clf.module_.blocks)
    assert clf.score(X, y) > 0.8


def test_early_stopping_holds_out_validation_and_stops(blobs):
    """early_stopping uses a validation split, records valid_loss and stops early."""
    X, y = blobs
    clf = ResNetClassifier(
        early_stopping=True,
        n_iter_no_change=3,
        max_epochs=300,
        lr=1e-2,
        random_state=0,
        refit=False,
    ).fit(X, y)
    assert "valid_loss" in clf.history_[-1]
    assert clf.n_iter_ < 300
    no_split = ResNetClassifier(early_stopping=False, **FAST).fit(X, y)
    assert "valid_loss" not in no_split.history_[-1]
    assert no_split.early_stopping_history_ is None  # nothing to refit
    # "auto" holds out rows for tables, not for series or images
    auto = ResNetClassifier(**FAST).fit(X, y)
    assert "valid_loss" in auto.early_stopping_history_[-1]
    # the refit (refit="auto") trained the kept epochs on every row, nothing held out
    assert "valid_loss" not in auto.history_[-1] if auto.history_ else True
    assert auto.n_iter_ == kept_epoch(auto.early_stopping_history_)
    series = ResNetClassifier(**FAST).fit(X[:, None, :], y)
    assert "valid_loss" not in series.history_[-1]
    assert series.validation_scores_ is None


def test_warm_start_continues_training(blobs):
    """warm_start=True continues from the trained weights and adds epochs to the history."""
    X, y = blobs
    clf = ResNetClassifier(warm_start=True, **FAST).fit(X, y)
    before, epochs = clf.predict_proba(X), clf.n_iter_
    clf.set_params(lr=1e-12, max_epochs=1).fit(X, y)  # a step too small to move the weights
    np.testing.assert_allclose(clf.predict_proba(X), before, atol=1e-5)
    assert len(clf.history_) == clf.n_iter_ == epochs + 1


@pytest.mark.parametrize("schedule", ["cosine", "onecycle"])
def test_lr_schedules_change_the_learning_rate(blobs, schedule):
    """lr_schedule lowers the learning rate below lr by the end of training."""
    X, y = blobs
    clf = ResNetClassifier(lr_schedule=schedule, batch_size=32, refit=False, **FAST).fit(X, y)
    final_lr = clf.net_.optimizer_.param_groups[0]["lr"]
    assert final_lr < 0.5 * clf.lr


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_other_optimizers_train(blobs, optimizer):
    """optimizer='adam' and 'sgd' train to a useful model."""
    X, y = blobs
    clf = ResNetClassifier(optimizer=optimizer, lr=1e-2, **FAST).fit(X, y)
    assert clf.score(X, y) > 0.8


def test_bf16_precision_runs_on_cpu(blobs):
    """precision='bf16' trains with autocast on CPU and gives finite probabilities."""
    X, y = blobs
    clf = ResNetClassifier(precision="bf16", **FAST).fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()
    assert clf.score(X, y) > 0.8


def test_verbose_prints_epochs_and_silent_by_default(blobs, capsys):
    """verbose=1 prints one line per epoch and why training stopped; verbose=0 nothing."""
    X, y = blobs
    ResNetClassifier(**FAST).fit(X, y).predict(X)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    ResNetClassifier(verbose=1, **{**FAST, "max_epochs": 3}).fit(X, y)
    out, err = capsys.readouterr()
    # captured output is not a terminal: one plain line per epoch, no bar, no colours
    lines = out.splitlines()
    assert len(lines) == 4 and all(
        ln.startswith(f"epoch {i + 1}/3 ") for i, ln in enumerate(lines[:3])
    )
    assert "train_loss" in lines[0] and "valid_loss" in lines[0] and "valid_score" in lines[0]
    assert lines[3].startswith("stopped: the budget of max_epochs=3 epochs ended")
    assert "kept epoch" in lines[3] or "kept the start" in lines[3]
    assert "\x1b[" not in out + err and err == ""


def test_user_callbacks_run_and_the_parameter_is_not_changed(blobs):
    """Extra skorch callbacks see every epoch; the list passed in is left as it was."""
    from skorch.callbacks import Callback

    class CountEpochs(Callback):
        def initialize(self):
            self.count_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.count_ += 1

    X, y = blobs
    callback = CountEpochs()
    clf = ResNetClassifier(callbacks=[("count", callback)], **FAST).fit(X, y)
    assert dict(clf.net_.callbacks_)["count"].count_ == clf.n_iter_
    assert not hasattr(callback, "count_")


def test_fp16_precision_runs_on_cpu_with_grad_scaler(blobs):
    """precision='fp16' trains on CPU through the gradient scaler to a useful model."""
    X, y = blobs
    clf = ResNetClassifier(precision="fp16", **FAST).fit(X, y)
    assert clf.net_.grad_scaler_.is_enabled()
    assert clf.score(X, y) > 0.8


def test_compile_trains_like_eager(blobs):
    """compile=True really compiles (torch.compile) and predicts like the eager network."""
    if not torch._dynamo.is_dynamo_supported():
        pytest.skip("torch.compile is not supported by this Python/torch build")
    X, y = blobs
    # no dropout: compiled kernels draw dropout masks from their own generator
    params = {**FAST, "max_epochs": 2, "width": 16, "dropout": 0.0}
    eager = ResNetClassifier(**params).fit(X, y)
    compiled = ResNetClassifier(compile=True, **params).fit(X, y)
    optimized = torch._dynamo.eval_frame.OptimizedModule
    assert isinstance(compiled.net_.module_, optimized)
    assert not isinstance(eager.net_.module_, optimized)
    np.testing.assert_allclose(compiled.predict_proba(X), eager.predict_proba(X), atol=1e-4)


def test_resnet1d_knobs_reach_the_network():
    """n_blocks, width and kernel_sizes shape the 1-D ResNet that is built."""
    X = np.random.default_rng(0).normal(size=(12, 1, 20))
    clf = ResNetClassifier(n_blocks=2, width=4, kernel_sizes=(7, 3), max_epochs=1, device="cpu")
    clf.fit(X, np.arange(12) % 2)
    convs = [m for m in clf.module_.modules() if isinstance(m, torch.nn.Conv1d)]
    assert len(clf.module_.blocks) == 2
    assert [c.kernel_size[0] for c in convs if c.kernel_size[0] > 1] == [7, 3, 7, 3]
    assert clf.module_.blocks[1].residual[1].out_channels == 8


def test_a_row_per_class_and_one_more_fit_with_early_stopping():
    """Three rows of two classes: each class keeps a training row and the third row
    is the validation set (it failed inside train_test_split, "test_size=1 should
    be ... smaller than the number of samples 1"). Two rows of two classes leave
    none to validate: a clear error that names early_stopping."""
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9]])
    y = np.array(["a", "b", "a"])
    clf = ResNetClassifier(max_epochs=2, random_state=0, device="cpu").fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ and set(clf.predict(X)) <= {"a", "b"}
    with pytest.raises(ValueError, match="early_stopping=False"):
        ResNetClassifier(max_epochs=2, random_state=0).fit(X[:2], y[:2])
    from skresnet import ResidualMLPRegressor

    with pytest.raises(ValueError, match=r"validation_fraction='auto' \(holding out 1\)"):
        ResidualMLPRegressor(max_epochs=2).fit(X[:1], [1.0])
