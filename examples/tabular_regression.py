"""# Tabular regression: a residual MLP at the end of a Pipeline

Friedman's regression problem with a categorical column, prepared by a
`ColumnTransformer` (one-hot codes and standard scaling) and fitted by
`ResidualMLPRegressor` with its defaults: a ridge solution as the linear
start, residual blocks that learn what the linear model misses, early
stopping on a validation fifth. `RidgeCV` on the same features is the
baseline; scikit-learn's `PredictionErrorDisplay` shows both on the test set,
`plot_history` the training curves.

Run: `python examples/tabular_regression.py`
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_friedman1
from sklearn.linear_model import RidgeCV
from sklearn.metrics import PredictionErrorDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skresnet import ResidualMLPRegressor, plot_history

# The docs' fast build sets SKRESNET_EXAMPLES_FAST=1: a few epochs, not the default budget.
EPOCHS = 5 if os.environ.get("SKRESNET_EXAMPLES_FAST") else "auto"

# %%
# A table with nine numeric columns and a region, whose level shifts the target.
X, y = make_friedman1(n_samples=2000, noise=1.0, random_state=0)
table = pd.DataFrame(X[:, 1:], columns=[f"x{i}" for i in range(1, 10)])
table["region"] = np.where(X[:, 0] > 0.5, "north", "south")
y = y + np.where(table["region"] == "north", 3.0, 0.0)
X_train, X_test, y_train, y_test = train_test_split(table, y, test_size=0.3, random_state=0)

prepare = ColumnTransformer(
    [
        ("region", OneHotEncoder(), ["region"]),
        ("numbers", StandardScaler(), [f"x{i}" for i in range(1, 10)]),
    ]
)
models = {
    "RidgeCV": make_pipeline(prepare, RidgeCV()),
    "ResidualMLPRegressor": make_pipeline(
        prepare, ResidualMLPRegressor(max_epochs=EPOCHS, random_state=0)
    ),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"{name:>20}: test R2 {model.score(X_test, y_test):.3f}")
mlp = models["ResidualMLPRegressor"][-1]
print(
    f"trained {mlp.n_iter_} epochs of batch {mlp.batch_size_}; "
    f"best validation R2 {mlp.best_validation_score_:.3f}"
)

# %%
# Predicted against actual on the test set, and the training curves.
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
for ax, (name, model) in zip(axes[:2], models.items(), strict=True):
    PredictionErrorDisplay.from_estimator(
        model, X_test, y_test, kind="actual_vs_predicted", ax=ax, scatter_kwargs={"s": 8}
    )
    ax.set_title(name)
plot_history(mlp, ax=axes[2])
axes[2].set_title("ResidualMLPRegressor training")
fig.tight_layout()
plt.show()
