"""Training throughput of skresnet against a hand-written PyTorch loop and plain skorch.

Every case trains the same module (the network our estimator builds at its
defaults for the case's shape) with the same optimizer (fused AdamW), batch
size, epochs and device three ways, in one process:

- loop: tensors already on the device, ``randperm`` batches, nothing else;
- ours: the skresnet estimator's ``fit`` (validation and setup included);
- skorch: plain ``NeuralNetClassifier``/``NeuralNetRegressor`` with its
  default ``DataLoader``.

Our fit does what the defaults do around the training loop, which the loop
does not: the linear start (with the forecaster's seasonal-prior search) and
early stopping, which scores held-out rows each epoch and trains on the
others. The forecaster's statistical member (``ets``) is off.

Ratios are taken within each repeat (the machines are shared and noisy), the
loop and our fit run in alternating order, and the median over repeats is
reported. On CPU the convolutional cases use
fewer samples than docs/benchmarks/protocol.md lists (``--full`` restores them), because
an epoch of a 1-D ResNet on 10k series of length 512 takes minutes on two
cores; the ratio does not depend on the sample count.

Columns ``ours_bf16_over_loop`` and ``ours_compile_over_loop`` time our fit
with ``precision="bf16"`` and with ``compile=True`` against the same float32
eager loop: what mixed precision and compilation buy (or cost) on the device.

Run: python benchmarks/speed.py [--device cuda] [--repeats 3] [--full] [--cases tcn ...]
(``--cases tcn-lstm`` writes docs/benchmarks/tcn_lstm_<device>.md: the TCN against an
LSTM by batch size and lookback.)
     [--variants bf16 compile]
(``--cases gridsearch`` writes docs/benchmarks/gridsearch_cpu.md: n_jobs=1 vs 2.)
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GridSearchCV
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import Callback
from torch import nn

import skresnet
from skresnet import ResidualMLPRegressor, ResNetClassifier, TCNForecaster
from skresnet.modules import TCNForecastNet, levels_for_lookback

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


@dataclass
class Case:
    name: str
    shape: tuple
    n_full: int
    n_cpu: int
    batch_size: int
    epochs: int
    task: str  # "classification" or "forecast"

    def module(self, X, y, device: str) -> nn.Module:
        """The network our fit builds on ``X``, ``y`` at its defaults (a copy; the first
        network of an average), so that the loop and skorch train what ours trains."""
        est = self.estimator(device).fit(X, y)
        module = getattr(est.module_, "_orig_mod", est.module_)
        return copy.deepcopy(getattr(module, "networks", [module])[0]).to(device)

    def estimator(self, device: str, **options):
        common = dict(
            max_epochs=self.epochs,
            batch_size=self.batch_size,
            device=device,
            random_state=0,
            **options,
        )
        if self.task == "forecast":
            # The statistical member (Holt-Winters and Theta fitted per window) is
            # not a network and the loop has none: off, so that both train a TCN.
            return TCNForecaster(ets=False, **common)
        return ResNetClassifier(**common)


CASES = [
    Case("mlp-b256", (64,), 100_000, 100_000, 256, 1, "classification"),
    Case("mlp-b2048", (64,), 100_000, 100_000, 2048, 4, "classification"),
    Case("resnet1d", (1, 512), 10_000, 256, 64, 1, "classification"),
    Case("tcn", (256,), 20_000, 8192, 64, 1, "forecast"),
    Case("resnet2d", (3, 32, 32), 10_000, 1024, 128, 1, "classification"),
]


def make_data(case: Case, n: int, rng: np.random.Generator):
    X = rng.normal(size=(n, *case.shape)).astype(np.float32)
    if case.task == "forecast":
        return X, rng.normal(size=(n, 24)).astype(np.float32)
    return X, rng.integers(0, 10, size=n)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def hand_loop(module, X, y, case: Case, device: str) -> float:
    """The reference: data on the device once, randperm batches, fused AdamW."""
    torch.manual_seed(0)
    module = module.to(device)
    opt = torch.optim.AdamW(module.parameters(), lr=1e-3, weight_decay=1e-4, fused=True)
    forecast = case.task == "forecast"
    Xt = torch.from_numpy(X).to(device)
    if forecast and Xt.ndim == 2:
        Xt = Xt.unsqueeze(-1)
    yt = torch.as_tensor(y).to(device)
    loss_fn = nn.functional.mse_loss if forecast else nn.functional.cross_entropy
    _sync(device)
    start = time.perf_counter()
    module.train()
    for _ in range(case.epochs):
        perm = torch.randperm(len(Xt), device=device)
        for i in range(0, len(Xt), case.batch_size):
            idx = perm[i : i + case.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(module(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    _sync(device)
    return time.perf_counter() - start


def ours(X, y, case: Case, device: str, **options) -> float:
    est = case.estimator(device, **options)
    _sync(device)
    start = time.perf_counter()
    est.fit(X, y)
    _sync(device)
    return time.perf_counter() - start


class _NLC(nn.Module):
    """Adds the channel axis skorch's DataLoader does not know about."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x.unsqueeze(-1))


def plain_skorch(module, X, y, case: Case, device: str) -> float:
    forecast = case.task == "forecast"
    cls = NeuralNetRegressor if forecast else NeuralNetClassifier
    kwargs = {} if forecast else {"criterion": nn.CrossEntropyLoss}
    net = cls(
        module=_NLC(module) if forecast else module,
        optimizer=torch.optim.AdamW,
        optimizer__fused=True,
        optimizer__weight_decay=1e-4,
        lr=1e-3,
        batch_size=case.batch_size,
        max_epochs=case.epochs,
        train_split=None,
        iterator_train__shuffle=True,
        device=device,
        verbose=0,
        **kwargs,
    )
    _sync(device)
    start = time.perf_counter()
    net.fit(X, y)
    _sync(device)
    return time.perf_counter() - start


def lstm_loop(X, y, case: Case, device: str) -> float:
    """A 2-layer LSTM forecaster of similar size to the TCN, in a hand loop."""
    return hand_loop(_LSTMForecaster(), X, y, case, device)


def _step_time(module, X, y, batch_size: int, device: str, steps: int = 4) -> float:
    """Seconds per optimizer step (MSE, AdamW), after one warm-up step."""
    torch.manual_seed(0)
    module = module.to(device).train()
    opt = torch.optim.AdamW(module.parameters(), lr=1e-3)
    Xb, yb = X[:batch_size].to(device), y[:batch_size].to(device)

    def step():
        opt.zero_grad(set_to_none=True)
        nn.functional.mse_loss(module(Xb), yb).backward()
        opt.step()

    step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - start) / steps


def _ops_per_step(module, X, y, batch_size: int) -> int:
    """Operator calls in one training step, counted by torch's profiler (CPU)."""
    from torch.profiler import ProfilerActivity, profile

    module = module.train()
    opt = torch.optim.AdamW(module.parameters(), lr=1e-3)
    Xb, yb = X[:batch_size], y[:batch_size]
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        opt.zero_grad(set_to_none=True)
        nn.functional.mse_loss(module(Xb), yb).backward()
        opt.step()
    return sum(1 for e in prof.events() if e.name.startswith("aten::"))


class _LSTMForecaster(nn.Module):
    """A 2-layer LSTM forecaster of about the TCN's size: the last state to 24 outputs."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 48, num_layers=2, batch_first=True)
        self.head = nn.Linear(48, 24)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


def tcn_lstm_rows(device: str) -> pd.DataFrame:
    """Windows/s of a training step, TCN over LSTM, by batch size and lookback."""
    rows = []
    for lookback in (256, 1024):
        for batch_size in (64, 256, 1024):
            rng = np.random.default_rng(0)
            X = torch.from_numpy(rng.normal(size=(batch_size, lookback, 1)).astype(np.float32))
            y = torch.from_numpy(rng.normal(size=(batch_size, 24)).astype(np.float32))
            tcn = TCNForecastNet(
                1, 24, channels=32, n_levels=levels_for_lookback(lookback, 3), dropout=0.1
            )
            t_tcn = _step_time(tcn, X, y, batch_size, device)
            t_lstm = _step_time(_LSTMForecaster(), X, y, batch_size, device)
            row = {
                "lookback": lookback,
                "batch_size": batch_size,
                "tcn_windows_per_s": batch_size / t_tcn,
                "lstm_windows_per_s": batch_size / t_lstm,
                "tcn_over_lstm": t_lstm / t_tcn,
                "tcn_params": sum(p.numel() for p in tcn.parameters()),
                "lstm_params": sum(p.numel() for p in _LSTMForecaster().parameters()),
                "tcn_ops_per_step": _ops_per_step(tcn, X, y, batch_size),
                "lstm_ops_per_step": _ops_per_step(_LSTMForecaster(), X, y, batch_size),
            }
            rows.append(row)
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
    return pd.DataFrame(rows)


# Training options compared against the float32 eager loop, as extra columns.
VARIANTS = {"bf16": {"precision": "bf16"}, "compile": {"compile": True}}


def run(
    device: str, repeats: int, full: bool, names: list[str], variants: list[str]
) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for case in (c for c in CASES if c.name in names):
        n = case.n_full if (full or device != "cpu") else case.n_cpu
        X, y = make_data(case, n, rng)
        samples = n * case.epochs
        # Warm-up fits; for compile=True this fills the compiler's cache, so
        # the timed fits cost what the second fit of a grid search costs.
        small = X[: case.batch_size * 2], y[: case.batch_size * 2]
        network = case.module(*small, device=device)  # also the default fit's warm-up
        for v in variants:
            ours(*small, case, device, **VARIANTS[v])
        for rep in range(repeats):
            # Alternate which of the two runs first, so that a drift in the
            # shared machine's speed does not always favour the same side.
            if rep % 2:
                t_ours = ours(X, y, case, device)
                t_loop = hand_loop(copy.deepcopy(network), X, y, case, device)
            else:
                t_loop = hand_loop(copy.deepcopy(network), X, y, case, device)
                t_ours = ours(X, y, case, device)
            t_skorch = plain_skorch(copy.deepcopy(network), X, y, case, device)
            row = {
                "case": case.name,
                "repeat": rep,
                "n_samples": n,
                "batch_size": case.batch_size,
                "loop_samples_per_s": samples / t_loop,
                "ours_over_loop": t_loop / t_ours,
                "skorch_over_loop": t_loop / t_skorch,
            }
            for v in variants:
                row[f"ours_{v}_over_loop"] = t_loop / ours(X, y, case, device, **VARIANTS[v])
            if case.task == "forecast":
                row["ours_over_lstm_loop"] = lstm_loop(X[:, :, None], y, case, device) / t_ours
            rows.append(row)
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
    return pd.DataFrame(rows)


class _AllCoresPerWorker(Callback):
    """Undoes loky's per-worker thread limit: every fit uses one thread per core."""

    def on_train_begin(self, net, **kwargs):
        self.threads_ = torch.get_num_threads()
        torch.set_num_threads(os.cpu_count())

    def on_train_end(self, net, **kwargs):
        torch.set_num_threads(self.threads_)  # loky reuses its workers


def grid_search_rows(repeats: int) -> pd.DataFrame:
    """Wall time of one GridSearchCV with n_jobs=1 and n_jobs=2, against n_jobs=1.

    ``n_jobs=2`` runs as users get it (loky limits each worker to
    ``cpu_count() // 2`` threads) and oversubscribed (each worker forced
    back to one thread per core), to show what the limit buys.
    """
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 32)).astype(np.float32)
    y = X[:, :4].sum(axis=1) + 0.1 * rng.normal(size=len(X))
    grid = {"width": [64, 128], "dropout": [0.0, 0.1]}
    settings = {
        "n_jobs=1": (1, None),
        "n_jobs=2": (2, None),
        "n_jobs=2, all cores per worker": (2, [_AllCoresPerWorker()]),
    }
    rows = []
    for rep in range(repeats):
        seconds = {}
        for label, (n_jobs, callbacks) in settings.items():
            est = ResidualMLPRegressor(max_epochs=3, random_state=0, callbacks=callbacks)
            search = GridSearchCV(est, grid, cv=3, n_jobs=n_jobs)
            start = time.perf_counter()
            search.fit(X, y)
            seconds[label] = time.perf_counter() - start
        for label, t in seconds.items():
            rows.append(
                {"search": label, "repeat": rep, "seconds": t, "speedup": seconds["n_jobs=1"] / t}
            )
            print(rows[-1])
    raw = pd.DataFrame(rows)
    return raw.groupby("search", sort=False)[["seconds", "speedup"]].median()


def summarize(raw: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in raw if c.endswith("_over_loop") or c == "ours_over_lstm_loop"]
    return raw.groupby("case", sort=False).agg(
        {"n_samples": "first", "batch_size": "first", "loop_samples_per_s": "median"}
        | {c: "median" for c in cols}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--full", action="store_true", help="the sample counts of docs/benchmarks/protocol.md"
    )
    names = [c.name for c in CASES] + ["gridsearch", "tcn-lstm"]
    parser.add_argument("--cases", nargs="+", default=names, choices=names)
    parser.add_argument(
        "--variants",
        nargs="*",
        default=list(VARIANTS),
        choices=list(VARIANTS),
        help="training options timed as extra columns (ours with the option / float32 loop)",
    )
    args = parser.parse_args()
    # Our fits and the hand-written loops on the same thread count: torch's.
    skresnet.set_config(fit_threads=None)
    tag = args.device.replace(":", "")
    OUT.mkdir(parents=True, exist_ok=True)
    if args.device == "cpu" and "gridsearch" in args.cases:
        searches = grid_search_rows(args.repeats)
        text = (
            f"GridSearchCV over 4 ResidualMLPRegressor settings x 3 folds (20,000 x 32 rows, "
            f"3 epochs), {os.cpu_count()} cores, median of {args.repeats}; speedup over "
            "n_jobs=1. The last row forces every worker back to one thread per core, "
            "what the default per-worker limit avoids.\n\n" + searches.to_markdown(floatfmt=".3f")
        )
        (OUT / "gridsearch_cpu.md").write_text(text + "\n")
        print(text)
    if "tcn-lstm" in args.cases:
        grid = tcn_lstm_rows(args.device)
        text = (
            f"One training step (AdamW, MSE, 24 outputs) of the TCN (32 channels, levels "
            f"covering the lookback) and of a 2-layer LSTM (48 units), device={args.device}, "
            f"{torch.get_num_threads()} threads, mean of 4 steps after a warm-up; "
            "tcn_over_lstm > 1: the TCN trains more windows per second. Operator calls "
            "per step counted by torch.profiler (aten:: events, forward, backward and "
            "optimizer).\n\n" + grid.to_markdown(index=False, floatfmt=".3f")
        )
        (OUT / f"tcn_lstm_{tag}.md").write_text(text + "\n")
        print(text)
    raw = run(args.device, args.repeats, args.full, args.cases, args.variants)
    if raw.empty:
        return
    table = summarize(raw)
    raw.to_csv(OUT / f"speed_{tag}_raw.csv", index=False)
    header = (
        f"Training throughput, device={args.device}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads, median of {args.repeats} repeats; "
        "ratios > 1 mean faster than the hand-written loop.\n\n"
    )
    text = header + table.to_markdown(floatfmt=".3f") + "\n"
    (OUT / f"speed_{tag}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
