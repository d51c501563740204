"""Accuracy and fit time of skresnet's estimators with default parameters, beside baselines.

Series and images: MNIST-1D, the UCR sets bundled with aeon (GunPoint,
ItalyPowerDemand, ArrowHead, OSULeaf, ACSF1; their own train/test splits)
and scikit-learn's digits as 8x8 images (a stratified 75/25 split), against
MLPClassifier, HistGradientBoostingClassifier and published results
(Greydanus 2020; Ismail Fawaz et al. 2019); ours: mean over ``--seeds``.
Small tables: diabetes and Friedman #1 (R^2), iris and make_classification
of several shapes (accuracy), mean over ShuffleSplit(5, test_size=0.3,
random_state=1), every model inside make_pipeline(StandardScaler(), model),
against RidgeCV or LogisticRegression, HistGradientBoosting* and
MLP*(max_iter=1000). fit_s beside every score. The baselines run on 2
torch/OpenMP threads (``--threads``); our fits on one, the default
``skresnet.set_config(fit_threads=1)``.

Run: python benchmarks/accuracy.py   (needs: pip install -e ".[benchmarks]")
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_diabetes, load_iris, make_classification, make_friedman1
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import ShuffleSplit, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skresnet
from skresnet import ResidualMLPRegressor, ResNetClassifier
from skresnet.datasets import load_digits_images, load_mnist1d, load_ucr

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"

PUBLISHED = {
    "MNIST-1D": {"CNN (Greydanus 2020)": 0.94, "MLP (Greydanus 2020)": 0.68},
    "GunPoint": {"ResNet (Ismail Fawaz et al. 2019)": 0.991},
    "ItalyPowerDemand": {"ResNet (Ismail Fawaz et al. 2019)": 0.963},
}


def classification_sets():
    yield "MNIST-1D", load_mnist1d()
    for name in ("GunPoint", "ItalyPowerDemand", "ArrowHead", "OSULeaf", "ACSF1"):
        yield name, load_ucr(name)
    X, y = load_digits_images()
    yield "digits 8x8", tuple(train_test_split(X, y, test_size=0.25, random_state=0, stratify=y))


def table_sets():
    """(name, X, y, task) of the small tables."""
    yield ("diabetes", *load_diabetes(return_X_y=True), "regression")
    yield ("friedman1", *make_friedman1(n_samples=3000, noise=1.0, random_state=0), "regression")
    yield ("iris", *load_iris(return_X_y=True), "classification")
    shapes = [  # rows, features, informative, redundant, classes
        (300, 20, 5, 5, 3),
        (1000, 10, 6, 2, 5),
        (2000, 30, 8, 4, 2),
        (5000, 40, 10, 10, 2),
    ]
    for i, (n, f, inf, red, k) in enumerate(shapes):
        X, y = make_classification(
            n, f, n_informative=inf, n_redundant=red, n_classes=k, flip_y=0.03, random_state=i
        )
        yield (f"classification {n}x{f}, {k} classes", X, y, "classification")


def _fit_score(model, X_tr, X_te, y_tr, y_te, metric):
    start = time.perf_counter()
    model.fit(X_tr, y_tr)
    return metric(model, X_te, y_te), time.perf_counter() - start


def _accuracy(model, X, y):
    return model.score(X, y)


def _evaluate(name, metric, scorer, ours, baselines, data, flat_data, seeds) -> list[dict]:
    """Rows for our estimator over ``seeds`` (on ``data``) and each baseline (on ``flat_data``)."""
    rows = []
    runs = [(f"{ours.__name__} (defaults)", seed, ours(random_state=seed), data) for seed in seeds]
    runs += [(label, 0, model, flat_data) for label, model in baselines.items()]
    for label, seed, model, (X_tr, X_te, y_tr, y_te) in runs:
        score, sec = _fit_score(model, X_tr, X_te, y_tr, y_te, scorer)
        rows.append(
            {
                "data": name,
                "model": label,
                "seed": seed,
                "metric": metric,
                "score": score,
                "fit_s": sec,
            }
        )
        print(rows[-1], flush=True)
    return rows


def run(seeds: list[int], realmlp: bool = False, tables: bool = True) -> pd.DataFrame:
    rows = []
    for name, (X_tr, X_te, y_tr, y_te) in classification_sets():
        flat = (X_tr.reshape(len(X_tr), -1), X_te.reshape(len(X_te), -1), y_tr, y_te)
        baselines = {
            "MLPClassifier": make_pipeline(
                StandardScaler(), MLPClassifier(max_iter=500, random_state=0)
            ),
            "HistGradientBoostingClassifier": HistGradientBoostingClassifier(random_state=0),
        }
        rows += _evaluate(
            name,
            "accuracy",
            _accuracy,
            ResNetClassifier,
            baselines,
            (X_tr, X_te, y_tr, y_te),
            flat,
            seeds,
        )
        for label, acc in PUBLISHED.get(name, {}).items():
            rows.append(
                {
                    "data": name,
                    "model": f"published: {label}",
                    "seed": np.nan,
                    "metric": "accuracy",
                    "score": acc,
                    "fit_s": np.nan,
                }
            )
    if tables:
        rows += run_tables(realmlp)
    return pd.DataFrame(rows)


def _realmlp(task: str):
    """RealMLP-TD (Holzmueller et al. 2024, pytabkit) with its tuned defaults, on CPU."""
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    cls = RealMLP_TD_Regressor if task == "regression" else RealMLP_TD_Classifier
    return lambda seed: cls(random_state=seed, device="cpu", n_threads=2, verbosity=0)


def run_tables(realmlp: bool = False) -> list[dict]:
    rows = []
    for name, X, y, task in table_sets():
        if task == "regression":
            models = {
                "ResidualMLPRegressor (defaults)": lambda seed: ResidualMLPRegressor(
                    random_state=seed
                ),
                "RidgeCV": lambda seed: RidgeCV(),
                "HistGradientBoostingRegressor": lambda seed: HistGradientBoostingRegressor(
                    random_state=seed
                ),
                "MLPRegressor": lambda seed: MLPRegressor(max_iter=1000, random_state=seed),
            }
        else:
            models = {
                "ResNetClassifier (defaults)": lambda seed: ResNetClassifier(random_state=seed),
                "LogisticRegression": lambda seed: LogisticRegression(max_iter=1000),
                "HistGradientBoostingClassifier": lambda seed: HistGradientBoostingClassifier(
                    random_state=seed
                ),
                "MLPClassifier": lambda seed: MLPClassifier(max_iter=1000, random_state=seed),
            }
        if realmlp:
            models["RealMLP-TD (pytabkit)"] = _realmlp(task)
        metric = "R2" if task == "regression" else "accuracy"
        splits = ShuffleSplit(5, test_size=0.3, random_state=1).split(X)
        for split, (train, test) in enumerate(splits):
            for label, make in models.items():
                model = make_pipeline(StandardScaler(), make(split))
                score, sec = _fit_score(model, X[train], X[test], y[train], y[test], _accuracy)
                row = dict(data=name, model=label, seed=split, metric=metric, score=score)
                rows.append({**row, "fit_s": sec})
                print(rows[-1], flush=True)
    return rows


def summarize(raw: pd.DataFrame) -> pd.DataFrame:
    return (
        raw.groupby(["data", "metric", "model"], sort=False)
        .agg(
            score=("score", "mean"),
            score_std=("score", "std"),
            fit_s=("fit_s", "mean"),
            runs=("score", "size"),
        )
        .reset_index()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--from-csv", action="store_true", help="rebuild the table from accuracy_raw.csv"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--tables-only",
        action="store_true",
        help="rerun the small tables only, keeping the other rows of accuracy_raw.csv",
    )
    parser.add_argument(
        "--series-only",
        action="store_true",
        help="rerun the series and images only, keeping the tables' rows of accuracy_raw.csv",
    )
    parser.add_argument(
        "--realmlp",
        action="store_true",
        help="add RealMLP-TD (pytabkit, in the benchmarks extra) to the tables (slow)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    raw_path = OUT / "accuracy_raw.csv"
    partial = args.tables_only or args.series_only
    if args.from_csv and not partial:
        raw = pd.read_csv(raw_path)
    else:
        seeds = list(range(args.seeds))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if args.tables_only:
                raw = pd.DataFrame(run_tables(args.realmlp))
            else:
                raw = run(seeds, args.realmlp, tables=not args.series_only)
        if partial:  # keep the other part's rows from the last run, series first
            old = pd.read_csv(raw_path)
            rest = old[~old["data"].isin(raw["data"])]
            parts = [rest, raw] if args.tables_only else [raw, rest]
            raw = pd.concat(parts, ignore_index=True)
        OUT.mkdir(parents=True, exist_ok=True)
        raw.to_csv(raw_path, index=False)
    table = summarize(raw)
    header = (
        f"Test scores with default hyperparameters, CPU; ours on "
        f"{skresnet.get_config()['fit_threads']} torch thread(s) (the default fit_threads), "
        f"baselines on {torch.get_num_threads()}; series and images: ours over "
        f"{args.seeds} seed(s), baselines once; "
        "tables: every model over the same 5 ShuffleSplit splits. score: mean, score_std: "
        "std; fit_s: mean fit time in seconds. Accuracy and R2: higher is better.\n\n"
    )
    (OUT / "accuracy.md").write_text(header + table.to_markdown(index=False, floatfmt=".3f") + "\n")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
