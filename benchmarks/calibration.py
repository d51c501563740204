"""Which windows should calibrate TCNForecaster's intervals? Coverage and pinball
loss of the 80% interval under several conformal calibration windows, on the
same fits and the same rolling origins as benchmarks/forecasting.py.

Per series and seed, one quantile model with the defaults is fitted on the
training part, then forecasts every origin of the test part (every ``H``
steps). Only which windows' scores calibrate it changes between the rows
(``V``: the last 10% of the training windows, the validation windows; "new":
the windows whose targets ended after the fit and before the origin):

- none: the network's own quantiles (``conformal=False``);
- fit only, all of ``V`` (the calibration before update_calibration existed);
- fit only, the last ``min(n_V, 100)`` of ``V`` (``n_V`` windows);
- sliding, ``n_V`` windows: the most recent of ``V`` + new;
- sliding, 100 windows, however short the series;
- sliding, ``min(n_V, 100)`` windows: the default, what ``backtest`` does
  with ``update_calibration``.

The factors and intervals come from the library's own calibration code
(``skresnet.timeseries._conformal``); where early
stopping kept the linear start and the default refitted it on all training
windows, the validation windows are scored by the held-out start, as in fit.
The store panel is left out (its origins hold ten series at once). Writes
docs/benchmarks/calibration.md.

Run: python benchmarks/calibration.py   (needs: pip install -e ".[benchmarks]")
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
from forecasting import HELD_OUT, LEVELS, PROTOCOL, UNSEEN, load_held_out
from scipy.stats import binom

from skresnet import TCNForecaster
from skresnet.datasets import load_forecasting
from skresnet.timeseries import _conformal as conformal
from skresnet.timeseries import make_windows, quantile_scores

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
DEFAULT = "sliding, min(n_V, 100) (default)"


def windows(n_train: int, n_valid: int, i: int, horizon: int) -> dict:
    """Scheme: (first, end) rows of the calibration windows for the origin of window ``i``.

    Windows whose targets are known at that origin end at ``i - horizon`` (inclusive).
    """
    known = i - horizon + 1  # end (exclusive) of the windows observed by then
    first_valid = n_train - n_valid
    short = min(n_valid, 100)
    return {
        "none": None,
        "fit only, all of V": (first_valid, n_train),
        "fit only, last min(n_V, 100)": (n_train - short, n_train),
        "sliding, n_V": (max(first_valid, known - n_valid), known),
        "sliding, 100": (max(first_valid, known - 100), known),
        DEFAULT: (max(n_train - short, known - short), known),
    }


def series(name: str) -> tuple[np.ndarray, int, int, int]:
    """Values, season m, horizon H and test length, as benchmarks/forecasting.py has them."""
    if name in HELD_OUT:
        m, horizon, n_test = HELD_OUT[name]
        return load_held_out(name), m, horizon, n_test
    values = load_forecasting(name)
    horizon, n_test = PROTOCOL[name]
    return values.to_numpy(), values.attrs["season_length"], horizon, n_test


def chance_in_bar(n_values: int, nominal=0.8, bar=(0.75, 0.85)) -> float:
    """How often a perfectly calibrated interval's coverage of ``n_values``
    independent values lands within ``bar``: the binomial probability, an upper
    bound for forecasts, whose values from one origin are correlated."""
    low = math.ceil(bar[0] * n_values - 1e-9)
    high = math.floor(bar[1] * n_values + 1e-9)
    return float(binom.cdf(high, n_values, nominal) - binom.cdf(low - 1, n_values, nominal))


def run(name: str, seed: int) -> list[dict]:
    y, m, horizon, n_test = series(name)
    lookback, start = max(2 * m, 3 * horizon), len(y) - n_test
    X, Y = make_windows(y, lookback=lookback, horizon=horizon)
    n_train = start - lookback - horizon + 1
    model = TCNForecaster(quantiles=tuple(LEVELS), random_state=seed)
    model.fit(X[:n_train], Y[:n_train])
    scores = conformal.scores(model.predict_quantiles(X, conformal=False), Y)  # every window
    if model.early_stopping_history_ is not None:
        # the start was kept and refitted on all training windows: the validation
        # windows are scored, as in fit, by the held-out start (refit=False)
        held_out = TCNForecaster(quantiles=tuple(LEVELS), random_state=seed, refit=False)
        held_out.fit(X[:n_train], Y[:n_train])
        raw = held_out.predict_quantiles(X[:n_train], conformal=False)
        scores[:n_train] = conformal.scores(raw, Y[:n_train])
    n_valid = model._n_validation(n_train)
    rows = []
    for origin in range(start, len(y) - horizon + 1, horizon):
        i = origin - lookback
        for scheme, rows_used in windows(n_train, n_valid, i, horizon).items():
            if rows_used is None:
                q = model.predict_quantiles(X[i : i + 1], conformal=False)[0]
            else:
                lo, hi = rows_used
                factors = conformal.factors(scores[lo:hi], model.quantiles_)
                raw = model.predict_quantiles(X[i : i + 1], conformal=False)
                q = conformal.calibrate(raw, factors)[0]
            result = quantile_scores(Y[i], q, LEVELS, y[:start], m)
            rows.append({"series": name, "seed": seed, "scheme": scheme, **result})
    return rows


def run_from_command_line(run, description: str, series: list, seeds: int):
    """``run(name, seed)``'s rows over ``--series`` and ``--seeds`` (defaults given), as a
    DataFrame, and the number of seeds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--series", nargs="+", default=series, choices=[*PROTOCOL, *HELD_OUT])
    parser.add_argument("--seeds", type=int, default=seeds)
    args = parser.parse_args()
    rows = [row for name in args.series for seed in range(args.seeds) for row in run(name, seed)]
    return pd.DataFrame(rows), args.seeds


def write(text: str, filename: str) -> None:
    """Print ``text`` and write it to docs/benchmarks/``filename``."""
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / filename).write_text(text)


def main() -> None:
    raw, seeds = run_from_command_line(
        run,
        __doc__.splitlines()[0],
        [name for name in [*PROTOCOL, *HELD_OUT] if name not in UNSEEN],  # chosen on these
        seeds=3,
    )
    coverage = raw.groupby(["series", "scheme"], sort=False)["coverage_80"].mean().unstack()
    pinball = raw.groupby(["series", "scheme"], sort=False)["pinball"].mean().unstack()
    n_values = pd.Series({name: series(name)[3] for name in coverage.index})
    chance = n_values.map(chance_in_bar)
    summary = pd.DataFrame(
        {
            "mean distance from 0.8": (coverage - 0.8).abs().mean(),
            "series within [0.75, 0.85]": ((coverage >= 0.75) & (coverage <= 0.85))
            .sum()
            .astype(str),
            "mean pinball": pinball.mean(),
        }
    )
    shown = pd.concat(
        [n_values.rename("test values"), chance.rename("chance in bar if exact"), coverage],
        axis=1,
    )
    text = (
        "# Conformal calibration windows (rolling origins, CPU)\n\n"
        "Generated by `python benchmarks/calibration.py` (its docstring has the protocol): "
        f"{len(coverage)} series, {seeds} seeds, one fit each; only the windows "
        "that calibrate the 80% interval change between the columns. V: the validation "
        "windows (the last 10% of the training windows), n_V of them.\n\n"
        "Coverage of the 80% interval (mean over origins and seeds). 'chance in bar if "
        "exact': how often an exactly calibrated 80% interval covers between 75% and 85% "
        "of that many independent test values (binomial; forecasts from one origin are "
        "correlated, so less). Summed: an exactly calibrated interval would be within the "
        f"bar on about {chance.sum():.1f} of these {len(chance)} series.\n\n"
        + shown.to_markdown(floatfmt=["", ".0f"] + [".3f"] * (shown.shape[1] - 1))
        + "\n\nScaled pinball loss (levels 0.1, 0.5, 0.9):\n\n"
        + pinball.to_markdown(floatfmt=".3f")
        + "\n\nSummary over the series:\n\n"
        + summary.to_markdown(floatfmt=".3f")
        + "\n"
    )
    write(text, "calibration.md")


if __name__ == "__main__":
    main()
