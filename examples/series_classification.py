"""Series classification in a 2-D Pipeline: per-series z-normalization, then a 1-D ResNet.

GunPoint (UCR, bundled in aeon) arrives as flat rows; RowStandardScaler
z-normalizes each series (the UCR convention) and ``input_shape=(1, 150)``
lets ResNetClassifier see every row as a one-channel series of length 150.

Run: python examples/series_classification.py   (needs: pip install -e ".[benchmarks]")
"""

import time

from sklearn.pipeline import make_pipeline

from skresnet import ResNetClassifier
from skresnet.datasets import load_ucr
from skresnet.timeseries import RowStandardScaler

X_train, X_test, y_train, y_test = load_ucr("GunPoint")
X_train, X_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)

pipe = make_pipeline(RowStandardScaler(), ResNetClassifier(input_shape=(1, 150), random_state=0))
start = time.perf_counter()
pipe.fit(X_train, y_train)
print(
    f"GunPoint test accuracy {pipe.score(X_test, y_test):.3f} "
    f"(fit {time.perf_counter() - start:.0f} s)"
)
