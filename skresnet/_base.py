"""What the three estimators share: parameters, validation, the fit and predict phases."""

from __future__ import annotations

import contextlib
import copy
import math
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
from skorch.helper import predefined_split
from torch import nn

from ._data import TensorData, n_batches
from ._device import resolve_device, seeded
from ._net import ResNetNet, cpu_row_multiple, to_preferred_memory_format
from ._validation import COMMON_CONSTRAINTS, check_sample_weight

# Fused optimizer kernels (one kernel for all parameters) exist on CPU from
# torch 2.4 and save about a third of a small network's step time.
_FUSED = (
    {"fused": True} if tuple(int(p) for p in torch.__version__.split(".")[:2]) >= (2, 4) else {}
)
_OPTIMIZERS = {
    "adamw": (torch.optim.AdamW, _FUSED),
    "adam": (torch.optim.Adam, _FUSED),
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True, **_FUSED}),
}

# Validation and prediction batches are larger than training ones: no
# gradients are kept, and fewer, larger matrix products run faster.
_MIN_PREDICT_BATCH = 4096


class BaseResNetEstimator(BaseEstimator):
    """Shared machinery of the skresnet estimators. Not meant to be used directly.

    Subclasses set ``_multi_output`` and ``_y_numeric`` and implement
    ``_sample_shape`` (shape of one sample for the network),
    ``_encode_target`` (targets and weights as the loss takes them),
    ``_build_module`` and ``_criterion``.
    """

    _parameter_constraints: dict = COMMON_CONSTRAINTS
    _multi_output = False
    _y_numeric = False
    _accept_sparse: str | bool = "csr"

    def __init__(
        self,
        *,
        max_epochs,
        batch_size,
        lr,
        weight_decay,
        optimizer,
        lr_schedule,
        early_stopping,
        validation_fraction,
        n_iter_no_change,
        device,
        precision,
        compile,
        random_state,
        verbose,
        warm_start,
        callbacks,
    ):
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.precision = precision
        self.compile = compile
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = self._multi_output
        return tags

    # ------------------------------------------------------- fitted aliases
    @property
    def module_(self) -> nn.Module:
        """The trained ``torch.nn.Module`` (``net_.module_``)."""
        return self.net_.module_

    @property
    def history_(self):
        """skorch's training history (``net_.history``)."""
        return self.net_.history

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, sample_weight=None):
        self._validate_params()
        first_fit = not (self.warm_start and hasattr(self, "net_"))
        X, y = self._validate_X_y(X, y, reset=first_fit)
        sample_weight = check_sample_weight(sample_weight, X)
        shape = self._sample_shape(X, reset=first_fit)
        target, weight = self._encode_target(X, y, sample_weight, reset=first_fit)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        data = TensorData(X, shape, target, weight)
        train, valid = self._train_valid_split(data, target, seed)
        device = resolve_device(self.device) if first_fit else self.net_.device
        with seeded(seed, device):
            if first_fit:
                self.net_ = self._make_net(train, seed, device)
            self.net_.set_params(train_split=predefined_split(valid) if valid is not None else None)
            if first_fit:
                self.net_.fit(train)
            else:  # warm start: keep the weights and optimizer state
                self.net_.partial_fit(train)
        # The validation rows must not be pickled with the model.
        self.net_.set_params(train_split=None)
        self.device_ = str(self.net_.device)
        self.n_iter_ = len(self.net_.history)
        return self

    def _validate_X_y(self, X, y, reset):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        return self._validate(
            X, y, reset=reset, multi_output=self._multi_output, y_numeric=self._y_numeric
        )

    def _validate(self, X, y="no_validation", *, reset, **kwargs):
        """``validate_data`` with the input rules shared by fit and predict."""
        with _numeric_input():
            return validate_data(
                self,
                X,
                y,
                reset=reset,
                accept_sparse=self._accept_sparse,
                dtype=np.float32,
                allow_nd=True,
                **kwargs,
            )

    def _train_valid_split(self, data: TensorData, target, seed: int):
        if not self.early_stopping:
            return data, None
        n = len(data)
        n_valid = math.ceil(self.validation_fraction * n)
        if n_valid < 1 or n - n_valid < 1:
            raise ValueError(
                f"early_stopping=True with validation_fraction={self.validation_fraction} "
                f"leaves no training or no validation sample out of n_samples={n}."
            )
        train_idx, valid_idx = self._holdout(n, n_valid, target, seed)
        return data.subset(train_idx), data.subset(valid_idx)

    def _holdout(self, n: int, n_valid: int, target, seed: int):
        """Sorted train and validation row indices: a random split by default."""
        train_idx, valid_idx = train_test_split(
            np.arange(n),
            test_size=n_valid,
            random_state=seed,
            stratify=self._stratify(target, n_valid),
        )
        return np.sort(train_idx), np.sort(valid_idx)

    def _stratify(self, target, n_valid):
        return None

    def _make_net(self, train: TensorData, seed: int, device: str) -> ResNetNet:
        optimizer, optimizer_kwargs = _OPTIMIZERS[self.optimizer]
        module = self._build_module()
        self._init_module(module, train)
        return ResNetNet(
            module=to_preferred_memory_format(module, device),
            criterion=self._criterion(),
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None,
            callbacks=self._make_callbacks(len(train)),
            verbose=int(self.verbose),
            device=device,
            compile=self._use_compile(),
            predict_batch_size=max(self.batch_size, _MIN_PREDICT_BATCH),
            precision=self.precision,
            row_multiple=cpu_row_multiple(module),
            seed=seed,
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
            optimizer__weight_decay=self.weight_decay,
        )

    def _init_module(self, module: nn.Module, train: TensorData) -> None:
        """Set weights from the training data before gradient steps (default: none)."""

    def _use_compile(self) -> bool:
        if not self.compile:
            return False
        if not torch._dynamo.is_dynamo_supported():
            warnings.warn(
                "compile=True is not supported by this Python/torch build; "
                "training without torch.compile.",
                UserWarning,
                stacklevel=3,
            )
            return False
        return True

    def _make_callbacks(self, n_train: int) -> list:
        callbacks = []
        if self.lr_schedule == "cosine":
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=self.max_epochs),
                )
            )
        elif self.lr_schedule == "onecycle":
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(
                        torch.optim.lr_scheduler.OneCycleLR,
                        max_lr=self.lr,
                        total_steps=self.max_epochs * n_batches(n_train, self.batch_size),
                        step_every="batch",
                    ),
                )
            )
        if self.early_stopping:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        threshold=1e-4,
                        load_best=True,
                    ),
                )
            )
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        # The user's callbacks are copied, so fitting never changes a parameter.
        callbacks.extend(copy.deepcopy(self.callbacks or []))
        return callbacks

    # -------------------------------------------------------------- predict
    def _validate_X(self, X) -> np.ndarray:
        # Naming the attribute skips the scan of every attribute (~20 us).
        check_is_fitted(self, "net_")
        if self._plain_rows(X):
            return X.astype(np.float32, copy=False)
        return self._validate(X, reset=False)

    def _plain_rows(self, X) -> bool:
        """Whether ``X`` is rows ``validate_data`` would pass unchanged but for the dtype.

        A finite 2-D float ndarray of the fitted width, for an estimator
        fitted without feature names. Checking that directly costs a few
        microseconds against ~140 for ``validate_data``, most of a
        single-row ``predict``; anything else takes the full validation.
        """
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float32, np.float64)
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            and bool(np.isfinite(X).all())
        )

    def _forward(self, X) -> np.ndarray:
        """Network outputs for ``X`` as a float64 array of shape ``(n_samples, n_outputs)``."""
        X = self._validate_X(X)
        data = TensorData(X, self._sample_shape(X, reset=False))
        with torch.inference_mode():
            if len(data) <= self.net_.predict_batch_size and not sp.issparse(data.X):
                # One batch: call the network directly, without skorch's
                # iterator machinery, so single-row latency stays low.
                out = self.net_.predict_batch(data.X.to(self.net_.device)).float().cpu()
            else:
                outputs = self.net_.forward_iter(data)
                if self.verbose:
                    outputs = _progress(outputs, len(data), self.net_.predict_batch_size)
                out = torch.cat([o.float() for o in outputs])
        return out.numpy().astype(np.float64)

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch moves a CUDA-trained net to the CPU (with a DeviceWarning)
        # when CUDA is missing; keep our record of the device in step.
        if "net_" in self.__dict__:
            self.device_ = str(self.net_.device)

    # ---------------------------------------------------- target scaling
    def _fit_target_scaler(self, y: np.ndarray, sample_weight: np.ndarray, enabled=True):
        """Store the weighted mean and std of each target column (``y`` is 2-D)."""
        if not enabled:
            self.y_loc_ = np.zeros(y.shape[1])
            self.y_scale_ = np.ones(y.shape[1])
            return
        loc = np.average(y, axis=0, weights=sample_weight)
        var = np.average((y - loc) ** 2, axis=0, weights=sample_weight)
        scale = np.sqrt(var)
        self.y_loc_ = loc
        self.y_scale_ = nonzero_scale(scale, loc)

    def _scale_target(self, y: np.ndarray) -> np.ndarray:
        return ((y - self.y_loc_) / self.y_scale_).astype(np.float32)

    def _unscale_target(self, out: np.ndarray) -> np.ndarray:
        out = out * self.y_scale_ + self.y_loc_
        return out.ravel() if self.y_ndim_ == 1 else out


def nonzero_scale(scale: np.ndarray, loc: np.ndarray) -> np.ndarray:
    """``scale`` with (near-)zero entries, i.e. constant columns, replaced by 1."""
    return np.where(scale > 1e-12 * np.maximum(1.0, np.abs(loc)), scale, 1.0)


@contextlib.contextmanager
def _numeric_input():
    """Turn numpy's bare "could not convert" into a message that says what X must be."""
    try:
        yield
    except ValueError as exc:
        if "could not convert" not in str(exc):
            raise
        raise ValueError(
            f"X must hold numbers (any real dtype), but {exc}. Encode text or "
            "categorical columns first, e.g. with OneHotEncoder in a ColumnTransformer."
        ) from exc


def _progress(outputs, n_samples: int, batch_size: int):
    from tqdm.auto import tqdm

    total = math.ceil(n_samples / max(1, batch_size))
    return tqdm(outputs, total=total, desc="predict", leave=False, disable=total < 2)
