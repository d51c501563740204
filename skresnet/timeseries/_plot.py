"""Drawing a forecast beside its history and the actual values (matplotlib, optional)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def plot_forecast(history, forecast, actual=None, *, ax=None, last: int | None = None):
    """Plot the end of ``history``, the ``forecast`` after it and, if given, the actual values.

    Parameters
    ----------
    history : Series or array-like of shape (n_steps,)
    forecast : Series, DataFrame or array-like of shape (steps,) or (steps, n_quantiles)
        A Series (as returned by ``TCNForecaster.forecast`` for pandas input)
        is drawn at its own index; an array right after ``history``. Quantile
        forecasts (``forecast(..., quantiles=True)``: one column per level)
        are drawn as the middle column, with each central interval shaded.
    actual : Series or array-like of shape (steps,), default=None
    ax : matplotlib Axes, default=None
        A new figure is made when None.
    last : int, default=None
        Draw only the last ``last`` steps of the history.

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Needs matplotlib: ``pip install 'skresnet[plot]'``.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plot_forecast needs matplotlib; install it with: pip install 'skresnet[plot]'"
        ) from None
    history = history if isinstance(history, pd.Series) else pd.Series(np.asarray(history))
    if last is not None:
        history = history.iloc[-last:]
    n = len(forecast)
    if isinstance(forecast, (pd.Series, pd.DataFrame)):
        future_index = forecast.index
    else:
        start = history.index[-1] + 1 if not isinstance(history.index, pd.DatetimeIndex) else None
        future_index = pd.RangeIndex(start, start + n) if start is not None else None
        if future_index is None:
            raise ValueError("With a DatetimeIndex history, pass the forecast as a Series.")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    ax.plot(history.index, history.to_numpy(), color="0.3", label="history")
    values = np.asarray(forecast, dtype=float)
    if values.ndim == 2:  # quantiles: shade the central intervals, widest palest
        levels = list(getattr(forecast, "columns", range(values.shape[1])))
        for i in range(values.shape[1] // 2):
            label = (
                f"{levels[-1 - i] - levels[i]:.0%} interval"
                if isinstance(forecast, pd.DataFrame)
                else None
            )
            ax.fill_between(
                future_index,
                values[:, i],
                values[:, -1 - i],
                color="tab:blue",
                alpha=0.15 + 0.2 * i,
                lw=0,
                label=label,
            )
        values = values[:, values.shape[1] // 2]
    ax.plot(future_index, values, color="tab:blue", label="forecast")
    if actual is not None:
        ax.plot(future_index, np.asarray(actual), color="tab:orange", ls="--", label="actual")
    ax.axvline(history.index[-1], color="0.7", lw=1)
    if isinstance(history.index, pd.DatetimeIndex):
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.legend(loc="best")
    return ax
