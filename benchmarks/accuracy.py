"""Accuracy of skresnet's estimators with default parameters, beside baselines and papers.

Classification: MNIST-1D, UCR GunPoint and ItalyPowerDemand (their own
train/test splits) and scikit-learn's digits as 8x8 images (a stratified
75/25 split), against MLPClassifier, HistGradientBoostingClassifier and the
published results (Greydanus 2020; Ismail Fawaz et al. 2019). Regression:
diabetes and Friedman #1 (75/25 splits), RMSE against MLPRegressor,
HistGradientBoostingRegressor and Ridge. Our estimators run with their
defaults (only the 1-D/2-D layout of the data is given), mean over 3 seeds;
fit time beside every number.

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
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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
    for name in ("GunPoint", "ItalyPowerDemand"):
        yield name, load_ucr(name)
    X, y = load_digits_images()
    yield "digits 8x8", tuple(train_test_split(X, y, test_size=0.25, random_state=0, stratify=y))


def regression_sets():
    X, y = load_diabetes(return_X_y=True)
    yield "diabetes", tuple(train_test_split(X, y, test_size=0.25, random_state=0))
    X, y = make_friedman1(n_samples=2000, noise=1.0, random_state=0)
    yield "friedman1", tuple(train_test_split(X, y, test_size=0.25, random_state=0))


def _fit_score(model, X_tr, X_te, y_tr, y_te, metric):
    start = time.perf_counter()
    model.fit(X_tr, y_tr)
    return metric(model, X_te, y_te), time.perf_counter() - start


def _accuracy(model, X, y):
    return model.score(X, y)


def _rmse(model, X, y):
    return root_mean_squared_error(y, model.predict(X))


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


def run(seeds: list[int]) -> pd.DataFrame:
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
    for name, (X_tr, X_te, y_tr, y_te) in regression_sets():
        scaler = StandardScaler().fit(X_tr)
        data = (scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te)
        baselines = {
            "MLPRegressor": MLPRegressor(max_iter=1000, random_state=0),
            "HistGradientBoostingRegressor": HistGradientBoostingRegressor(random_state=0),
            "Ridge": Ridge(),
        }
        rows += _evaluate(name, "RMSE", _rmse, ResidualMLPRegressor, baselines, data, data, seeds)
    return pd.DataFrame(rows)


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
    args = parser.parse_args()
    if args.from_csv:
        raw = pd.read_csv(OUT / "accuracy_raw.csv")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            raw = run(list(range(args.seeds)))
        OUT.mkdir(parents=True, exist_ok=True)
        raw.to_csv(OUT / "accuracy_raw.csv", index=False)
    table = summarize(raw)
    header = (
        f"Test scores with default hyperparameters, CPU, {torch.get_num_threads()} torch "
        f"thread(s); ours: mean (and std) over {int(raw['seed'].max()) + 1} seeds; "
        "fit_s: mean fit time in seconds. Accuracy: higher is better; RMSE: lower is better.\n\n"
    )
    (OUT / "accuracy.md").write_text(header + table.to_markdown(index=False, floatfmt=".3f") + "\n")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
