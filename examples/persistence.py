"""# Persistence: save a fitted pipeline with joblib, skops and ONNX, and load it back

A `Pipeline` ending in `ResidualMLPRegressor` is fitted once and saved
three ways: joblib (a pickle), skops (a format that runs no code on load,
with the types it asks you to trust listed first) and ONNX (served by
onnxruntime, without PyTorch). Each copy is loaded back and its predictions
are compared with the original's. The files go to a temporary folder that
is removed at the end.

Run: `python examples/persistence.py` (needs the `[skops]` and `[onnx]` extras)
"""

import os
import tempfile
import time
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
import skops.io as sio
from sklearn.datasets import make_friedman1
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skresnet import ResidualMLPRegressor
from skresnet.onnx import to_onnx

# The docs' fast build sets SKRESNET_EXAMPLES_FAST=1: a few epochs, not the default budget.
EPOCHS = 5 if os.environ.get("SKRESNET_EXAMPLES_FAST") else "auto"

X, y = make_friedman1(n_samples=2000, noise=1.0, random_state=0)
X_new = make_friedman1(n_samples=500, random_state=1)[0]
pipe = make_pipeline(StandardScaler(), ResidualMLPRegressor(max_epochs=EPOCHS, random_state=0))
pipe.fit(X, y)
expected = pipe.predict(X_new)

# %%
# Save, load and predict, three ways.
folder = tempfile.TemporaryDirectory()
path = Path(folder.name)


def with_joblib():
    joblib.dump(pipe, path / "model.joblib")
    return joblib.load(path / "model.joblib").predict(X_new), path / "model.joblib"


def with_skops():
    sio.dump(pipe, path / "model.skops")
    untrusted = sio.get_untrusted_types(file=path / "model.skops")
    print("skops asks to trust:", untrusted)  # only skresnet's own classes
    model = sio.load(path / "model.skops", trusted=untrusted)
    return model.predict(X_new), path / "model.skops"


def with_onnx():
    onx = to_onnx(pipe, X[:2].astype(np.float32))
    (path / "model.onnx").write_bytes(onx.SerializeToString())
    session = ort.InferenceSession(path / "model.onnx", providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: X_new.astype(np.float32)})[0].ravel(), path / "model.onnx"


rows = {}
for label, save_and_load in (("joblib", with_joblib), ("skops", with_skops), ("ONNX", with_onnx)):
    start = time.perf_counter()
    predicted, file = save_and_load()
    rows[label] = {
        "size_kb": file.stat().st_size / 1024,
        "max_abs_diff": float(np.abs(predicted - expected).max()),
        "round_trip_s": time.perf_counter() - start,
        "predicted": predicted,
    }
    print(
        f"{label:>7}: {rows[label]['size_kb']:7.1f} kB, largest difference from the original "
        f"{rows[label]['max_abs_diff']:.1e}, "
        f"save + load + predict {rows[label]['round_trip_s']:.2f} s"
    )
folder.cleanup()

# %%
# joblib and skops give the original's predictions exactly, ONNX Runtime within
# float32 rounding. The joblib and skops files are larger: they keep the
# optimizer's state, so that a loaded model can go on training (warm_start).
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for label, row in rows.items():
    left.scatter(expected, row["predicted"] - expected, s=6, label=label)
left.set_xlabel("original prediction")
left.set_ylabel("loaded copy minus original")
left.legend()
right.bar(list(rows), [row["size_kb"] for row in rows.values()], color=["C0", "C1", "C2"])
right.set_ylabel("file size (kB)")
fig.suptitle("the same pipeline, saved three ways")
fig.tight_layout()
plt.show()
