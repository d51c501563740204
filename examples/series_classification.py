"""# Series classification: GunPoint with a 1-D ResNet in a Pipeline

GunPoint (UCR, bundled in aeon) arrives as flat rows. `RowStandardScaler`
z-normalizes each series (the UCR convention) and `input_shape=(1, 150)`
lets `ResNetClassifier` see every row as a one-channel series of length
150, for the 1-D ResNet of Wang et al. (2017).

Run: `python examples/series_classification.py` (needs the `[benchmarks]`
extra for aeon's copy of the data)
"""

import os
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from skresnet import ResNetClassifier, plot_history
from skresnet.datasets import load_ucr
from skresnet.timeseries import RowStandardScaler

# The docs' fast build sets SKRESNET_EXAMPLES_FAST=1: a few epochs, not the default budget.
EPOCHS = 10 if os.environ.get("SKRESNET_EXAMPLES_FAST") else "auto"

X_train, X_test, y_train, y_test = load_ucr("GunPoint")
X_train, X_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
print(f"{len(X_train)} training and {len(X_test)} test series of length {X_train.shape[1]}")

# %%
# Fit the pipeline and score it on the official test split.
pipe = make_pipeline(
    RowStandardScaler(),
    ResNetClassifier(input_shape=(1, 150), max_epochs=EPOCHS, random_state=0),
)
start = time.perf_counter()
pipe.fit(X_train, y_train)
print(
    f"GunPoint test accuracy {pipe.score(X_test, y_test):.3f} "
    f"(fit {time.perf_counter() - start:.0f} s, {pipe[-1].n_iter_} epochs)"
)

# %%
# Three training series of each class, and the training curves.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for color, label in zip(("C0", "C3"), np.unique(y_train), strict=True):
    rows = X_train[y_train == label][:3]
    for i, row in enumerate(rows):
        left.plot(row, color=color, alpha=0.7, label=f"class {label}" if i == 0 else None)
left.set_xlabel("time step")
left.set_title("GunPoint training series")
left.legend()
plot_history(pipe, ax=right)
right.set_title("training")
fig.tight_layout()
plt.show()
