"""Single-row predict latency and batch predict throughput on CPU.

Compares ResidualMLPRegressor.predict with scikit-learn's MLPRegressor.predict
and a bare ``module(x)`` call of the same trained network, on one row and on
the row padded to the 4 rows our CPU predict runs (so a row's output does not
depend on the batch size), all in one process. Blocks of calls alternate
between the four, so machine noise hits every row of the table alike.

Run: python benchmarks/latency.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.neural_network import MLPRegressor

from skresnet import ResidualMLPRegressor

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


def median_seconds(fn, repeats: int) -> float:
    for _ in range(10):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def alternating_median_us(fns: dict, rounds: int = 15, block: int = 200) -> dict:
    """Median microseconds per call of each callable.

    Each round times ``block`` back-to-back calls of every callable in turn
    (after a few warm-up calls), so each is measured warm, as in a loop of
    requests, while machine noise is spread over all of them alike.
    """
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(20):
                fn()
            for _ in range(block):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: 1e6 * statistics.median(t) for name, t in times.items()}


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 64))
    y = X[:, :8].sum(axis=1)
    ours = ResidualMLPRegressor(max_epochs=1, device="cpu", random_state=0).fit(X, y)
    sk = MLPRegressor(hidden_layer_sizes=(128, 128), max_iter=1, random_state=0).fit(X, y)
    module = ours.module_.eval()
    row = X[:1]
    row_t = torch.from_numpy(row.astype(np.float32))
    padded_t = row_t.expand(ours.net_.row_multiple, -1).contiguous()

    def bare(x):
        def call():
            with torch.inference_mode():
                return module(x)

        return call

    latency = alternating_median_us(
        {
            "ResidualMLPRegressor.predict": lambda: ours.predict(row),
            "MLPRegressor.predict": lambda: sk.predict(row),
            "bare module(x), 1 row": bare(row_t),
            f"bare module(x), {len(padded_t)} rows": bare(padded_t),
        }
    )
    rows = [{"model": name, "latency_us": us} for name, us in latency.items()]
    batch = {
        "ResidualMLPRegressor.predict": median_seconds(lambda: ours.predict(X), 5),
        "MLPRegressor.predict": median_seconds(lambda: sk.predict(X), 5),
    }
    for r in rows:
        if r["model"] in batch:
            r["batch_rows_per_s"] = len(X) / batch[r["model"]]
    table = pd.DataFrame(rows).set_index("model")
    ref = table.loc["MLPRegressor.predict", "latency_us"]
    table["latency_over_MLPRegressor"] = table["latency_us"] / ref
    OUT.mkdir(parents=True, exist_ok=True)
    header = (
        "Single-row predict latency (median of 15 rounds of 200 calls, the four "
        "alternating) and batch predict throughput on 20,000 x 64 rows, CPU, "
        f"torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads. Our network: 2 residual blocks of width 128; "
        "MLPRegressor: hidden (128, 128).\n\n"
    )
    (OUT / "latency_cpu.md").write_text(header + table.to_markdown(floatfmt=".1f") + "\n")
    print(table.to_string(float_format=lambda v: f"{v:.1f}"))


if __name__ == "__main__":
    main()
