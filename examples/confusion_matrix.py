"""# Images: which digits a ResNet confuses

Handwritten digits as 8x8 images, classified by a ResNet-20 (He et al.
2016) with the default budget and scored on a held-out quarter.
scikit-learn's `ConfusionMatrixDisplay` draws what it confuses, beside the
training curves from `plot_history`. With `--plot PATH` the figure is also
saved.

Run: `python examples/confusion_matrix.py [--plot digits.png]`
"""

import argparse
import os

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix
from sklearn.model_selection import train_test_split

from skresnet import ResNetClassifier, plot_history
from skresnet.datasets import load_digits_images

# The docs' fast build sets SKRESNET_EXAMPLES_FAST=1: a few epochs, not the default budget.
EPOCHS = 3 if os.environ.get("SKRESNET_EXAMPLES_FAST") else "auto"

parser = argparse.ArgumentParser()
parser.add_argument("--plot", help="also save the figure here")
args = parser.parse_args()

# %%
# Images arrive as (n, 1, 8, 8): the shape picks the 2-D ResNet.
X, y = load_digits_images()
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
clf = ResNetClassifier(max_epochs=EPOCHS, random_state=0).fit(X_train, y_train)
predicted = clf.predict(X_test)
print(
    f"{clf.architecture_}: test accuracy {clf.score(X_test, y_test):.3f} after {clf.n_iter_} epochs"
)
print(confusion_matrix(y_test, predicted))

# %%
# The confusion matrix on the test quarter and the training curves.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
ConfusionMatrixDisplay.from_predictions(y_test, predicted, ax=left, colorbar=False)
left.set_title("test set")
plot_history(clf, ax=right)
right.set_title("training")
fig.tight_layout()
if args.plot:
    fig.savefig(args.plot, dpi=100)
plt.show()
