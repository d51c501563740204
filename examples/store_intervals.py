"""# Forecast intervals: 80% intervals for next week's sales of every store

How often do they hold?

One global TCN with quantiles (0.1, 0.5, 0.9) learns from the windows of all
stores, promotions given as a future covariate. A rolling-origin backtest
over the last 8 weeks reports the scaled pinball loss and how often the 80%
interval held (the backtest keeps the intervals calibrated as the weeks pass,
and so does the model below, with `update_calibration`); the model then
forecasts next week for each store from a promotion plan, as a DataFrame
with one column per quantile. With
`--plot PATH` the figure of the first store's forecast is also saved.

Run: `python examples/store_intervals.py [--plot stores.png]`
"""

import argparse
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skresnet import TCNForecaster
from skresnet.datasets import make_store_sales
from skresnet.timeseries import backtest, make_windows, plot_forecast

# The docs' fast build sets SKRESNET_EXAMPLES_FAST=1: a few epochs, not the full training.
EPOCHS = 5 if os.environ.get("SKRESNET_EXAMPLES_FAST") else 30

parser = argparse.ArgumentParser()
parser.add_argument("--plot", help="also save the figure here")
args = parser.parse_args()

df = make_store_sales(n_stores=6, n_days=500, random_state=0)
setup = dict(lookback=28, horizon=7, target="sales", groups="store", future_covariates=["promo"])
tcn = TCNForecaster(quantiles=(0.1, 0.5, 0.9), max_epochs=EPOCHS, random_state=0)

scores = backtest(tcn, df, start=500 - 56, season_length=7, **setup)
overall = scores.loc[("overall", "")]
print(
    f"backtest over 8 weeks: MASE {overall['mase']:.3f}, scaled pinball "
    f"{overall['pinball']:.3f}, 80% interval held for {overall['coverage_80']:.0%} of the days"
)

# %%
# In use, the model is fitted once and its intervals kept calibrated as sales come
# in. Fitted here on all but the last two weeks; when those weeks' sales arrive,
# every window whose target ends in them (14 per store, their inputs reaching back
# before the fit's end) updates the conformal calibration; the network is unchanged.
fitted_until = df.index.max() - pd.Timedelta(days=14)
X, y = make_windows(df[df.index <= fitted_until], **setup)
model = tcn.fit(X, y)
X_new, y_new = make_windows(df, **setup, targets_after=fitted_until)
before = model.conformal_factors_[:, 0].round(2)
model.update_calibration(X_new, y_new)
print(f"\n{len(X_new)} new windows; the 80% interval's conformal factors by horizon step:")
print(f"  before {before.tolist()}\n  after  {model.conformal_factors_[:, 0].round(2).tolist()}")

next_week = pd.date_range(df.index.max() + pd.Timedelta(days=1), periods=7, freq="D")
stores = pd.unique(df["store"])
plan = pd.DataFrame(  # promote on Friday only
    {
        "store": np.repeat(stores, 7),
        "promo": np.tile((next_week.day_of_week == 4).astype(float), len(stores)),
    }
)
history = df[["sales", "promo", "store"]]
forecast = model.forecast(history, future=plan, groups="store", quantiles=True)
print(f"\nnext week, store {stores[0]} (Friday promoted):")
print(forecast.loc[stores[0]].round(1).to_string())

# %%
# The first store's last eight weeks, next week's median and its 80% interval.
first = df[df["store"] == stores[0]]["sales"]
ax = plot_forecast(first, forecast.loc[stores[0]], last=56)
ax.set_title(f"store {stores[0]}: median and 80% interval")
if args.plot:
    ax.figure.savefig(args.plot, dpi=100, bbox_inches="tight")
plt.show()
