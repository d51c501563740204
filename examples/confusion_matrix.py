"""Which digits a ResNet confuses: scikit-learn's confusion-matrix display on our classifier.

Handwritten digits as 8x8 images (a ResNet-20 with the default budget),
scored on a held-out quarter; the confusion matrix is printed, and with
``--plot PATH`` drawn with ``ConfusionMatrixDisplay``, beside the training
curves of ``plot_history``.

Run: python examples/confusion_matrix.py [--plot digits.png]
"""

import argparse

from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix
from sklearn.model_selection import train_test_split

from skresnet import ResNetClassifier, plot_history
from skresnet.datasets import load_digits_images

parser = argparse.ArgumentParser()
parser.add_argument("--plot", help="save the confusion matrix and training curves here")
args = parser.parse_args()

X, y = load_digits_images()
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
clf = ResNetClassifier(random_state=0).fit(X_train, y_train)
predicted = clf.predict(X_test)
print(f"test accuracy {clf.score(X_test, y_test):.3f} after {clf.n_iter_} epochs")
print(confusion_matrix(y_test, predicted))

if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    ConfusionMatrixDisplay.from_predictions(y_test, predicted, ax=left, colorbar=False)
    left.set_title("test set")
    plot_history(clf, ax=right)
    right.set_title("training")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=100)
    print(f"plot: {args.plot}")
