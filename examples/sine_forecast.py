"""# Forecasting: a noisy sine wave beyond the end of the data

A TCN (Bai et al. 2018) learns from windows of the past 48 steps to predict
the next 12; past those 12 steps its forecasts are fed back. Printed: the
error of the TCN and of the naive forecasts over the next 60 steps; drawn:
the forecast against what happened. With `--plot PATH` the figure is also
saved.

Run: `python examples/sine_forecast.py [--plot sine_forecast.png]`
"""

import argparse
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skresnet import TCNForecaster
from skresnet.timeseries import make_windows, plot_forecast

# The docs' fast build sets SKRESNET_EXAMPLES_FAST=1: a few epochs, not the full training.
EPOCHS = 5 if os.environ.get("SKRESNET_EXAMPLES_FAST") else 40

parser = argparse.ArgumentParser()
parser.add_argument("--plot", help="also save the figure here")
args = parser.parse_args()

rng = np.random.default_rng(0)
t = np.arange(660)
wave = np.sin(2 * np.pi * t / 30) + 0.5 * np.sin(2 * np.pi * t / 7.5)
series = pd.Series(
    wave + 0.1 * rng.normal(size=len(t)),
    index=pd.date_range("2024-01-01", periods=len(t), freq="h"),
)
history, future = series[:600], series[600:]

X, y = make_windows(history, lookback=48, horizon=12)
tcn = TCNForecaster(max_epochs=EPOCHS, random_state=0).fit(X, y)
forecast = tcn.forecast(history, steps=60)  # 12 at a time, fed back

mae = {
    "TCNForecaster": np.abs(forecast.to_numpy() - future.to_numpy()).mean(),
    "naive (last value)": np.abs(history.iloc[-1] - future.to_numpy()).mean(),
    "seasonal naive (30)": np.abs(np.tile(history.to_numpy()[-30:], 2) - future.to_numpy()).mean(),
}
print(f"receptive field {tcn.receptive_field_} steps for a lookback of {tcn.lookback_}")
for name, value in mae.items():
    print(f"MAE over the next 60 steps, {name}: {value:.3f}")
print("first forecast timestamps:", list(forecast.index[:3].strftime("%Y-%m-%d %H:%M")))

# %%
# The last 150 observed steps, the forecast and what happened.
ax = plot_forecast(history, forecast, future, last=150)
if args.plot:
    ax.figure.savefig(args.plot, dpi=100, bbox_inches="tight")
plt.show()
