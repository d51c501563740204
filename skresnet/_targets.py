"""Target encoders: what ``y`` becomes for the loss, and how outputs map back.

Each estimator composes one (scikeras' target encoders play the same part):
small sklearn-style transformers with ``fit(y, sample_weight)``,
``transform(y)`` and ``inverse_transform(outputs)``. Their fitted attributes,
listed in ``fitted``, are also set on the estimator (``classes_``,
``n_outputs_``, ...).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets


class Fitted:
    """What input specs and target encoders share: the fitted attributes they name."""

    fitted: tuple[str, ...] = ()

    def fitted_attributes(self) -> dict:
        """The fitted attributes listed in ``fitted``, to be set on the estimator too."""
        return {name: getattr(self, name) for name in self.fitted if hasattr(self, name)}

    def adopt(self, attributes: dict):
        """Take fitted attributes from an estimator pickled before the parts existed."""
        self.__dict__.update({k: attributes[k] for k in self.fitted if k in attributes})
        return self


class TargetEncoder(Fitted, BaseEstimator):
    """Base of the target encoders: fitted attributes and the per-sample weights."""

    stratify = False  # whether a validation split should keep the target's proportions

    def weight(self, y, sample_weight: np.ndarray) -> np.ndarray:
        """The loss weight of each sample (default: ``sample_weight`` itself)."""
        return sample_weight


def refuse_missing_labels(y) -> None:
    """A ``ValueError`` for a missing label (None, NaN, ``pd.NA``), which would otherwise
    fail in a sort of mixed types or pass as a class of its own."""
    missing = pd.isna(np.asarray(y, dtype=object)).ravel()
    if missing.any():
        raise ValueError(
            f"y has {int(missing.sum())} missing label(s) (None or NaN), the first at row "
            f"{int(np.argmax(missing))}; every sample needs a class: drop those rows or "
            "give them a label."
        )


class LabelTarget(TargetEncoder):
    """Labels of any type as class indices ``0..n_classes-1``, with ``class_weight``.

    Parameters
    ----------
    class_weight : dict, "balanced" or None, default=None
        As in scikit-learn: the dict's keys are the user's labels.
    """

    fitted = ("classes_",)
    stratify = True

    def __init__(self, *, class_weight=None):
        self.class_weight = class_weight

    def fit(self, y, sample_weight=None):
        refuse_missing_labels(y)
        check_classification_targets(y)
        self.classes_ = LabelEncoder().fit(y).classes_
        self.n_outputs_ = len(self.classes_)
        return self

    def transform(self, y) -> np.ndarray:
        """Class indices, shape ``(n_samples,)``, int64."""
        refuse_missing_labels(y)
        check_classification_targets(y)
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels {unseen.tolist()} not seen in the first fit; "
                f"expected labels in {self.classes_.tolist()}."
            )
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def inverse_transform(self, index: np.ndarray) -> np.ndarray:
        return self.classes_[index]

    def weight(self, y, sample_weight: np.ndarray) -> np.ndarray:
        weight = sample_weight
        if self.class_weight is not None:
            weight = weight * compute_sample_weight(self.class_weight, y).astype(np.float32)
        present = np.unique(np.asarray(y)[weight > 0])
        if present.size < 2:
            raise ValueError(
                "ResNetClassifier needs samples of at least 2 classes with positive "
                f"weight; got {present.size} class: {present.tolist()}."
            )
        return weight


class StandardTarget(TargetEncoder):
    """Real targets of shape ``(n,)`` or ``(n, k)``, standardized by their weighted moments.

    Parameters
    ----------
    standardize : bool, default=True
        With False, targets are only cast to float32 (location 0, scale 1).
    """

    fitted = ("y_ndim_", "n_outputs_", "y_loc_", "y_scale_")

    def __init__(self, *, standardize=True):
        self.standardize = standardize

    def fit(self, y, sample_weight=None):
        y = np.asarray(y, dtype=np.float64)
        refuse_missing_values(y)
        self.y_ndim_ = y.ndim
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        y2 = y.reshape(len(y), -1)
        weight = np.ones(len(y)) if sample_weight is None else sample_weight
        self.y_loc_, self.y_scale_ = self._moments(y2, weight)
        return self

    def _moments(self, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted mean and std of each column; computed on y / peak so that
        targets near float64's range do not overflow."""
        if not self.standardize:
            return np.zeros(y.shape[1]), np.ones(y.shape[1])
        peak = np.abs(y).max(axis=0)
        peak = np.where(peak > 0, peak, 1.0)
        loc = np.average(y / peak, axis=0, weights=weight)
        var = np.average((y / peak - loc) ** 2, axis=0, weights=weight)
        return loc * peak, nonzero_scale(np.sqrt(var) * peak, loc * peak)

    def transform(self, y) -> np.ndarray:
        """Standardized targets, shape ``(n_samples, n_outputs)``, float32."""
        y = np.asarray(y, dtype=np.float64)
        y2 = y.reshape(len(y), -1)
        if y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2.shape[1]} outputs, but the estimator was fitted with {self.n_outputs_}."
            )
        scaled = (y2 - self.y_loc_) / self.y_scale_
        if not np.isfinite(scaled.astype(np.float32)).all():
            raise ValueError(
                f"y spans more than float32 can hold once scaled (|y| up to "
                f"{np.abs(y2).max():.3g}, scale {np.min(self.y_scale_):.3g}); "
                "rescale the target, e.g. with a TransformedTargetRegressor."
            )
        return scaled.astype(np.float32)

    def inverse_transform(self, out: np.ndarray) -> np.ndarray:
        """Outputs ``(n, n_outputs, ...)`` in the units of ``y``; shaped as ``y`` when 2-D."""
        extra = (1,) * (out.ndim - 2)
        out = out * self.y_scale_.reshape(-1, *extra) + self.y_loc_.reshape(-1, *extra)
        return out.reshape(len(out)) if self.y_ndim_ == 1 and out.ndim == 2 else out


class ChannelTarget(StandardTarget):
    """Futures of one input channel, scaled like that channel, so inputs and outputs share units.

    Parameters
    ----------
    loc, scale : float
        The channel's location and scale, from the input statistics.
    """

    standardize = True

    def __init__(self, *, loc=0.0, scale=1.0):
        self.loc = loc
        self.scale = scale

    def _moments(self, y, weight):
        return np.full(y.shape[1], float(self.loc)), np.full(y.shape[1], float(self.scale))


def refuse_missing_objects(y, labels: bool) -> None:
    """Before scikit-learn's checks: a target of objects (a pandas string or nullable
    array, an object array) with a missing value (``None``, NaN, ``pd.NA``) is refused
    by name; ``pd.NA`` would fail inside scikit-learn's finiteness check with "boolean
    value of NA is ambiguous". ``labels``: the target holds classes."""
    try:
        values = np.asarray(y) if y is not None else None
    except (TypeError, ValueError):  # ragged or odd: scikit-learn's checks name it
        return
    if values is None or values.dtype != object:
        return
    if labels:
        refuse_missing_labels(values)
        return
    _refuse_missing_rows(pd.isna(values.reshape(len(values), -1)).any(axis=1))


def refuse_missing_values(y: np.ndarray) -> None:
    """A real target with a missing value is refused by name. scikit-learn's check
    passes ``None`` in an object array, which becomes NaN when cast to floats."""
    _refuse_missing_rows(np.isnan(y.reshape(len(y), -1)).any(axis=1))


def _refuse_missing_rows(missing: np.ndarray) -> None:
    if missing.any():
        raise ValueError(
            f"Input y contains NaN: {int(missing.sum())} row(s) without a target (None or "
            f"NaN), the first at row {int(np.argmax(missing))}; drop those rows or fill "
            "them in."
        )


def nonzero_scale(scale: np.ndarray, loc: np.ndarray) -> np.ndarray:
    """``scale`` with (near-)zero entries, i.e. constant columns, replaced by 1."""
    return np.where(scale > 1e-12 * np.maximum(1.0, np.abs(loc)), scale, 1.0)
