"""Rolling-origin forecasting accuracy of TCNForecaster against the usual baselines.

Protocol (docs/benchmarks/protocol.md): ``train = y[:T - n_test]``; lookback
``L = max(2m, 3H)``; window models are fitted once on train; origins every
``H`` steps over the test part, all predicted in one batched call; MASE is
scaled by the in-sample (train) seasonal-naive MAE. ETS (additive error,
trend and season: statsmodels' ETSModel) and statsforecast's AutoETS
(automatic model selection) are refitted at each origin, their 80%
prediction intervals scored beside ours: scaled pinball loss over the
levels (0.1, 0.5, 0.9) (the mean standing for the median of their Gaussian
intervals), and the share of actual values inside the 80% interval. Series: airline
(m=H=12, n_test=36), monthly sunspots (m=H=12, n_test=120), half-hourly
taylor (m=H=48, n_test=336), and a synthetic panel of 10 stores whose sales
are lifted by promotions known in advance (m=H=7, n_test=91), where the TCN
is run with and without the promotions as a future covariate. Held out
(``--series wineind elnino co2``; no default but the conformal calibration
window was chosen on them): monthly wine sales (m=H=12, n_test=36), monthly
El Nino temperatures (m=H=12, n_test=60), weekly CO2 (m=52, H=13,
n_test=260). Six short series, also used to choose the calibration window
(``--series ausbeer woolyrnq austres lynx nile heartrate``): quarterly beer
production (m=4, H=8, n_test=40), wool production (m=4, H=8, n_test=24) and
Australian residents (m=4, H=8, n_test=16); annual lynx trappings and Nile
flows and a heart rate record (m=1, H=10, n_test 30, 20 and 30). Four series
run after every choice, for nothing but a check (``--series realgdp unemp infl
sunspots_yearly``): US quarterly real GDP, unemployment and inflation (m=4,
H=8, n_test=40) and yearly sunspots (m=1, H=10, n_test=50).

A quantile model is fitted once too; by default ``backtest`` keeps its
conformal calibration up to date, origin by origin, on the windows observed
before each origin (``update_calibration``), as it would be kept in use;
the "calibrated at fit only" row skips that (``recalibrate=False``).

The darts and neuralforecast TCN rows are the numbers docs/benchmarks/protocol.md reports
on the same origins (those packages are not installed here).

Run: python benchmarks/forecasting.py   (needs: pip install -e ".[benchmarks]")
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skresnet import TCNForecaster
from skresnet.datasets import load_forecasting, make_store_sales
from skresnet.timeseries import backtest, forecast_errors, quantile_scores

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"

LEVELS = np.array([0.1, 0.5, 0.9])
# name: (horizon H, test length n_test)
PROTOCOL = {"airline": (12, 36), "sunspots": (12, 120), "taylor": (48, 336)}
# Series no default was chosen on (run after the defaults were fixed, as a check):
# name: (season m, horizon H, test length n_test)
HELD_OUT = {
    "wineind": (12, 12, 36),
    "elnino": (12, 12, 60),
    "co2": (52, 13, 260),
    "ausbeer": (4, 8, 40),
    "woolyrnq": (4, 8, 24),
    "austres": (4, 8, 16),
    "lynx": (1, 10, 30),
    "nile": (1, 10, 20),
    "heartrate": (1, 10, 30),
}
# Series run only after the calibration window was chosen, used for nothing: US quarterly
# real GDP, unemployment and inflation 1959-2009 (statsmodels' macrodata), yearly
# sunspots 1700-2008 (statsmodels' sunspots).
UNSEEN = {
    "realgdp": (4, 8, 40),
    "unemp": (4, 8, 40),
    "infl": (4, 8, 40),
    "sunspots_yearly": (1, 10, 50),
}
HELD_OUT.update(UNSEEN)
PUBLISHED = {  # MASE on the same origins, from docs/benchmarks/protocol.md
    "airline": {"darts TCNModel": 7.04, "neuralforecast TCN": 1.407},
    "sunspots": {"darts TCNModel": 1.098, "neuralforecast TCN": 0.881},
    "taylor": {"darts TCNModel": 0.665, "neuralforecast TCN": 0.403},
}
PUBLISHED_FIT_S = {"taylor": {"darts TCNModel": 266, "neuralforecast TCN": 195}}
TCN_VARIANTS = {  # label: (parameters beside the defaults, backtest options)
    "TCNForecaster (ours)": ({}, {}),
    "TCNForecaster quantiles (ours)": ({"quantiles": tuple(LEVELS), "conformal": False}, {}),
    "TCNForecaster quantiles + conformal at fit only (ours)": (
        {"quantiles": tuple(LEVELS)},
        {"recalibrate": False},
    ),
    # conformal="auto" (the default) calibrates a quantile model and backtest keeps it
    # calibrated: this row is the default one
    "TCNForecaster quantiles + conformal (ours)": ({"quantiles": tuple(LEVELS)}, {}),
}


class SeasonalNaive(RegressorMixin, BaseEstimator):
    """Repeats the last ``season_length`` values of each window (1: the last value)."""

    def __init__(self, season_length=1):
        self.season_length = season_length

    def fit(self, X, y):
        self.horizon_ = np.shape(y)[1]
        return self

    def predict(self, X):
        X = np.asarray(X)
        target = X if X.ndim == 2 else X[:, :, 0]
        last = target[:, -self.season_length :]
        return np.tile(last, -(-self.horizon_ // self.season_length))[:, : self.horizon_]


def ridge_on_lags():
    """Ridge regression from the flattened window to all H values (direct strategy)."""
    return make_pipeline(FunctionTransformer(lambda X: np.reshape(X, (len(X), -1))), Ridge(1.0))


def _ets_interval(history: np.ndarray, horizon: int, m: int) -> np.ndarray:
    """statsmodels' additive ETS: forecasts of the 0.1, 0.5 and 0.9 levels, (horizon, 3)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    season = dict(seasonal="add", seasonal_periods=m) if m > 1 else {}
    model = ETSModel(pd.Series(history), error="add", trend="add", **season)
    frame = model.fit(disp=False).get_prediction(len(history), len(history) + horizon - 1)
    frame = frame.summary_frame(alpha=0.2)
    return frame[["pi_lower", "mean", "pi_upper"]].to_numpy()


def _autoets_interval(history: np.ndarray, horizon: int, m: int) -> np.ndarray:
    """statsforecast's AutoETS: forecasts of the 0.1, 0.5 and 0.9 levels, (horizon, 3)."""
    from statsforecast.models import AutoETS

    out = AutoETS(season_length=m).fit(history).predict(horizon, level=[80])
    return np.stack([out["lo-80"], out["mean"], out["hi-80"]], axis=1)


STATISTICAL = {"ETS (statsmodels)": _ets_interval, "AutoETS (statsforecast)": _autoets_interval}


def statistical_scores(
    method: str, y: np.ndarray, start: int, horizon: int, m: int, origins=None
) -> pd.DataFrame:
    """A statistical model refitted at each origin: point and interval scores."""
    rows = []
    for o in origins if origins is not None else range(start, len(y) - horizon + 1, horizon):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            q = STATISTICAL[method](y[:o].astype(float), horizon, m)
        actual = y[o : o + horizon]
        rows.append(
            {
                **forecast_errors(actual, q[:, 1], y[:start], m),
                **quantile_scores(actual, q, LEVELS, y[:start], m),
            }
        )
    return pd.DataFrame(rows)


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t


def load_held_out(name: str) -> np.ndarray:
    """A series no default was tuned on: monthly Australian wine sales 1980-1994
    (pmdarima's wineind, 176 values), monthly El Nino sea surface temperatures
    1950-2010 (statsmodels' elnino, 732), weekly Mauna Loa CO2 1958-2001
    (statsmodels' co2, 2,284 weeks, its 59 gaps interpolated); short series
    bundled in pmdarima: quarterly Australian beer production 1956-2008
    (ausbeer, 211 values and a trailing gap dropped), wool production 1965-1994
    (woolyrnq, 119), Australian residents 1971-1993 (austres, 89), annual lynx
    trappings 1821-1934 (lynx, 114), a heart rate record (heartrate, 150); and
    annual Nile flows 1871-1970 (statsmodels' nile, 100); US quarterly real GDP,
    unemployment and inflation 1959-2009 (statsmodels' macrodata, 203 each) and
    yearly sunspots 1700-2008 (statsmodels' sunspots, 309)."""
    from statsmodels import datasets

    if name in ("realgdp", "unemp", "infl"):
        return datasets.macrodata.load_pandas().data[name].to_numpy(dtype=float)
    if name == "sunspots_yearly":
        return datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(dtype=float)
    if name == "elnino":
        table = datasets.elnino.load_pandas().data
        return table.drop(columns="YEAR").to_numpy(dtype=float).ravel()
    if name == "co2":
        return datasets.co2.load_pandas().data["co2"].interpolate().to_numpy(dtype=float)
    if name == "nile":
        return datasets.nile.load_pandas().data["volume"].to_numpy(dtype=float)
    import pmdarima.datasets

    values = np.asarray(getattr(pmdarima.datasets, f"load_{name}")(), dtype=float)
    return values[np.isfinite(values)]


def series_protocol(name: str) -> tuple[np.ndarray, int, int, int]:
    """``(y, m, horizon, n_test)`` of a benchmark or held-out series."""
    if name in HELD_OUT:
        m, horizon, n_test = HELD_OUT[name]
        return load_held_out(name), m, horizon, n_test
    series = load_forecasting(name)
    return series.to_numpy(), series.attrs["season_length"], *PROTOCOL[name]


def run_series(name: str, seeds: int, tcn_params: dict) -> list[dict]:
    y, m, horizon, n_test = series_protocol(name)
    start = len(y) - n_test
    kw = dict(lookback=max(2 * m, 3 * horizon), horizon=horizon, start=start, season_length=m)
    models = {
        "naive (last value)": SeasonalNaive(1),
        "seasonal naive": SeasonalNaive(m),
        "ridge on lags": ridge_on_lags(),
    }
    rows = []
    for label, model in models.items():
        scores, seconds = timed(lambda model=model: backtest(model, y, **kw))
        rows.append(_row(name, label, scores.iloc[:-1], seconds))
    for method in STATISTICAL:
        scores, seconds = timed(
            lambda method=method: statistical_scores(method, y, start, horizon, m)
        )
        rows.append(_row(name, method, scores, seconds))
        print(rows[-1], flush=True)
    for seed in range(seeds):
        for label, (extra, options) in TCN_VARIANTS.items():
            tcn = TCNForecaster(random_state=seed, **extra, **tcn_params)
            scores, seconds = timed(lambda tcn=tcn, o=options: backtest(tcn, y, **kw, **o))
            rows.append(_row(name, label, scores.iloc[:-1], seconds, seed))
            print(rows[-1], flush=True)
    for label, mase in PUBLISHED.get(name, {}).items():
        fit_s = PUBLISHED_FIT_S.get(name, {}).get(label, np.nan)
        rows.append(
            {
                "series": name,
                "method": label + " [published, see protocol.md]",
                "mase": mase,
                "smape": np.nan,
                "fit_s": fit_s,
                "seed": np.nan,
            }
        )
    return rows


def run_stores(seeds: int, tcn_params: dict) -> list[dict]:
    df = make_store_sales(n_stores=10, n_days=730, random_state=0)
    m, horizon, n_test = 7, 7, 91
    kw = dict(
        lookback=max(2 * m, 3 * horizon),
        horizon=horizon,
        start=730 - n_test,
        season_length=m,
        target="sales",
        groups="store",
    )
    with_promo = dict(future_covariates=["promo"])
    runs = [  # (label, estimator, backtest options, seed); backtest fits a clone of each
        ("seasonal naive", SeasonalNaive(m), {}, np.nan),
        ("ridge on lags", ridge_on_lags(), {}, np.nan),
        ("ridge on lags + promo (future)", ridge_on_lags(), with_promo, np.nan),
    ]
    for seed in range(seeds):
        for label, (extra, options) in TCN_VARIANTS.items():
            tcn = TCNForecaster(random_state=seed, **extra, **tcn_params)
            runs.append((label, tcn, options, seed))
            promo = label.replace(" (ours", " + promo (future, ours")
            runs.append((promo, tcn, {**with_promo, **options}, seed))
    rows = []
    for method in STATISTICAL:  # one model per store, refitted at each origin
        parts, seconds = timed(
            lambda method=method: pd.concat(
                [
                    statistical_scores(method, g["sales"].to_numpy(), 730 - n_test, horizon, m)
                    for _, g in df.groupby("store", sort=False)
                ]
            )
        )
        rows.append(_row("stores (synthetic)", method, parts, seconds))
        print(rows[-1], flush=True)
    for label, estimator, extra, seed in runs:
        scores, seconds = timed(lambda e=estimator, x=extra: backtest(e, df, **kw, **x))
        rows.append(_row("stores (synthetic)", label, scores.iloc[:-1], seconds, seed))
        print(rows[-1], flush=True)
    return rows


def _row(series, method, scores, seconds, seed=np.nan) -> dict:
    return {
        "series": series,
        "method": method,
        "mase": scores["mase"].mean(),
        "smape": scores["smape"].mean(),
        "pinball": scores["pinball"].mean() if "pinball" in scores else np.nan,
        "coverage_80": scores["coverage_80"].mean() if "coverage_80" in scores else np.nan,
        "fit_s": seconds,
        "seed": seed,
    }


def table(raw: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per (series, method), in the order the methods were run."""
    order = list(dict.fromkeys(zip(raw["series"], raw["method"], strict=True)))
    agg = raw.groupby(["series", "method"], sort=False).agg(
        mase=("mase", "mean"),
        mase_sd=("mase", "std"),
        smape=("smape", "mean"),
        pinball=("pinball", "mean"),
        coverage_80=("coverage_80", "mean"),
        fit_s=("fit_s", "mean"),
        runs=("mase", "size"),
    )
    return agg.loc[order].reset_index()


def _saved(raw_path: Path, rows: list[dict]) -> pd.DataFrame:
    """The raw table with ``rows`` in place of their series' rows from earlier runs,
    written to ``raw_path``."""
    raw = pd.DataFrame(rows)
    if raw_path.exists():  # keep the other series' rows from earlier runs
        old = pd.read_csv(raw_path)
        raw = pd.concat([old[~old["series"].isin(raw["series"])], raw], ignore_index=True)
    # the benchmark's series first, then the held-out ones, whichever ran last
    rank = {name: i for i, name in enumerate([*PROTOCOL, "stores (synthetic)", *HELD_OUT])}
    raw = raw.sort_values("series", key=lambda s: s.map(rank), kind="stable")
    OUT.mkdir(parents=True, exist_ok=True)
    raw.to_csv(raw_path, index=False)
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--series",
        nargs="+",
        default=[*PROTOCOL, "stores"],
        choices=[*PROTOCOL, "stores", *HELD_OUT],
        help=f"the benchmark's series (default) or held-out ones: {', '.join(HELD_OUT)}",
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="override TCNForecaster's max_epochs (for a quick run)",
    )
    parser.add_argument(
        "--from-csv",
        action="store_true",
        help="rebuild the table from docs/benchmarks/forecasting_raw.csv",
    )
    args = parser.parse_args()
    raw_path = OUT / "forecasting_raw.csv"
    if args.from_csv:
        raw = pd.read_csv(raw_path)
    else:
        params = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
        for name in args.series:  # each series saved as it ends: a cut run keeps them
            if name == "stores":
                rows = run_stores(args.seeds, params)
            else:
                rows = run_series(name, args.seeds, params)
            raw = _saved(raw_path, rows)
    result = table(raw)
    text = result.to_markdown(index=False, floatfmt=".3f")
    print(text)
    (OUT / "forecasting.md").write_text(
        "# Forecasting benchmark (rolling origins, CPU)\n\n"
        "Generated by `python benchmarks/forecasting.py`; protocol in the script's docstring "
        "and in docs/forecasting.md. MASE: lower is better (1 = the in-sample seasonal naive "
        "error). `pinball`: pinball loss over the levels 0.1, 0.5, 0.9, scaled like MASE (lower "
        "is better); `coverage_80`: share of actual values inside the 80% interval (nominal "
        "0.8). `fit_s`: seconds for the whole backtest (one fit and one batched predict for "
        "window models; a refit per origin for ETS and AutoETS). Rows marked [published, see "
        "protocol.md] are quoted, not run here.\n\n" + text + "\n"
    )


if __name__ == "__main__":
    main()
