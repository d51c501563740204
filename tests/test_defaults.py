"""The default training budget, the linear start and the strided stem for long series."""

import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression, RidgeCV

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster
from skresnet._budget import (
    FORECASTER_MAX_TRAIN_FLOPS,
    MAX_STEPS,
    MAX_TRAIN_FLOPS,
    TABLE_MAX_TRAIN_FLOPS,
    auto_batch_size,
    auto_max_epochs,
    forward_flops,
)
from skresnet._linear_start import LOGISTIC_CS, RIDGE_ALPHAS
from skresnet.modules import OutputAverage
from skresnet.timeseries import make_windows

# lr so small that training leaves the starting weights as they are
FROZEN = dict(lr=1e-12, max_epochs=1, early_stopping=False, device="cpu", random_state=0)


@pytest.mark.parametrize("n", [10, 100, 1000, 100_000])
@pytest.mark.parametrize("flops", [1e3, 1e6, 1e8])
def test_auto_budget_stays_within_steps_and_flops(n, flops):
    """At least one epoch; beyond one, the steps and FLOPs stay within the budget."""
    for conv in (True, False):
        batch = auto_batch_size(n, conv)
        assert 8 <= batch <= (64 if conv else 256)
        epochs = auto_max_epochs(n, batch, flops)
        assert 1 <= epochs <= 500
        if epochs > 1:
            assert epochs * math.ceil(n / batch) <= MAX_STEPS
            assert 3 * flops * n * epochs <= MAX_TRAIN_FLOPS


def test_forecaster_budget_holds_its_lower_flop_bound():
    """A TCN's training FLOPs stay within FORECASTER_MAX_TRAIN_FLOPS (below the tables'
    bound: its small convolutions run slower), however long its windows."""
    assert FORECASTER_MAX_TRAIN_FLOPS < MAX_TRAIN_FLOPS
    y = np.sin(np.arange(1000) / 5.0)
    X, Y = make_windows(y, lookback=400, horizon=100)
    kw = dict(channels=8, ets=False, conformal=False, early_stopping=False, device="cpu")
    tcn = TCNForecaster(random_state=0, **kw)
    tcn._max_train_flops = 2e9  # the bound scaled down so the test fits quickly
    tcn.fit(X, Y)
    flops = forward_flops(tcn.module_.cpu(), (400, 1))
    steps_flops = 3 * flops * len(X) * tcn.max_epochs_
    assert tcn.max_epochs_ * math.ceil(len(X) / tcn.batch_size_) < 1000  # FLOPs bind
    assert 0 < steps_flops <= 2e9 < 3 * flops * len(X) * (tcn.max_epochs_ + 1)
    # the class's own bound: the same windows get many more epochs
    epochs = auto_max_epochs(len(X), tcn.batch_size_, flops, 1000, 0, FORECASTER_MAX_TRAIN_FLOPS)
    assert epochs > tcn.max_epochs_


def test_a_tables_mlp_holds_its_lower_flop_bound():
    """A table's MLP trains within TABLE_MAX_TRAIN_FLOPS (its FLOPs run at half the
    ResNets' speed); the classifier's ResNets keep the general bound."""
    assert TABLE_MAX_TRAIN_FLOPS < MAX_TRAIN_FLOPS
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6)).astype(np.float32)
    y = X[:, 0] + X[:, 1] ** 2
    reg = ResidualMLPRegressor(random_state=0, device="cpu", refit=False, n_fits=1)
    reg._max_train_flops = 1e10  # the bound scaled down so the test fits quickly
    reg.fit(X, y)
    n_train = 2000 - math.ceil(0.2 * 2000)
    flops = forward_flops(reg._build_module(), (6,))
    assert (
        3 * flops * n_train * reg.max_epochs_ <= 1e10 < 3 * flops * n_train * (reg.max_epochs_ + 1)
    )
    assert ResidualMLPRegressor._max_train_flops == TABLE_MAX_TRAIN_FLOPS
    clf = ResNetClassifier(max_epochs=1, random_state=0, device="cpu", n_fits=1)
    assert clf.fit(X, y > 1)._max_train_flops == TABLE_MAX_TRAIN_FLOPS
    series = ResNetClassifier(max_epochs=1, random_state=0, device="cpu")
    assert series.fit(X[:40, None, :], y[:40] > 1)._max_train_flops == MAX_TRAIN_FLOPS


def test_auto_refit_stays_within_the_flop_bound(monkeypatch):
    """refit="auto" refits when the early-stopped fit and the refit together train
    within the bound of a fit (the unit n_fits="auto" counts), and not otherwise (no
    early_stopping_history_; n_fits="auto" then counts the one fit's cost); refit=True
    and a max_epochs of the user's own refit regardless."""
    from skresnet._budget import training_flops
    from skresnet._training import refit_within_budget

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = np.sin(2 * X[:, 0]) + X[:, 1] + 0.1 * rng.normal(size=200)
    params = dict(random_state=0, device="cpu")
    plain = ResidualMLPRegressor(refit=False, n_fits=1, **params).fit(X, y)
    n_train = 200 - math.ceil(0.2 * 200)
    module = plain._build_module()
    first = training_flops(module, (4,), len(plain.history_) * n_train)
    refit = training_flops(module, (4,), 10 * 200)
    monkeypatch.setattr(ResidualMLPRegressor, "_bag_max_train_flops", first + 1.01 * refit)
    monkeypatch.setattr(ResidualMLPRegressor, "_max_train_flops", first)
    plain.set_params(refit="auto")  # the decision refit="auto" makes
    assert refit_within_budget(plain, plain.net_, n_train, 200, 10)
    assert not refit_within_budget(plain, plain.net_, n_train, 200, 11)
    # a bound of a few epochs: early stopping keeps a late one, and the refit of it
    # would pass the bound
    few = training_flops(module, (4,), 6 * n_train)
    monkeypatch.setattr(ResidualMLPRegressor, "_max_train_flops", few)
    monkeypatch.setattr(ResidualMLPRegressor, "_bag_max_train_flops", few)
    beyond = ResidualMLPRegressor(**params).fit(X, y)  # n_fits="auto": one fit
    assert beyond.max_epochs_ == 6 and len(beyond.history_) == 6
    assert beyond.early_stopping_history_ is None
    assert not isinstance(beyond.module_, OutputAverage)
    # a refit that may pass the bound: validation_fraction="auto" held out a fifth
    no_refit = ResidualMLPRegressor(refit=False, n_fits=1, **params).fit(X, y)
    np.testing.assert_array_equal(beyond.predict(X), no_refit.predict(X))
    forced = ResidualMLPRegressor(refit=True, n_fits=1, **params).fit(X, y)
    assert forced.early_stopping_history_ is not None
    own = ResidualMLPRegressor(max_epochs=6, n_fits=1, **params).fit(X, y)
    assert own.early_stopping_history_ is not None


def test_auto_validation_fraction_holds_out_more_before_a_refit(monkeypatch):
    """validation_fraction="auto" holds out 0.3 where a refit on every row follows
    whatever epoch early stopping keeps, and 0.2 otherwise (refit=False, more than
    _refit_max_rows rows, warm_start, a FLOP bound a late epoch's refit would pass):
    each fit equals the one with that fraction given. The forecaster keeps a number."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X[:, 0] - np.abs(X[:, 1]) + 0.1 * rng.normal(size=120)
    params = dict(max_epochs=6, n_fits=1, random_state=0, device="cpu")

    def same(a, b):
        return np.array_equal(a.fit(X, y).predict(X), b.fit(X, y).predict(X))

    reg = ResidualMLPRegressor
    assert reg().validation_fraction == "auto" == ResNetClassifier().validation_fraction
    assert same(reg(**params), reg(validation_fraction=0.3, **params))
    assert reg(**params).fit(X, y).validation_fraction_ == 0.3
    assert reg(refit=False, **params).fit(X, y).validation_fraction_ == 0.2
    assert reg(early_stopping=False, **params).fit(X, y).validation_fraction_ is None
    assert not same(reg(**params), reg(validation_fraction=0.2, **params))
    assert same(reg(refit=False, **params), reg(refit=False, validation_fraction=0.2, **params))
    monkeypatch.setattr(ResidualMLPRegressor, "_refit_max_rows", 100)
    auto, fifth = reg(**params).fit(X, y), reg(validation_fraction=0.2, **params).fit(X, y)
    assert auto.early_stopping_history_ is None  # no refit above the bound
    np.testing.assert_array_equal(auto.predict(X), fifth.predict(X))
    assert auto._n_validation(120) == 24 and reg(refit=True)._n_validation(120) == 36
    assert auto._n_validation(50) == 15
    assert auto.set_params(warm_start=True)._n_validation(50) == 10
    monkeypatch.undo()
    # the whole epoch budget's first fit and refit: within the bound, or past it
    fitted = reg(n_fits=1, random_state=0, device="cpu").fit(X, y)
    first = reg(refit=False, validation_fraction=0.3, device="cpu").fit(X, y)
    n_train, epochs = 120 - 36, first.max_epochs_  # the first fit's epoch budget
    from skresnet._budget import training_flops

    worst = training_flops(fitted._build_module(), (3,), epochs * (n_train + 120))
    monkeypatch.setattr(ResidualMLPRegressor, "_max_train_flops", 0.5 * worst)  # not binding
    for bound, n_valid in [(worst, 36), (0.99 * worst, 24)]:
        monkeypatch.setattr(ResidualMLPRegressor, "_bag_max_train_flops", bound)
        assert fitted._n_validation(120) == n_valid
    assert fitted.set_params(max_epochs=500)._n_validation(120) == 36  # the user's own
    monkeypatch.undo()
    labels = np.where(y > 0, "up", "down")
    clf = ResNetClassifier(refit=False, **params)
    proba = clf.fit(X, labels).predict_proba(X)
    clf.set_params(validation_fraction=0.2)
    np.testing.assert_array_equal(proba, clf.fit(X, labels).predict_proba(X))
    for bad in ("half", 1.0, 0):
        with pytest.raises(ValueError, match="validation_fraction"):
            reg(validation_fraction=bad).fit(X, y)
    windows, targets = make_windows(np.sin(np.arange(80) / 3), lookback=8, horizon=2)
    with pytest.raises(ValueError, match="validation_fraction"):
        TCNForecaster(validation_fraction="auto").fit(windows, targets)
    forecaster = TCNForecaster(max_epochs=2, random_state=0, device="cpu")
    assert forecaster.fit(windows, targets).validation_fraction_ == 0.1
    with pytest.warns(UserWarning, match="none to hold out"):
        assert forecaster.fit(windows[:1], targets[:1]).validation_fraction_ is None


def test_an_mlp_validates_and_predicts_in_smaller_batches_on_the_cpu():
    """On the CPU a table's MLP validates and predicts 1024 rows at a time (4096 spill
    its activations out of the caches); convolutional networks and GPUs keep 4096."""
    from skresnet._training import predict_batch_size

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 4)).astype(np.float32), rng.integers(0, 2, 300)
    table = ResNetClassifier(max_epochs=1, n_fits=1, random_state=0, device="cpu").fit(X, y)
    series = ResNetClassifier(max_epochs=1, random_state=0, device="cpu")
    series.fit(X[:, None, :], y)
    assert table.net_.predict_batch_size == 1024
    assert series.net_.predict_batch_size == 4096
    module = table._build_module()
    assert predict_batch_size(table, module, "cuda:0") == 4096
    assert predict_batch_size(table, module, "cpu") == 1024


def test_verbose_progress_bar_on_a_terminal_counts_validation_batches(monkeypatch):
    """On a terminal, verbose training draws skorch's progress bar, sized to the
    training batches and the validation batches of the network's predict size."""
    import skresnet._training as training

    monkeypatch.setattr(training, "_on_terminal", lambda: True)
    made = []
    original = training.ProgressBar
    monkeypatch.setattr(training, "ProgressBar", lambda **kw: made.append(kw) or original(**kw))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 4)), rng.normal(size=300)
    reg = ResidualMLPRegressor(max_epochs=1, n_fits=1, refit=False, verbose=1, device="cpu")
    reg.fit(X, y)
    n_valid = math.ceil(0.2 * 300)
    steps = math.ceil((300 - n_valid) / reg.batch_size_)
    assert made[0]["batches_per_epoch"] == steps + math.ceil(n_valid / 1024)


def test_auto_budget_is_recorded_and_reproducible():
    """max_epochs_/batch_size_ come from the data, the same on every fit."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 4)), rng.normal(size=200)
    a = ResidualMLPRegressor(random_state=0, device="cpu", refit=False).fit(X, y)
    b = ResidualMLPRegressor(random_state=0, device="cpu", refit=False).fit(X, y)
    n_train = 200 - math.ceil(0.2 * 200)  # early stopping holds out a fifth
    assert a.batch_size_ == auto_batch_size(n_train, convolutional=False) == 16
    assert a.max_epochs_ == MAX_STEPS // math.ceil(n_train / 16)
    assert a.n_iter_ <= a.max_epochs_
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    fixed = ResidualMLPRegressor(max_epochs=3, batch_size=50, device="cpu", refit=False)
    fixed.fit(X, y)
    assert (fixed.max_epochs_, fixed.batch_size_, fixed.n_iter_) == (3, 50, 3)


def test_regressor_starts_as_ridge_cv():
    """With linear_start and no training, the regressor predicts RidgeCV's predictions."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 6))
    y = 3 * X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=150) + 10
    start = ResidualMLPRegressor(**FROZEN).fit(X, y)
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(X, (y - y.mean()) / y.std())
    expected = ridge.predict(X) * y.std() + y.mean()
    np.testing.assert_allclose(start.predict(X), expected, rtol=1e-4, atol=1e-4 * y.std())
    # without it the untrained network is far from ridge
    plain = ResidualMLPRegressor(linear_start=False, **FROZEN).fit(X, y)
    assert np.abs(plain.predict(X) - expected).mean() > 0.1 * y.std()


def test_a_wide_sparse_tables_start_is_ridge_at_a_held_out_penalty(monkeypatch):
    """Wider than WIDE_COLUMNS (here lowered to 20), the start is Ridge at the penalty
    whose fit on four fifths of the rows errs least on the fifth left out (RidgeCV's
    leave-one-out costs a Gram matrix's eigendecomposition there), on sparse input."""
    import scipy.sparse as sp
    from sklearn.linear_model import Ridge

    monkeypatch.setattr("skresnet._linear_start.WIDE_COLUMNS", 20)
    rng = np.random.default_rng(3)
    levels = rng.integers(0, 40, size=300)
    X = sp.csr_matrix((np.ones(300), (np.arange(300), levels)), shape=(300, 40))
    y = np.sin(levels) + 0.3 * rng.normal(size=300)
    start = ResidualMLPRegressor(**FROZEN).fit(X, y)
    target = (y - y.mean()) / y.std()
    # the held-out fifth, as the start draws it (its rows: the training rows, seed)
    held = np.zeros(300, dtype=bool)
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    held[np.random.default_rng(seed).choice(300, 60, replace=False)] = True
    errors = [
        np.sum((Ridge(alpha=a).fit(X[~held], target[~held]).predict(X[held]) - target[held]) ** 2)
        for a in RIDGE_ALPHAS
    ]
    ridge = Ridge(alpha=RIDGE_ALPHAS[int(np.argmin(errors))]).fit(X, target)
    expected = ridge.predict(X) * y.std() + y.mean()
    np.testing.assert_allclose(start.predict(X), expected, rtol=1e-4, atol=1e-3 * y.std())


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_starts_as_logistic_regression(n_classes):
    """With linear_start and no training, probabilities are LogisticRegression's."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 5))
    y = (X[:, 0] > 0).astype(int) + (n_classes == 3) * (X[:, 1] > 0.5)
    start = ResNetClassifier(**FROZEN).fit(X, y)
    # two classes: at the penalty chosen on held-out rows (below); more: C=1
    Cs = LOGISTIC_CS if n_classes == 2 else (1.0,)
    gaps = [
        np.abs(
            start.predict_proba(X)
            - LogisticRegression(C=C, max_iter=200).fit(X, y).predict_proba(X)
        ).max()
        for C in Cs
    ]
    assert min(gaps) < 1e-4


def test_binary_start_penalty_is_the_held_out_best():
    """The binary start's C is the candidate of lowest log-loss on a stratified fifth
    held out; a wide, noisy table gets a stronger penalty than C=1, and too few
    rows keep C=1."""
    from sklearn.metrics import log_loss

    from skresnet._linear_start import _held_out_c

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 60))
    y = (X[:, 0] + 2.0 * rng.normal(size=300) > 0).astype(int)
    C = _held_out_c(X, y, None, seed=3)
    assert C < 1.0
    assert _held_out_c(X, y, None, seed=3) == C  # seeded
    # recomputed by hand with the same split
    split = np.random.default_rng(3)
    held = np.zeros(len(y), dtype=bool)
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        held[split.choice(rows, len(rows) // 5, replace=False)] = True
    losses = [
        log_loss(
            y[held],
            LogisticRegression(C=c, max_iter=1000).fit(X[~held], y[~held]).predict_proba(X[held]),
        )
        for c in LOGISTIC_CS
    ]
    assert C == LOGISTIC_CS[int(np.argmin(losses))]
    assert _held_out_c(X[:40], y[:40], None, seed=3) == 1.0


@pytest.mark.parametrize("length, stride", [(100, 1), (256, 1), (257, 2), (600, 3)])
def test_long_series_pass_a_strided_stem(length, stride):
    """Series longer than 256 steps are shortened by a strided stem to at most 256."""
    X = np.random.default_rng(0).normal(size=(16, 1, length))
    clf = ResNetClassifier(max_epochs=1, batch_size=8, device="cpu").fit(X, np.arange(16) % 2)
    first = next(m for m in clf.module_.modules() if isinstance(m, torch.nn.Conv1d))
    assert first.stride == (stride,)
    if stride > 1:
        assert math.ceil(length / stride) <= 256
    assert clf.predict(X).shape == (16,)


def test_early_stopping_keeps_the_linear_start_when_no_epoch_beats_it():
    """Training that only makes the validation loss worse ends with the ridge start."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ rng.normal(size=5) + 0.5 * rng.normal(size=200)
    params = dict(max_epochs=5, random_state=0, device="cpu", refit=False)
    hurt = ResidualMLPRegressor(lr=0.1, **params).fit(X, y)
    assert hurt.history_[-1].get("start_kept") is True
    start = ResidualMLPRegressor(lr=1e-12, **params).fit(X, y)
    np.testing.assert_allclose(hurt.predict(X), start.predict(X), rtol=1e-4, atol=1e-4)
    # a fit that improves on the start keeps its best epoch instead
    helped = ResidualMLPRegressor(**params).fit(X, y)
    assert "start_kept" not in helped.history_[-1]


def test_refit_trains_the_kept_epochs_on_every_row(monkeypatch):
    """refit: after early stopping, the final network trains the kept epochs on all rows;
    a kept start is the linear model solved on all rows."""
    from skresnet._callbacks import kept_epoch

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ rng.normal(size=5) + 0.5 * rng.normal(size=200)
    params = dict(max_epochs=5, random_state=0, device="cpu")
    hurt = ResidualMLPRegressor(lr=0.1, n_fits=1, **params).fit(X, y)  # refit="auto"
    assert hurt.early_stopping_history_[-1].get("start_kept") is True
    assert hurt.n_iter_ == 0 and hurt.validation_scores_ is not None
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(X, (y - y.mean()) / y.std())
    expected = ridge.predict(X) * y.std() + y.mean()
    np.testing.assert_allclose(hurt.predict(X), expected, rtol=1e-4, atol=1e-4 * y.std())
    helped = ResidualMLPRegressor(n_fits=1, **params).fit(X, y)
    kept = kept_epoch(helped.early_stopping_history_)
    assert kept > 0 and helped.n_iter_ == kept
    assert helped.max_epochs_ == kept  # the regressor's refit anneals over the kept epochs
    clf = ResNetClassifier(n_fits=1, **params).fit(X, y > np.median(y))
    clf_kept = kept_epoch(clf.early_stopping_history_)
    # the classifier's follows the schedule of a full fit and stops after the kept epochs
    assert clf.n_iter_ == clf_kept and clf.max_epochs_ == 5
    assert len(helped.validation_scores_) == len(helped.early_stopping_history_)
    assert all("valid_loss" not in row for row in helped.history_)  # nothing held out
    # "auto" refits up to _refit_max_rows rows, and never a warm start
    monkeypatch.setattr(ResidualMLPRegressor, "_refit_max_rows", 199)
    assert ResidualMLPRegressor(**params).fit(X, y).early_stopping_history_ is None
    assert ResidualMLPRegressor(refit=True, **params).fit(X, y).n_iter_ == kept
    warm = ResidualMLPRegressor(warm_start=True, refit="auto", **params).fit(X, y)
    assert warm.early_stopping_history_ is None


@pytest.mark.parametrize("n_classes, monitor", [(2, "valid_loss"), (3, "valid_rank")])
def test_classifier_early_stopping_reads_log_loss_for_two_classes(n_classes, monitor):
    """A binary classifier keeps the epoch of least validation log-loss (what ROC AUC
    follows); more classes keep the most accurate, ties by log-loss."""
    from skresnet._callbacks import kept_epoch

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    # not linear: epochs beat the logistic start
    y = (X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(int) + (n_classes == 3) * (
        X[:, 2] > 0.7
    )
    clf = ResNetClassifier(
        max_epochs=12, n_iter_no_change=12, random_state=0, device="cpu", refit=False
    )
    clf.fit(X, y)
    stopping = dict(clf.net_.callbacks_)["early_stopping"]
    assert stopping.monitor == monitor
    values = [row[monitor] for row in clf.history_]
    kept = kept_epoch(clf.history_)
    assert kept > 0  # an epoch beat the start: the best by the monitored quantity
    assert values[kept - 1] == (min(values) if monitor == "valid_loss" else max(values))
