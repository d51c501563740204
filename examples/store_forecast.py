"""# Forecasting with covariates: ten stores, one global TCN, promotions known in advance

Sales of each store are lifted by promotions planned ahead. One model is
trained on the windows of all stores (`groups`), once without and once
with the promotions as a future covariate; a rolling-origin backtest over
the last 13 weeks compares them, store by store. The promoted model then
forecasts next week for every store from a promotion plan.

Run: `python examples/store_forecast.py`
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skresnet import TCNForecaster
from skresnet.datasets import make_store_sales
from skresnet.timeseries import backtest, make_windows

# The docs' fast build sets SKRESNET_EXAMPLES_FAST=1: a few epochs, not the full training.
EPOCHS = 5 if os.environ.get("SKRESNET_EXAMPLES_FAST") else 30

df = make_store_sales(n_stores=10, n_days=730, random_state=0)
setup = dict(lookback=28, horizon=7, target="sales", groups="store")
tcn = TCNForecaster(max_epochs=EPOCHS, random_state=0)

# %%
# Rolling-origin backtests: the same network without and with the promotions.
per_store = {}
for label, covariates in (
    ("without promotions", {}),
    ("with promotions", {"future_covariates": ["promo"]}),
):
    scores = backtest(tcn, df, start=730 - 91, season_length=7, **setup, **covariates)
    overall = scores.loc[("overall", "")]
    print(f"backtest {label:>20}: MASE {overall['mase']:.3f}, sMAPE {overall['smape']:.1f}%")
    per_store[label] = (
        scores.drop(index="overall", level="group")["mase"].groupby(level="group").mean()
    )

# %%
# Train on everything, then forecast next week with a plan: promote on Friday only.
X, y = make_windows(df, future_covariates=["promo"], **setup)
model = TCNForecaster(max_epochs=EPOCHS, random_state=0).fit(X, y)
next_week = pd.date_range(df.index.max() + pd.Timedelta(days=1), periods=7, freq="D")
plan = pd.DataFrame(
    {
        "store": np.repeat(pd.unique(df["store"]), 7),
        "promo": np.tile((next_week.day_of_week == 4).astype(float), 10),
    }
)
history = df[["store", "sales", "promo"]]  # target first, then the future covariate
forecast = model.forecast(history, future=plan, groups="store")
print(forecast.unstack("store").round(1).iloc[:, :4])

# %%
# MASE per store with and without the promotions, and next week for two stores.
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
pd.DataFrame(per_store).plot.bar(ax=left, rot=45)
left.set_ylabel("MASE (13 weekly origins)")
left.set_title("backtest per store")
for color, store in zip(("C0", "C1"), pd.unique(df["store"])[:2], strict=True):
    sales = df[df["store"] == store]["sales"].iloc[-28:]
    right.plot(sales.index, sales.to_numpy(), color=color, label=f"{store}, history")
    ahead = forecast.loc[store]
    right.plot(
        ahead.index, ahead.to_numpy().ravel(), "--o", color=color, ms=3, label=f"{store}, forecast"
    )
right.set_title("next week (promotion on Friday)")
right.legend(fontsize=8)
fig.autofmt_xdate()
fig.tight_layout()
plt.show()
