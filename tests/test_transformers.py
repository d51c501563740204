"""Time-series transformers: calendar features and per-series standardization."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skresnet import ResNetClassifier
from skresnet.timeseries import CalendarFeatures, RowStandardScaler


@parametrize_with_checks([RowStandardScaler()])
def test_row_scaler_passes_sklearn_checks(estimator, check):
    """RowStandardScaler is a well-behaved scikit-learn transformer."""
    check(estimator)


def test_rows_get_zero_mean_unit_std():
    """Each row is standardized on its own; a constant row becomes zeros."""
    X = np.array([[1.0, 2.0, 6.0], [100.0, 100.0, 100.0]])
    Z = RowStandardScaler().fit_transform(X)
    np.testing.assert_allclose(Z[0].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(Z[0].std(), 1, rtol=1e-6)
    np.testing.assert_array_equal(Z[1], 0)


def test_row_scaler_before_a_series_classifier_ignores_level():
    """In a Pipeline with input_shape, classes that differ in shape, not level, are learned."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 32)
    y = np.arange(80) % 2
    shapes = np.where(y[:, None] == 1, np.sin(6 * t), t)
    X = shapes * rng.uniform(1, 5, (80, 1)) + rng.uniform(-50, 50, (80, 1))
    pipe = make_pipeline(
        RowStandardScaler(),
        ResNetClassifier(input_shape=(1, 32), width=8, max_epochs=20, random_state=0),
    )
    assert pipe.fit(X, y).score(X, y) > 0.95


def test_calendar_features_are_cyclic():
    """23:00 and 00:00 are neighbours; each component gives a sin and a cos column."""
    idx = pd.date_range("2024-03-01 22:00", periods=3, freq="h")
    out = CalendarFeatures().fit_transform(pd.DataFrame({"v": [1, 2, 3]}, index=idx))
    assert list(out.columns) == [
        "hour_sin",
        "hour_cos",
        "dayofweek_sin",
        "dayofweek_cos",
        "month_sin",
        "month_cos",
    ]
    hour = out[["hour_sin", "hour_cos"]].to_numpy()
    assert np.linalg.norm(hour[1] - hour[2]) == pytest.approx(np.linalg.norm(hour[0] - hour[1]))
    np.testing.assert_allclose(np.square(hour).sum(axis=1), 1)


def test_calendar_features_from_a_column_and_errors():
    """A datetime column works via column=; bad components and non-dates are refused."""
    df = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=4, freq="D"), "x": range(4)})
    out = CalendarFeatures(components=("dayofweek",), column="when").fit_transform(df)
    assert out.shape == (4, 2)
    with pytest.raises(ValueError, match=r"components contains \['week'\]"):
        CalendarFeatures(components=("week",)).fit(df.set_index("when"))
    with pytest.raises(ValueError, match="CalendarFeatures needs timestamps"):
        CalendarFeatures().fit(np.zeros((3, 2)))


@pytest.mark.parametrize(
    "numbers",
    [
        np.arange(5),  # positions
        pd.DataFrame({"year": [2019, 2020, 2021]}),  # a frame of a RangeIndex, one int column
        pd.Series([1.5, 2.5]),
        np.array([True, False]),
        np.array([3, 4.5], dtype=object),
    ],
)
def test_calendar_features_refuse_numbers(numbers):
    """Numbers were read as nanoseconds after 1970 (every row a Thursday of January):
    silently wrong features. They are refused, with the conversion to make."""
    cal = CalendarFeatures()
    with pytest.raises(ValueError, match="got numbers.*pd.to_datetime"):
        cal.fit(numbers)
    stamps = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"]))
    cal.fit(stamps)
    with pytest.raises(ValueError, match="got numbers"):
        cal.transform(numbers)


def test_calendar_features_read_periods_as_their_first_instant():
    """Monthly or quarterly data often carries periods, not timestamps: an index, a
    column or a Series of them gives what their first instants give."""
    months = pd.period_range("2023-11", periods=5, freq="M")
    expected = CalendarFeatures(components=("month",)).fit_transform(
        pd.DataFrame(index=months.to_timestamp())
    )
    frame = pd.DataFrame({"when": months, "x": range(5)})
    for X, column in [
        (pd.DataFrame({"x": range(5)}, index=months), None),
        (frame, "when"),
        (pd.Series(months), None),
    ]:
        out = CalendarFeatures(components=("month",), column=column).fit_transform(X)
        np.testing.assert_allclose(np.asarray(out), np.asarray(expected))
    assert np.allclose(np.asarray(expected)[2], [np.sin(2 * np.pi / 12), np.cos(2 * np.pi / 12)])
    with pytest.raises(ValueError, match="missing timestamps"):
        CalendarFeatures(column="when").fit(
            frame.assign(when=pd.PeriodIndex([months[0], None] * 2 + [months[0]]))
        )
