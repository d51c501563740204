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


def make_store_sales(
    n_stores: int = 10,
    n_days: int = 730,
    *,
    promo_rate: float = 0.1,
    lift: tuple[float, float] = (0.6, 0.3),
    noise: float = 0.1,
    start: str = "2023-01-02",
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Daily sales of several stores, lifted by promotions planned in advance.

    Each store has its own level (log-normal), weekly profile and slow trend;
    a promotion on day ``t`` multiplies sales by ``1 + lift[0]`` that day and
    by ``1 + lift[1]`` the day after (a lagged effect); the noise is
    multiplicative AR(1). The promotions are the known-in-advance covariate
    of the forecasting examples and benchmark: a model that is given them can
    forecast the lifts, one that is not cannot.

    Parameters
    ----------
    n_stores : int, default=10
    n_days : int, default=730
    promo_rate : float, default=0.1
        Share of days on which a store runs a promotion.
    lift : tuple of float, default=(0.6, 0.3)
        Relative lift on the promotion day and on the day after.
    noise : float, default=0.1
        Standard deviation of the log-scale AR(1) innovations (coefficient 0.6).
    start : str, default="2023-01-02"
    random_state : int or None, default=0

    Returns
    -------
    sales : DataFrame of shape (n_stores * n_days, 3)
        Columns ``store`` (str), ``sales`` (float) and ``promo`` (0/1), one
        block of ``n_days`` rows per store, indexed by a daily ``date`` index.

    Examples
    --------
    >>> df = make_store_sales(n_stores=2, n_days=28)
    >>> df.shape, list(df.columns)
    ((56, 3), ['store', 'sales', 'promo'])
    """
    rng = np.random.default_rng(random_state)
    t = np.arange(n_days)
    dates = pd.date_range(start, periods=n_days, freq="D", name="date")
    frames = []
    for s in range(n_stores):
        level = np.exp(rng.normal(np.log(100), 0.6))
        weekly = 1 + 0.3 * rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * (t + rng.integers(7)) / 7)
        trend = 1 + rng.uniform(-0.2, 0.4) * t / n_days
        promo = (rng.random(n_days) < promo_rate).astype(float)
        boost = 1 + lift[0] * promo + lift[1] * np.r_[0.0, promo[:-1]]
        log_noise = np.empty(n_days)
        log_noise[0] = rng.normal(scale=noise)
        for i in range(1, n_days):
            log_noise[i] = 0.6 * log_noise[i - 1] + rng.normal(scale=noise)
        sales = level * weekly * trend * boost * np.exp(log_noise)
        frames.append(
            pd.DataFrame({"store": f"store_{s}", "sales": sales, "promo": promo}, index=dates)
        )
    return pd.concat(frames)
