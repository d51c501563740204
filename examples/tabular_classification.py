"""# Tabular classification: churn from mixed columns, with calibrated probabilities

A synthetic churn table of 4000 customers, numeric and categorical columns,
classified by `ResNetClassifier` (a residual MLP on tables) and by
`HistGradientBoostingClassifier`, each after its usual preparation. The
defaults hold out a fifth for early stopping and smooth the labels, so the
probabilities stay calibrated: scikit-learn's `CalibrationDisplay` and
`RocCurveDisplay` compare both on the test set.

Run: `python examples/tabular_classification.py`
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.calibration import CalibrationDisplay
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import RocCurveDisplay, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skresnet import ResNetClassifier

# The docs' fast build sets SKRESNET_EXAMPLES_FAST=1: a few epochs, not the default budget.
EPOCHS = 5 if os.environ.get("SKRESNET_EXAMPLES_FAST") else "auto"

# %%
# Customers: tenure, monthly charge, support calls, contract and payment method.
rng = np.random.default_rng(0)
n = 4000
table = pd.DataFrame(
    {
        "tenure_months": rng.integers(1, 72, n),
        "monthly_charge": rng.normal(70, 20, n).round(2),
        "support_calls": rng.poisson(1.5, n),
        "contract": rng.choice(["monthly", "yearly", "two-year"], n, p=[0.55, 0.3, 0.15]),
        "payment": rng.choice(["card", "transfer", "cheque"], n),
    }
)
risk = (
    -1.0
    - 0.04 * table["tenure_months"]
    + 0.02 * (table["monthly_charge"] - 70)
    + 0.5 * table["support_calls"]
    + table["contract"].map({"monthly": 1.2, "yearly": 0.0, "two-year": -1.0})
    + 0.4 * (table["payment"] == "cheque")
    + 0.3 * np.sin(table["tenure_months"] / 6)
)
churned = rng.random(n) < 1 / (1 + np.exp(-risk))
X_train, X_test, y_train, y_test = train_test_split(
    table, churned, test_size=0.3, random_state=0, stratify=churned
)
numbers = ["tenure_months", "monthly_charge", "support_calls"]
categories = ["contract", "payment"]
models = {
    "ResNetClassifier": make_pipeline(
        ColumnTransformer(
            [("num", StandardScaler(), numbers), ("cat", OneHotEncoder(), categories)]
        ),
        ResNetClassifier(max_epochs=EPOCHS, random_state=0),
    ),
    "HistGradientBoosting": HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=0
    ),
}
X_hgb_train = X_train.astype({c: "category" for c in categories})
X_hgb_test = X_test.astype({c: "category" for c in categories})
inputs = {"ResNetClassifier": (X_train, X_test), "HistGradientBoosting": (X_hgb_train, X_hgb_test)}
for name, model in models.items():
    train, test = inputs[name]
    model.fit(train, y_train)
    proba = model.predict_proba(test)[:, 1]
    print(
        f"{name:>20}: accuracy {model.score(test, y_test):.3f}, log loss "
        f"{log_loss(y_test, proba):.3f}, probabilities in [{proba.min():.3f}, {proba.max():.3f}]"
    )

# %%
# Calibration and ROC curves on the test set.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
for name, model in models.items():
    test = inputs[name][1]
    CalibrationDisplay.from_estimator(model, test, y_test, n_bins=10, ax=left, name=name)
    RocCurveDisplay.from_estimator(model, test, y_test, ax=right, name=name)
left.set_title("calibration")
right.set_title("ROC")
fig.tight_layout()
plt.show()
