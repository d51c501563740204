"""Tune a TCNForecaster with GridSearchCV and TimeSeriesSplit, then backtest the winner.

Windows are independent rows, so scikit-learn's tools apply unchanged;
TimeSeriesSplit keeps every validation fold after its training fold. Only
parameters that do not change the window length are searched.

Run: python examples/grid_search_forecaster.py
"""

import pandas as pd
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from skresnet import TCNForecaster
from skresnet.datasets import make_seasonal_series
from skresnet.timeseries import backtest, make_windows

series = make_seasonal_series(1200, period=24, random_state=0)
train = series[:1000]
X, y = make_windows(train, lookback=48, horizon=12)

search = GridSearchCV(
    TCNForecaster(max_epochs=15, random_state=0),
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

scores = backtest(
    search.best_estimator_, series, lookback=48, horizon=12, start=1000, season_length=24
)
print(scores.round(3).tail(4))
