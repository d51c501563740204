"""Synthetic data made on the spot: no download, same numbers for the same seed."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_seasonal_series(
    n_steps: int = 1000,
    *,
    period: int = 24,
    trend: float = 0.01,
    noise: float = 0.3,
    start: str = "2024-01-01",
    freq: str = "h",
    random_state: int | None = 0,
) -> pd.Series:
    """A noisy seasonal series with a linear trend and a second harmonic.

    ``y_t = trend * t + sin(2 pi t / period) + 0.5 sin(4 pi t / period + 1)
    + AR(1) noise``, indexed by timestamps.

    Parameters
    ----------
    n_steps : int, default=1000
    period : int, default=24
        Length of the seasonal cycle, in steps.
    trend : float, default=0.01
        Increase per step.
    noise : float, default=0.3
        Standard deviation of the AR(1) innovations (coefficient 0.5).
    start : str, default="2024-01-01"
    freq : str, default="h"
    random_state : int or None, default=0

    Returns
    -------
    series : Series of shape (n_steps,) with a DatetimeIndex

    Examples
    --------
    >>> s = make_seasonal_series(48, period=12)
    >>> s.shape, s.index.freqstr
    ((48,), 'h')
    """
    rng = np.random.default_rng(random_state)
    t = np.arange(n_steps)
    season = np.sin(2 * np.pi * t / period) + 0.5 * np.sin(4 * np.pi * t / period + 1.0)
    innovations = rng.normal(scale=noise, size=n_steps)
    ar = np.empty(n_steps)
    ar[0] = innovations[0]
    for i in range(1, n_steps):
        ar[i] = 0.5 * ar[i - 1] + innovations[i]
    values = trend * t + season + ar
    index = pd.date_range(start, periods=n_steps, freq=freq)
    return pd.Series(values, index=index, name="y")
