"""# Quick start: the three estimators in a few lines each

Images from flat rows, a tabular regression behind a `ColumnTransformer`
tuned with `GridSearchCV`, and a forecaster tuned over time-ordered folds,
all on data that needs no download.

Run: `python examples/quickstart.py`
"""

import os

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, make_friedman1
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster
from skresnet.datasets import make_seasonal_series
from skresnet.timeseries import make_windows

# The docs' fast build sets SKRESNET_EXAMPLES_FAST=1: a few epochs, not the full training.
FAST = bool(os.environ.get("SKRESNET_EXAMPLES_FAST"))

# %%

# Images from flat rows: input_shape makes each row an 8x8 picture for a ResNet-20.
X, y = load_digits(return_X_y=True)
X_tr, X_te, y_tr, y_te = train_test_split(X / 16, y, random_state=0, stratify=y)
clf = ResNetClassifier(
    input_shape=(1, 8, 8), max_epochs=3 if FAST else 10, batch_size=64, random_state=0
)
print("digits accuracy:", clf.fit(X_tr, y_tr).score(X_te, y_te))

# %%
# Tabular regression at the end of a Pipeline with a ColumnTransformer.
X, y = make_friedman1(n_samples=1000, random_state=0)
df = pd.DataFrame(X, columns=[f"x{i}" for i in range(10)])
df["segment"] = (df["x0"] > 0.5).map({True: "high", False: "low"})
pipe = Pipeline(
    [
        (
            "prep",
            ColumnTransformer(
                [
                    ("cat", OneHotEncoder(), ["segment"]),
                    ("num", StandardScaler(), [f"x{i}" for i in range(10)]),
                ]
            ),
        ),
        ("model", ResidualMLPRegressor(max_epochs=5 if FAST else 50, random_state=0)),
    ]
)
search = GridSearchCV(pipe, {"model__n_blocks": [1, 2], "model__dropout": [0.0, 0.1]}, cv=3)
search.fit(df, y)
print("friedman1 best:", search.best_params_, round(search.best_score_, 3))

# %%
# Forecasting: windows of the past 72 hours, the next 24 hours as target.
series = make_seasonal_series(1500, period=24)
X, y = make_windows(series, lookback=72, horizon=24)
search = GridSearchCV(
    TCNForecaster(max_epochs=3 if FAST else 10, random_state=0),
    {"channels": [16, 32], "kernel_size": [2, 3]},
    cv=TimeSeriesSplit(n_splits=3),
)
search.fit(X, y)
print("forecast best:", search.best_params_, round(search.best_score_, 3))
