"""make_windows: values, groups, strides, future covariates, index and errors."""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skresnet.timeseries import make_windows, to_panel
from skresnet.timeseries._windows import window_before


def test_windows_hold_past_and_future_values():
    """Window i holds steps i..i+L-1 and its target the next H steps."""
    X, y = make_windows(np.arange(10.0), lookback=3, horizon=2)
    assert X.shape == (6, 3) and y.shape == (6, 2)
    np.testing.assert_array_equal(X[2], [2, 3, 4])
    np.testing.assert_array_equal(y[2], [5, 6])


def test_covariates_become_channels_after_the_target():
    """With covariates, X is (n, lookback, 1 + n_cov) and channel 0 is the target."""
    df = pd.DataFrame({"sales": np.arange(8.0), "promo": np.arange(8.0) * 10})
    X, y = make_windows(df, lookback=3, horizon=1, target="sales", covariates=["promo"])
    assert X.shape == (5, 3, 2)
    np.testing.assert_array_equal(X[1, :, 0], [1, 2, 3])
    np.testing.assert_array_equal(X[1, :, 1], [10, 20, 30])
    np.testing.assert_array_equal(y[:, 0], [3, 4, 5, 6, 7])


def test_future_covariates_are_led_by_the_horizon():
    """A future covariate's channel holds its value horizon steps ahead: the last H
    positions of each window carry the covariate over that window's forecast steps."""
    df = pd.DataFrame(
        {"sales": np.arange(12.0), "price": 10 * np.arange(12.0), "promo": 100 * np.arange(12.0)}
    )
    X, y = make_windows(
        df, lookback=4, horizon=2, target="sales", covariates=["price"], future_covariates=["promo"]
    )
    assert X.shape == (7, 4, 3)
    np.testing.assert_array_equal(X[1, :, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(X[1, :, 1], [10, 20, 30, 40])
    np.testing.assert_array_equal(X[1, :, 2], [300, 400, 500, 600])
    np.testing.assert_array_equal(y[1], [5, 6])  # promo over these steps: X[1, -2:, 2]
    values = df.to_numpy()
    for i in range(len(X)):  # the forecasting and backtesting windows follow the same rule
        np.testing.assert_array_equal(window_before(values, i + 4, 4, 2, n_future=1), X[i])
    with pytest.raises(ValueError, match="lookback=2 is shorter than horizon=3"):
        make_windows(df, lookback=2, horizon=3, target="sales", future_covariates=["promo"])


def test_windows_never_cross_groups():
    """Each group is windowed on its own: no window mixes two stores."""
    df = pd.DataFrame(
        {"store": ["a"] * 6 + ["b"] * 5, "sales": np.r_[np.arange(6.0), 100 + np.arange(5.0)]}
    )
    X, y, idx = make_windows(
        df, lookback=2, horizon=2, target="sales", groups="store", return_index=True
    )
    assert len(X) == 3 + 2
    for window, future in zip(X, y, strict=True):
        values = np.r_[window, future]
        assert (values < 100).all() or (values >= 100).all()
    assert list(idx) == [1, 7, 2, 8, 3]  # by position in each series, ties in group order
    # the windows know how many series they came from, through indexing and pickling
    assert X.n_series == 2 and X[1:3].n_series == 2
    assert make_windows(np.arange(10.0), lookback=2, horizon=2)[0].n_series == 1
    again = pickle.loads(pickle.dumps(X[:4]))
    assert again.n_series == 2 and again.channels == X.channels
    rebuild, args, (state, channels, n_future, *_) = X.__reduce__()
    old = rebuild(*args)  # as pickled by 0.3, without n_series
    old.__setstate__((state, channels, n_future))
    assert old.n_series == 1 and old.channels == X.channels and old.series is None
    # each window's series follows the rows it is indexed by, and pickles
    np.testing.assert_array_equal(X.series, [0, 1, 0, 1, 0])
    np.testing.assert_array_equal(X[[4, 1]].series, [0, 1])
    np.testing.assert_array_equal(X[1:3].series, [1, 0])
    np.testing.assert_array_equal(again.series, X.series[:4])
    assert X[0].series is None and (X * 2).series is None  # not rows, or a new array


def test_windows_of_many_series_are_stacked_in_time_order():
    """With a datetime index the rows follow the windows' last timestamps across series."""
    days = pd.date_range("2024-01-01", periods=6, freq="D")
    df = pd.DataFrame(
        {"store": ["a"] * 6 + ["b"] * 4, "sales": np.r_[np.arange(6.0), 100 + np.arange(4.0)]},
        index=days.append(days[2:]),  # store b opens two days later
    )
    X, y, idx = make_windows(
        df, lookback=2, horizon=1, target="sales", groups="store", return_index=True
    )
    assert list(idx.day) == [2, 3, 4, 4, 5, 5]
    np.testing.assert_array_equal(X[:, 0], [0, 1, 2, 100, 3, 101])
    np.testing.assert_array_equal(y[:, 0], [2, 3, 4, 102, 5, 103])
    assert (np.diff(idx.asi8) >= 0).all()


def test_stride_and_datetime_index():
    """stride skips window starts; return_index gives each window's last timestamp."""
    s = pd.Series(np.arange(12.0), index=pd.date_range("2024-01-01", periods=12, freq="D"))
    X, y, idx = make_windows(s, lookback=4, horizon=2, stride=3, return_index=True)
    np.testing.assert_array_equal(X[:, 0], [0, 3, 6])
    assert idx[0] == pd.Timestamp("2024-01-04")


def test_errors_name_the_problem():
    """Too short a series, a bad lookback and a missing column raise clear errors."""
    with pytest.raises(ValueError, match="lookback \\+ horizon = 7"):
        make_windows(np.arange(5.0), lookback=4, horizon=3)
    with pytest.raises(ValueError, match="lookback must be a positive integer, got 0"):
        make_windows(np.arange(5.0), lookback=0, horizon=1)
    with pytest.raises(ValueError, match=r"Columns \['nope'\] are not in data"):
        make_windows(pd.DataFrame({"a": np.arange(5.0)}), lookback=2, horizon=1, target="nope")
    with pytest.raises(ValueError, match="pass target="):
        make_windows(pd.DataFrame({"a": [1.0] * 5, "b": [2.0] * 5}), lookback=2, horizon=1)
    with pytest.raises(ValueError, match="groups='shop' is not a column of data"):
        make_windows(pd.DataFrame({"a": [1.0] * 5}), lookback=2, horizon=1, groups="shop")
    with pytest.raises(ValueError, match=r"groups has shape \(3,\) but data has 5 rows"):
        make_windows(np.arange(5.0), lookback=2, horizon=1, groups=[0, 0, 1])


@pytest.mark.parametrize("stride", [1, 3])
def test_targets_after_keeps_exactly_the_windows_a_fit_has_not_seen(stride):
    """Of a series that goes on past a fit on its first T steps, targets_after=T-1 keeps
    every window whose target reaches past the fit, and only those: they and the fit's
    windows are all the windows, without overlap."""
    y = np.arange(40.0) ** 1.5
    lookback, horizon, T = 6, 3, 29
    X_all, y_all = make_windows(y, lookback=lookback, horizon=horizon)
    X_fit, y_fit = make_windows(y[:T], lookback=lookback, horizon=horizon)
    X_new, y_new = make_windows(y, lookback=lookback, horizon=horizon, targets_after=T - 1)
    np.testing.assert_array_equal(np.concatenate([X_fit, X_new]), X_all)
    np.testing.assert_array_equal(np.concatenate([y_fit, y_new]), y_all)
    assert (y_new[:, -1] > y[T - 1]).all() and (y_new[:, 0] <= y[T - 1]).any()
    X_s, _ = make_windows(y, lookback=lookback, horizon=horizon, stride=stride, targets_after=T - 1)
    X_strided, y_strided = make_windows(y, lookback=lookback, horizon=horizon, stride=stride)
    kept = y_strided[:, -1] > y[T - 1]
    np.testing.assert_array_equal(X_s, X_strided[kept])


def test_targets_after_on_a_dated_panel():
    """Each series keeps its own windows whose last target date is after the label, in
    the panel's time order; a timestamp or a date string both work."""
    days = pd.date_range("2024-01-01", periods=20, freq="D")
    df = pd.DataFrame(
        {"sales": np.arange(40.0), "store": ["a"] * 20 + ["b"] * 20}, index=days.append(days)
    )
    setup = dict(lookback=4, horizon=2, target="sales", groups="store", return_index=True)
    X, y, ends = make_windows(df, **setup, targets_after=pd.Timestamp("2024-01-15"))
    X2, _, _ = make_windows(df, **setup, targets_after="2024-01-15")
    np.testing.assert_array_equal(X, X2)
    # targets end 2 days after the last input: Jan 16..20 for each store
    assert list(ends.day) == [14, 14, 15, 15, 16, 16, 17, 17, 18, 18]
    np.testing.assert_array_equal(y[::2, -1], [15, 16, 17, 18, 19])
    np.testing.assert_array_equal(y[1::2, -1], [35, 36, 37, 38, 39])
    assert X.n_series == 2


def test_targets_after_errors_name_the_parameter():
    days = pd.Series(np.arange(20.0), index=pd.date_range("2024-01-01", periods=20, freq="D"))
    with pytest.raises(TypeError, match="targets_after=7 cannot be compared"):
        make_windows(days, lookback=4, horizon=2, targets_after=7)
    with pytest.raises(TypeError, match="targets_after='x' cannot be compared"):
        make_windows(np.arange(20.0), lookback=4, horizon=2, targets_after="x")
    with pytest.raises(ValueError, match="No window's target ends after targets_after="):
        make_windows(days, lookback=4, horizon=2, targets_after="2024-03-01")


@settings(max_examples=60, deadline=None)
@given(
    n_steps=st.integers(8, 60),
    lookback=st.integers(1, 6),
    horizon=st.integers(1, 4),
    stride=st.integers(1, 3),
    cut=st.floats(0.0, 1.0),
    n_series=st.integers(1, 3),
)
def test_targets_after_splits_the_windows_at_any_fit_end(
    n_steps, lookback, horizon, stride, cut, n_series
):
    """For any panel and fit end, targets_after keeps exactly the windows whose last
    target step lies after it (a window of the fit never, a later one always)."""
    if n_steps < lookback + horizon:
        return
    days = pd.date_range("2024-01-01", periods=n_steps, freq="D")
    df = pd.DataFrame(
        {
            "v": np.arange(n_steps * n_series, dtype=float),
            "g": np.repeat(np.arange(n_series), n_steps),
        },
        index=days.repeat(1).append([days] * (n_series - 1)),
    )
    after = days[int(cut * (n_steps - 1))]
    setup = dict(lookback=lookback, horizon=horizon, stride=stride, target="v", groups="g")
    X_all, y_all, ends = make_windows(df, **setup, return_index=True)
    target_end = ends + pd.Timedelta(days=horizon)
    expected = target_end > after
    if not expected.any():
        with pytest.raises(ValueError, match="targets_after"):
            make_windows(df, **setup, targets_after=after)
        return
    X, y = make_windows(df, **setup, targets_after=after)
    np.testing.assert_array_equal(X, X_all[expected])
    np.testing.assert_array_equal(y, y_all[expected])


def test_to_panel_keeps_each_series_from_its_first_to_its_last_value():
    """A wide table pads series that start late or end early with NaN; the panel
    keeps each series' observed span (inner gaps stay, for make_windows to name)."""
    index = pd.date_range("2020-01-01", periods=30, freq="MS")
    late = np.r_[np.full(5, np.nan), np.arange(20.0), np.full(5, np.nan)]
    wide = pd.DataFrame({"old": np.arange(30.0), "new": late}, index=index)
    panel = to_panel(wide)
    new = panel[panel["series"] == "new"]
    assert len(new) == 20 and new.index[0] == index[5] and new.index[-1] == index[24]
    np.testing.assert_array_equal(new["value"], np.arange(20.0))
    X, _ = make_windows(panel, lookback=6, horizon=3, target="value", groups="series")
    assert len(X) == (30 - 8) + (20 - 8)
    gappy = wide.assign(new=np.where(np.arange(30) == 10, np.nan, late))
    with pytest.raises(ValueError, match="missing"):
        make_windows(to_panel(gappy), lookback=6, horizon=3, target="value", groups="series")
    with pytest.raises(ValueError, match="column 'empty' has no observed value"):
        to_panel(wide.assign(empty=np.nan))


def test_to_panel_refuses_a_column_that_is_not_numbers():
    """A wide export often keeps its dates, or a label, as a column: each would become
    a 'series' whose values fail later under another name. to_panel names it."""
    index = pd.date_range("2020-01-01", periods=12, freq="MS")
    wide = pd.DataFrame({"north": np.arange(12.0), "south": np.arange(12)})
    assert to_panel(wide.assign(flag=True))["value"].notna().all()  # bool is numbers
    with pytest.raises(
        ValueError, match=r"column 'month' has dtype datetime64.*set_index\('month'\)"
    ):
        to_panel(wide.assign(month=index))
    with pytest.raises(ValueError, match=r"column 'region' has dtype (object|str).*drop"):
        to_panel(wide.assign(region="north"))


def test_dates_parsed_from_strings_are_named_when_they_fail():
    """Day-first strings parse month-first (pandas infers per element): the index
    check's error now says the dates were parsed and how to parse them."""
    index = pd.date_range("2010-01-01", periods=40, freq="MS")
    values = np.arange(40.0)
    ok = pd.Series(values, index=[d.strftime("%Y-%m") for d in index])
    assert make_windows(ok, lookback=12, horizon=6)[0].shape == (23, 12)
    day_first = pd.Series(values, index=[d.strftime("%d/%m/%Y") for d in index])
    with pytest.raises(ValueError, match=r"parsed from strings.*format="):
        make_windows(day_first, lookback=12, horizon=6)
