"""# Tuning: GridSearchCV and TimeSeriesSplit on a TCNForecaster, then a backtest

Windows are independent rows, so scikit-learn's tools apply unchanged:
`TimeSeriesSplit` keeps every validation fold after its training fold.
Only parameters that do not change the window length are searched. The
winner is then backtested from rolling origins on data it never saw.

Run: `python examples/grid_search_forecaster.py`
"""

import os

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from skresnet import TCNForecaster
from skresnet.datasets import make_seasonal_series
from skresnet.timeseries import backtest, make_windows

# The docs' fast build sets SKRESNET_EXAMPLES_FAST=1: a few epochs, not the full training.
EPOCHS = 3 if os.environ.get("SKRESNET_EXAMPLES_FAST") else 15

series = make_seasonal_series(1200, period=24, random_state=0)
train = series[:1000]
X, y = make_windows(train, lookback=48, horizon=12)

# %%
# 16 settings x 3 time-ordered folds, two at a time.
search = GridSearchCV(
    TCNForecaster(max_epochs=EPOCHS, random_state=0),
    param_grid={
        "channels": [16, 32],
        "kernel_size": [2, 3],
        "dropout": [0.0, 0.1],
        "lr": [1e-3, 3e-3],
    },
    cv=TimeSeriesSplit(n_splits=3),
    scoring="neg_mean_absolute_error",
    n_jobs=2,
)
search.fit(X, y)
results = pd.DataFrame(search.cv_results_).sort_values("rank_test_score")
print(results[["params", "mean_test_score", "mean_fit_time"]].head(5).to_string(index=False))
print("best:", search.best_params_)

# %%
# The winner from rolling origins over the last 200 steps.
scores = backtest(
    search.best_estimator_, series, lookback=48, horizon=12, start=1000, season_length=24
)
print(scores.round(3).tail(4))

# %%
# Cross-validated MAE of every setting, best first, with its spread over the folds.
labels = [
    f"c{p['channels']} k{p['kernel_size']} d{p['dropout']} lr{p['lr']:g}" for p in results["params"]
]
fig, ax = plt.subplots(figsize=(10, 4))
ax.bar(labels, -results["mean_test_score"], yerr=results["std_test_score"], color="C0")
ax.set_ylabel("MAE (3 folds)")
ax.set_title("GridSearchCV over a TCNForecaster")
ax.tick_params(axis="x", rotation=60)
fig.tight_layout()
plt.show()
