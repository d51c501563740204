"""ResidualMLPRegressor: target shapes, standardization, losses."""

import numpy as np
import pytest
from sklearn.datasets import make_friedman1

from skresnet import ResidualMLPRegressor

FAST = dict(max_epochs=30, random_state=0, device="cpu", n_fits=1)  # bagging: test_tables
FAST_NO_EPOCHS = dict(random_state=0, device="cpu", n_fits=1)


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=200, random_state=0)
    return X, y


def test_predict_keeps_the_shape_of_y(friedman):
    """1-D y gives 1-D predictions, (n, k) y gives (n, k), (n, 1) stays (n, 1)."""
    X, y = friedman
    assert ResidualMLPRegressor(**FAST).fit(X, y).predict(X).shape == (200,)
    Y = np.column_stack([y, -2 * y])
    reg = ResidualMLPRegressor(**FAST).fit(X, Y)
    assert reg.predict(X).shape == (200, 2) and reg.n_outputs_ == 2
    assert ResidualMLPRegressor(**FAST).fit(X, y[:, None]).predict(X).shape == (200, 1)


def test_target_standardization_makes_fit_scale_invariant(friedman):
    """Scaling y by 1000 and shifting it scales the predictions the same way."""
    X, y = friedman
    p = ResidualMLPRegressor(**FAST).fit(X, y).predict(X)
    p_big = ResidualMLPRegressor(**FAST).fit(X, 1000 * y + 5e4).predict(X)
    np.testing.assert_allclose(p_big, 1000 * p + 5e4, rtol=1e-4)
    reg = ResidualMLPRegressor(**FAST).fit(X, 1000 * y + 5e4)
    assert reg.y_loc_[0] == pytest.approx(np.mean(1000 * y + 5e4))


def test_without_standardization_the_network_trains_on_raw_targets(friedman):
    """standardize_target=False keeps the identity moments, so the training loss is in
    the target's own units (1000 times the target: a million times the squared error),
    and the predictions still follow the target's level through the linear start."""
    X, y = friedman
    y_big = 1000 * y
    on = ResidualMLPRegressor(**FAST).fit(X, y_big)
    off = ResidualMLPRegressor(standardize_target=False, **FAST).fit(X, y_big)
    np.testing.assert_array_equal(off.y_loc_, [0.0])
    np.testing.assert_array_equal(off.y_scale_, [1.0])
    assert on.y_scale_[0] == pytest.approx(np.std(y_big))
    # the first epoch's loss: standardized near 1 at most, raw in thousands squared
    assert on.history_[0, "train_loss"] < 10 < 1e4 < off.history_[0, "train_loss"]
    assert off.score(X, y_big) > 0.5  # the ridge start alone scores about 0.75


@pytest.mark.parametrize("loss", ["mse", "huber", "mae"])
def test_losses_train(friedman, loss):
    """Each loss trains to a useful R^2."""
    X, y = friedman
    assert ResidualMLPRegressor(loss=loss, **FAST).fit(X, y).score(X, y) > 0.7


def test_mae_loss_is_robust_to_outliers(friedman):
    """With a few huge outliers in y, MAE predicts the bulk better than MSE."""
    X, y = friedman
    y_out = y.copy()
    y_out[:10] += 500
    clean = slice(10, None)
    mse = ResidualMLPRegressor(loss="mse", **FAST).fit(X, y_out).predict(X)[clean]
    mae = ResidualMLPRegressor(loss="mae", **FAST).fit(X, y_out).predict(X)[clean]
    err = lambda p: np.mean(np.abs(p - y[clean]))  # noqa: E731
    assert err(mae) < err(mse)


def test_predict_fast_path_matches_full_validation(friedman):
    """Float rows skip validate_data, yet give the same output and the same errors."""
    X, y = friedman
    reg = ResidualMLPRegressor(max_epochs=2, random_state=0).fit(X, y)
    assert reg._plain_rows(X) and not reg._plain_rows(X.tolist())
    np.testing.assert_array_equal(reg.predict(X), reg.predict(X.tolist()))
    np.testing.assert_array_equal(reg.predict(X[:1]), reg.predict(X[:1].astype(np.float32)))
    bad = X[:2].copy()
    bad[1, 3] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        reg.predict(bad)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:, :3])


def test_verbose_shows_a_progress_bar_for_a_long_predict(capsys):
    """With verbose=2 a predict of several batches draws a 'predict' bar on stderr;
    with verbose=0 or 1 it prints nothing; the predictions are the same."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9000, 3))
    reg = ResidualMLPRegressor(max_epochs=1, width=8, random_state=0).fit(X[:200], X[:200, 0])
    capsys.readouterr()
    quiet = reg.predict(X)
    assert capsys.readouterr() == ("", "")
    reg.set_params(verbose=1).predict(X)
    assert capsys.readouterr() == ("", "")
    loud = reg.set_params(verbose=2).predict(X)
    err = capsys.readouterr().err
    assert "predict" in err and "0/9" in err  # 9000 rows: 9 batches of up to 1024
    np.testing.assert_array_equal(loud, quiet)


def test_plot_history_draws_the_losses_best_epoch_and_lr():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skresnet import plot_history

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    pipe = make_pipeline(StandardScaler(), ResidualMLPRegressor(max_epochs=8, **FAST_NO_EPOCHS))
    ax = plot_history(pipe.fit(X, X[:, 0]))
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["train loss", "valid loss"] and labels[2].startswith("best epoch")
    # after the refit (refit="auto"): the early-stopped fit's curves, which held rows out
    epochs = len(pipe[-1].early_stopping_history_)
    assert len(ax.get_lines()[0].get_xdata()) == epochs
    lr_axis = [a for a in ax.figure.axes if a is not ax]
    assert lr_axis and len(lr_axis[0].get_lines()[0].get_ydata()) == epochs
    matplotlib.pyplot.close(ax.figure)


@pytest.mark.parametrize("n", [2, 3])
def test_a_few_rows_fit_without_numpy_warnings(n):
    """On two or three rows the linear start's leave-one-out errors are 0 / 0; numpy's
    "invalid value encountered in divide" from inside scikit-learn is not the user's."""
    import warnings

    X = np.random.default_rng(0).normal(size=(n, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        reg = ResidualMLPRegressor(max_epochs=2, random_state=0).fit(X, X[:, 0])
    assert np.isfinite(reg.predict(X)).all()
