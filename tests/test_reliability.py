"""No silent wrong answers: transactional fit, Ctrl-C, warm start, finiteness, clear errors."""

import signal
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import BatchScoring, Callback, EpochScoring

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster
from skresnet.timeseries import CalendarFeatures, RowStandardScaler, backtest, make_windows

FAST = dict(max_epochs=3, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4)).astype(np.float32)
    return X, X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=80)


class _Boom(Callback):
    """Raises in the second epoch, as a failing callback or a full disk would."""

    def __init__(self, exc=RuntimeError):
        self.exc = exc

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise self.exc("boom")


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler, as in a terminal: a process started in the
    background (nohup, ``&`` in a script) inherits SIGINT ignored, and then a
    real SIGINT would do nothing."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


class _SigInt(Callback):
    """Sends this process a real SIGINT in the middle of the second epoch."""

    def on_batch_end(self, net, **kwargs):
        if len(net.history) == 2:
            signal.raise_signal(signal.SIGINT)


def test_class_weight_keys_are_the_users_labels():
    """class_weight={label: w} weights the class of that label, for int and str labels."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] + 0.8 * rng.normal(size=120) > 0, 2, 1)
    for labels in (y, np.where(y == 2, "yes", "no")):
        shares = []
        for heavy_class in (1, 2):
            other = 3 - heavy_class
            weights = {labels[y == heavy_class][0]: 50.0, labels[y == other][0]: 1.0}
            clf = ResNetClassifier(class_weight=weights, max_epochs=30, random_state=0)
            pred = clf.fit(X, labels).predict(X)
            shares.append(np.mean(pred == labels[y == 2][0]))
        # Half the rows are of each class; 50x weight on a class makes it the
        # prediction for most of them, on either side.
        assert shares[0] < 0.35 and shares[1] > 0.65, shares


def test_ctrl_c_propagates_out_of_fit_and_leaves_it_unfitted(table, default_sigint):
    """A real SIGINT during fit raises KeyboardInterrupt; the estimator stays unfitted."""
    X, y = table
    est = ResidualMLPRegressor(batch_size=16, callbacks=[("sigint", _SigInt())], **FAST)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    assert not hasattr(est, "net_") and not hasattr(est, "n_features_in_")


def test_ctrl_c_stops_a_grid_search(table, default_sigint):
    """KeyboardInterrupt is not scored as a failed candidate: the search stops."""
    X, y = table
    est = ResidualMLPRegressor(batch_size=16, callbacks=[("sigint", _SigInt())], **FAST)
    with pytest.raises(KeyboardInterrupt):
        GridSearchCV(est, {"lr": [1e-3, 1e-2]}, cv=2, error_score=np.nan).fit(X, y)


def test_early_stopping_still_ends_training_normally(table):
    """skorch's EarlyStopping stops by raising KeyboardInterrupt; fit still returns."""
    X, y = table
    est = ResidualMLPRegressor(
        early_stopping=True, n_iter_no_change=1, max_epochs=200, lr=0.05, device="cpu"
    )
    est.fit(X, y)
    assert est.n_iter_ < 200


def test_failed_first_fit_leaves_no_fitted_state(table):
    """An exception in the second epoch leaves the estimator exactly as unfitted as before."""
    X, y = table
    est = ResidualMLPRegressor(callbacks=[("boom", _Boom())], **FAST)
    before = dict(est.__dict__)
    with pytest.raises(RuntimeError, match="boom"):
        est.fit(X, y)
    assert est.__dict__.keys() == before.keys()
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(est)


def test_failed_warm_start_keeps_the_previous_model(table):
    """A warm-start fit that fails keeps the earlier model and its predictions."""
    X, y = table
    est = ResidualMLPRegressor(warm_start=True, **FAST).fit(X, y)
    expected, history = est.predict(X), len(est.history_)
    est.set_params(callbacks=[("boom", _Boom())])
    with pytest.raises(RuntimeError):
        est.fit(X, y)
    np.testing.assert_array_equal(est.predict(X), expected)
    assert len(est.history_) == history


def test_warm_start_uses_the_current_parameters(table):
    """After set_params, a warm fit runs max_epochs more at the new lr."""
    X, y = table
    est = ResidualMLPRegressor(
        warm_start=True, max_epochs=2, lr_schedule=None, random_state=0, device="cpu"
    )
    est.fit(X, y)
    est.set_params(max_epochs=3, lr=0.0123)
    est.fit(X, y)
    assert est.n_iter_ == 5
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.0123)


@pytest.mark.parametrize("schedule", ["cosine", "onecycle"])
def test_warm_start_restarts_the_schedule(table, schedule):
    """Each warm fit runs the schedule afresh: no crash, and the first epoch is not at lr 0."""
    X, y = table
    est = ResidualMLPRegressor(warm_start=True, lr_schedule=schedule, batch_size=16, **FAST)
    est.fit(X, y)
    est.set_params(max_epochs=6)
    est.fit(X, y)
    assert est.n_iter_ == 9
    lrs = [row["batches"][0].get("lr", None) for row in est.history_]
    assert est.net_.optimizer_.param_groups[0]["lr"] < est.lr
    # The new schedule's first epoch trains: the loss moves after the restart.
    assert np.isfinite([row["train_loss"] for row in est.history_]).all(), lrs


def test_predict_refuses_values_beyond_float32(table):
    """float64 input of 1e39 is an error at predict, not inf/NaN output."""
    X, y = table
    est = ResidualMLPRegressor(**FAST).fit(X, y)
    bad = X.astype(np.float64)
    bad[0, 0] = 1e39
    with pytest.raises(ValueError, match="infinity|too large"):
        est.predict(bad)


@pytest.mark.parametrize("scale", [1e20, 1e30])
def test_extreme_feature_scales_are_refused(table, scale):
    """Features near 1e20 give a ValueError asking for standardization, not NaN predictions."""
    X, y = table
    with pytest.raises(ValueError, match="StandardScaler"):
        ResidualMLPRegressor(**FAST).fit(X * scale, y)


def test_huge_targets_are_scaled_without_overflow(table):
    """A target near 1e160 trains and predicts finite values on its own scale."""
    X, y = table
    est = ResidualMLPRegressor(max_epochs=30, random_state=0, device="cpu").fit(X, y * 1e160)
    pred = est.predict(X)
    assert np.isfinite(pred).all()
    assert np.corrcoef(pred / 1e160, y)[0, 1] > 0.9


def test_diverging_fit_raises_and_names_lr(table):
    """lr=1e6 makes the loss non-finite: fit raises a ValueError naming lr and the epoch."""
    X, y = table
    est = ResidualMLPRegressor(lr=1e6, optimizer="sgd", max_epochs=20, random_state=0, device="cpu")
    with pytest.raises(ValueError, match=r"lr=1000000.0.*|epoch"):
        est.fit(X, y * 1e3)
    assert not hasattr(est, "net_")


def test_forecast_matches_columns_by_name():
    """Reordering a DataFrame history's columns does not change the forecast."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"load": np.sin(np.arange(200) / 4) * 10 + 100, "temp": rng.normal(size=200)})
    X, y = make_windows(df, lookback=12, horizon=3, target="load", covariates=["temp"])
    tcn = TCNForecaster(**FAST).fit(X, y)
    np.testing.assert_allclose(tcn.forecast(df[["temp", "load"]]), tcn.forecast(df))
    with pytest.raises(ValueError, match="lacks the column"):
        tcn.forecast(df.rename(columns={"temp": "t"}))


def test_forecast_requires_future_when_trained_with_future_covariates():
    """A model trained with future covariates refuses a forecast without future=."""
    df = pd.DataFrame({"y": np.arange(120.0) % 7, "promo": np.arange(120) % 2})
    X, y = make_windows(df, lookback=14, horizon=7, target="y", future_covariates=["promo"])
    tcn = TCNForecaster(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="future="):
        tcn.forecast(df)


def _daily(n=120):
    index = pd.date_range("2024-01-01", periods=n, freq="D")
    return pd.Series(np.sin(np.arange(n) / 3) + np.arange(n) / 50, index=index, name="y")


def test_time_order_gaps_and_nan_are_refused():
    """Shuffled, descending, gappy or NaN series are errors in windows, forecast and backtest."""
    series = _daily()
    X, y = make_windows(series, lookback=14, horizon=7)
    tcn = TCNForecaster(**FAST).fit(X, y)
    shuffled = series.sample(frac=1, random_state=0)
    gappy = series.drop(series.index[30:110:2])
    with_nan = series.copy()
    with_nan.iloc[50] = np.nan
    for bad, message in [
        (shuffled, "time order"),
        (series[::-1], "time order"),
        (gappy, "gaps"),
        (with_nan, "missing"),
    ]:
        with pytest.raises(ValueError, match=message):
            make_windows(bad, lookback=14, horizon=7)
        with pytest.raises(ValueError, match=message):
            backtest(TCNForecaster(**FAST), bad, lookback=14, horizon=7)
    for bad in (shuffled, series[::-1], gappy):
        with pytest.raises(ValueError):
            tcn.forecast(bad)
    with pytest.raises(ValueError, match="NaN"):
        tcn.forecast(with_nan.iloc[:51])


def test_string_dates_are_parsed_or_refused():
    """A string date index is parsed into timestamps; a string channel is a clear error."""
    series = _daily()
    as_strings = series.set_axis(series.index.strftime("%Y-%m-%d"))
    X, y = make_windows(as_strings, lookback=14, horizon=7)
    tcn = TCNForecaster(**FAST).fit(X, y)
    assert isinstance(tcn.forecast(as_strings).index, pd.DatetimeIndex)
    df = pd.DataFrame({"date": series.index.strftime("%Y-%m-%d"), "y": series.to_numpy()})
    with pytest.raises(ValueError, match="column 'date'"):
        make_windows(df, lookback=14, horizon=7, target="y", covariates=["date"])
    with pytest.raises(ValueError, match="not dates"):
        make_windows(series.set_axis([f"x{i}" for i in range(len(series))]), lookback=3, horizon=1)


def test_nan_group_ids_are_refused():
    """Rows without a series id are an error, not silently dropped."""
    df = pd.DataFrame({"g": ["a"] * 30 + [np.nan] * 30, "y": np.arange(60.0)})
    with pytest.raises(ValueError, match="missing label"):
        make_windows(df, lookback=5, horizon=2, target="y", groups="g")


def test_grouped_forecast_is_warning_free():
    """Forecasting many series at once raises no (pandas deprecation) warning."""
    df = pd.DataFrame({"g": np.repeat(["a", "b"], 60), "y": np.tile(np.arange(60.0) % 5, 2)})
    X, y = make_windows(df, lookback=10, horizon=2, target="y", groups="g")
    tcn = TCNForecaster(**FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tcn.forecast(df, groups="g")
    assert out.shape == (4,)


def test_skorch_scoring_callbacks_work_on_train_and_valid(table):
    """EpochScoring/BatchScoring get plain targets; early stopping's split reaches them."""
    X, y = table
    callbacks = [
        ("r2_train", EpochScoring("r2", on_train=True, lower_is_better=False, name="r2_train")),
        ("r2_valid", EpochScoring("r2", lower_is_better=False, use_caching=False, name="r2_valid")),
        ("mse_batch", BatchScoring("neg_mean_squared_error", on_train=True)),
    ]
    est = ResidualMLPRegressor(callbacks=callbacks, early_stopping=True, **FAST).fit(X, y)
    last = est.history_[-1]
    assert {"r2_train", "r2_valid", "valid_loss"} <= set(last)
    assert -1 <= last["r2_valid"] <= 1
    clf = ResNetClassifier(
        callbacks=[("acc", EpochScoring("accuracy", on_train=True, name="acc"))], **FAST
    ).fit(X, X[:, 0] > 0)
    assert 0.5 <= clf.history_[-1]["acc"] <= 1


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
    est = ResidualMLPRegressor(max_epochs=4, random_state=0, device="cpu")
    seq = GridSearchCV(est, grid, cv=2).fit(X, y)
    with joblib.parallel_backend("threading", n_jobs=2):
        par = GridSearchCV(clone(est), grid, cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        seq.cv_results_["mean_test_score"], par.cv_results_["mean_test_score"]
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ResNetClassifier(device="mps", max_epochs=1), "device='mps'"),
        (lambda: ResNetClassifier(device="meta", max_epochs=1), "device='meta'"),
        (lambda: ResNetClassifier(width=True, max_epochs=1), "'width'"),
        (lambda: ResNetClassifier(norm="batch", batch_size=1, max_epochs=1), "batch_size=1"),
    ],
)
def test_bad_parameters_name_themselves(make, message):
    """Invalid parameters give one sklearn-style error naming the parameter."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=message):
        make().fit(X, np.arange(20) % 2)


def test_bad_kernel_sizes_and_backtest_arguments_are_named():
    """kernel_sizes, step, horizon and season_length of 0 are named, not crashes."""
    series = np.sin(np.arange(100) / 3)
    with pytest.raises(ValueError, match="kernel_sizes"):
        ResNetClassifier(kernel_sizes=(0, 3), max_epochs=1).fit(
            np.zeros((8, 1, 16)), np.arange(8) % 2
        )
    for kwargs, name in [({"step": 0}, "step"), ({"horizon": 0}, "horizon")]:
        with pytest.raises(ValueError, match=name):
            backtest(TCNForecaster(), series, lookback=10, **{"horizon": 2, **kwargs})
    with pytest.raises(ValueError, match="season_length"):
        backtest(TCNForecaster(), series, lookback=10, horizon=2, season_length=0)
    for name in ("refit", "recalibrate"):
        with pytest.raises(TypeError, match=f"{name} must be True or False, got 'yes'"):
            backtest(TCNForecaster(), series, lookback=10, horizon=2, **{name: "yes"})


def test_smaller_input_checks():
    """Zero weights, duplicate calendar components and a negative eps are refused."""
    X, y = make_windows(np.sin(np.arange(80) / 3), lookback=8, horizon=2)
    with pytest.raises(ValueError, match="non-zero|sums to zero"):
        TCNForecaster(**FAST).fit(X, y, sample_weight=np.zeros(len(X)))
    stamps = pd.DataFrame(index=pd.date_range("2024-01-01", periods=5, freq="h"))
    with pytest.raises(ValueError, match="repeats"):
        CalendarFeatures(components=("hour", "hour")).fit(stamps)
    with pytest.raises(ValueError, match="eps"):
        RowStandardScaler(eps=-1.0).fit(np.ones((2, 3)))


def test_read_only_input_trains_without_warning(table):
    """A read-only array (e.g. a joblib memmap) trains without torch's writability warning."""
    X, y = table
    X = X.copy()
    X.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ResidualMLPRegressor(**FAST).fit(X, y)


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
