"""Single-row predict latency and batch predict throughput on CPU.

Compares ResidualMLPRegressor.predict with scikit-learn's MLPRegressor.predict
and a bare ``module(x)`` call of the same trained network, all in one
process; medians over many calls.

Run: python benchmarks/latency.py
"""

from __future__ import annotations

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


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 64))
    y = X[:, :8].sum(axis=1)
    ours = ResidualMLPRegressor(max_epochs=1, device="cpu", random_state=0).fit(X, y)
    sk = MLPRegressor(hidden_layer_sizes=(128, 128), max_iter=1, random_state=0).fit(X, y)
    module = ours.module_.eval()
    row = X[:1]
    row_t = torch.from_numpy(row.astype(np.float32))

    def bare():
        with torch.inference_mode():
            return module(row_t)

    rows = [
        {"model": "ResidualMLPRegressor.predict", "latency_us": 1e6 * median_seconds(lambda: ours.predict(row), 2000)},
        {"model": "MLPRegressor.predict", "latency_us": 1e6 * median_seconds(lambda: sk.predict(row), 2000)},
        {"model": "bare module(x)", "latency_us": 1e6 * median_seconds(bare, 2000)},
    ]
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
        f"Single-row predict latency (median of 2000 calls) and batch predict "
        f"throughput on 20,000 x 64 rows, CPU, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads. Our network: 2 residual blocks of width 128; "
        "MLPRegressor: hidden (128, 128).\n\n"
    )
    (OUT / "latency_cpu.md").write_text(header + table.to_markdown(floatfmt=".1f") + "\n")
    print(table.to_string(float_format=lambda v: f"{v:.1f}"))


if __name__ == "__main__":
    main()
