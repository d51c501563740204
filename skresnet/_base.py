"""What the three estimators share: parameters, validation, the fit and predict phases."""

from __future__ import annotations

import contextlib
import copy
import functools
import math
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)
from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
from skorch.helper import predefined_split
from torch import nn

from ._budget import (
    MAX_STEPS,
    MIN_EPOCHS,
    auto_batch_size,
    auto_max_epochs,
    forward_flops,
    is_convolutional,
)
from ._callbacks import (
    EpochLine,
    FiniteLoss,
    KeepStartIfBest,
    StopLine,
    ValidationScore,
    kept_epoch,
    stop_reason,
)
from ._config import DocLinkMixin, backend_switches
from ._data import TensorData, n_batches
from ._device import resolve_device, seeded
from ._net import ResNetNet, cpu_row_multiple, to_preferred_memory_format
from ._persistence import check_versions, export_state, load_state, loadable_device, versions
from ._tabular import encode, fit_encoding, fitted_names
from ._validation import COMMON_CONSTRAINTS, _check_y, check_sample_weight
from .modules import drawing_from

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


class BaseResNetEstimator(DocLinkMixin, BaseEstimator):
    """Shared machinery of the skresnet estimators. Not meant to be used directly.

    ``fit`` runs ``_fit_phases`` (validate, describe the input, encode the
    target, split, train, early-stop, refit, commit), written once here. A
    subclass fills in hooks; it does not override the phases.

    Required hooks:

    - ``_input_spec()``: an unfitted input spec (what ``X``'s shape says
      about the network, ``_inputs.py``);
    - ``_target_encoder()``: an unfitted target encoder (what ``y`` becomes
      for the loss, ``_targets.py``); may read the fitted input spec;
    - ``_build_module()``: the ``torch.nn.Module``;
    - ``_criterion()``: the loss, with ``reduction="none"``.

    Optional hooks (defaults do nothing or the plain thing):

    - ``_check_params()``: checks of parameters together, after each one's
      constraint;
    - ``_loss_unit(X, raw, sample_weight)``: per-sample units the loss
      measures errors in (None: the target's own);
    - ``_resolve_budget(module, train)``: ``batch_size_`` and ``max_epochs_``;
    - ``_init_module(module, train, seed, refit)``: weights from the data
      before the first step (the linear starts);
    - ``_after_early_stopping(X, y, sample_weight, raw, held_out)``: after
      the first fit (early-stopped when ``held_out``), before any refit (the
      forecaster weighs its smoothing member and calibrates);
    - ``_refit_on_all(n_samples)``: whether a final network trains on every
      row for the epochs early stopping chose;
    - ``_early_stopping()`` and ``_n_validation(n)``: whether and how many
      rows are held out.

    Class attributes: ``_parameter_constraints``, ``_multi_output``,
    ``_y_numeric``, ``_score_kind`` (``"accuracy"`` or ``"r2"``: what
    validation scores and early stopping read), ``_accept_sparse``,
    ``_holdout_last`` (validate on the last rows rather than a random
    split), ``_max_steps`` (the step budget of ``max_epochs="auto"``),
    ``_min_epochs`` (the epochs that budget grows to on large data).
    Constructors store their arguments with :func:`store_params`.
    """

    _parameter_constraints: dict = COMMON_CONSTRAINTS
    _multi_output = False
    _y_numeric = False
    _score_kind = "r2"  # what validation_scores_ holds: "accuracy" or "r2"
    _accept_sparse: str | bool = "csr"
    # How early stopping holds out data: the last rows (time-ordered windows)
    # or a random split, stratified when the target encoder says so.
    _holdout_last = False
    _max_steps = MAX_STEPS  # optimizer steps of max_epochs="auto" (skresnet/_budget.py)
    _min_epochs = MIN_EPOCHS  # the step budget grows to this many epochs (FLOPs permitting)

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = bool(self._accept_sparse)
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

    # scikit-learn's MLP names for the same history.
    @property
    def loss_curve_(self) -> list:
        """The training loss after each epoch (as ``MLPClassifier.loss_curve_``)."""
        return [row["train_loss"] for row in self.history_]

    @property
    def validation_scores_(self) -> list | None:
        """The validation rows' score after each epoch: accuracy for a classifier, R2
        otherwise (of the early-stopped fit, when the forecaster refitted); None when
        nothing was held out (as ``MLPClassifier``)."""
        history = self.__dict__.get("early_stopping_history_") or self.history_
        scores = [row["valid_score"] for row in history if "valid_score" in row]
        return scores or None

    @property
    def best_validation_score_(self) -> float | None:
        """The best of ``validation_scores_``; None when nothing was held out."""
        scores = self.validation_scores_
        return None if scores is None else max(scores)

    @property
    def best_loss_(self) -> float | None:
        """The lowest training loss; None when a validation split was held out, whose
        loss is then what counts (as ``MLPClassifier.best_loss_``), or when no epoch ran
        (a refit that kept the linear start trains for zero epochs)."""
        if any("valid_loss" in row for row in self.history_):
            return None
        return min(self.loss_curve_, default=None)

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, sample_weight=None):
        """Fit all-or-nothing: on any exception the estimator is left as before the call."""
        snapshot = dict(self.__dict__)
        try:
            self._fit_phases(X, y, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise
        return self

    def _fit_phases(self, X, y, sample_weight):
        self._validate_params()
        self._check_params()
        previous = self.__dict__.get("net_") if self.warm_start else None
        reset = previous is None
        # validate
        raw = X
        X = fit_encoding(self, X, y, reset)  # a mixed-type DataFrame, encoded
        X, y = self._validate_X_y(X, y, reset=reset)
        fitted_names(self)
        sample_weight = check_sample_weight(sample_weight, X)
        if not sample_weight.sum() > 0:
            raise ValueError("sample_weight sums to zero; at least one sample needs weight > 0.")
        # describe the input, encode the target (a warm start keeps the first fit's)
        if reset:
            self.input_spec_ = self._input_spec().fit(X, raw, sample_weight)
            self.__dict__.update(self.input_spec_.fitted_attributes())
            self.target_encoder_ = self._target_encoder().fit(y, sample_weight)
            self.__dict__.update(self.target_encoder_.fitted_attributes())
        shape = self.input_spec_.sample_shape(X)
        target = self.target_encoder_.transform(y)
        weight = self.target_encoder_.weight(y, sample_weight)
        # split
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        data = TensorData(X, shape, target, weight, self._loss_unit(X, raw, sample_weight))
        train, valid = self._train_valid_split(data, seed)
        # train
        device = resolve_device(self.device) if reset else str(previous.device)
        _warn_slow_precision(self.precision, device)
        net = self._train(train, valid, seed, device, previous)
        self.early_stopping_history_ = None
        self.net_ = net  # the early-stopped network (committed below, or replaced)
        self._after_early_stopping(X, y, sample_weight, raw, held_out=valid is not None)
        if valid is not None and self._refit_on_all(len(data)):
            # early stopping chose the epochs; the final network trains that
            # long on every row, the held-out ones included
            self.early_stopping_history_ = [dict(row) for row in net.history]
            # no epoch ran (a forecaster with too few windows to train): the start
            epochs = (kept_epoch(net.history) or 0) - (len(previous.history) if previous else 0)
            net = self._train(data, None, seed, device, previous, epochs=max(epochs, 0))
        # commit
        self.net_ = net
        self.device_ = str(net.device)
        self.n_iter_ = len(net.history)

    def _train(
        self, train, valid, seed: int, device: str, previous, epochs: int | None = None
    ) -> ResNetNet:
        """A new net trained for ``max_epochs`` (from ``previous``'s state on a warm start).

        ``epochs`` given: exactly that many, without early stopping (0: the
        network as initialized). ``previous`` is never modified, so a failed
        warm start keeps it intact.
        """
        with seeded(seed):
            module = self._build_module()
        self._resolve_budget(module, train)
        if epochs is not None:
            self.max_epochs_ = epochs
        self._check_batch_norm(module, len(train))
        if previous is None:
            self._init_module(module, train, seed, refit=epochs is not None)
        callbacks = self._make_callbacks(
            len(train), 0 if valid is None else len(valid), stopping=epochs is None
        )
        net = self._make_net(module, device, seed, callbacks)
        net.set_params(train_split=predefined_split(valid) if valid is not None else None)
        net.initialize()
        if previous is not None:
            load_state(net, export_state(previous, history=False), history=False)
        generator = torch.Generator(device=device).manual_seed(seed)
        with drawing_from(net.module_, generator), backend_switches():
            if self.max_epochs_ > 0:
                net.partial_fit(train, epochs=self.max_epochs_)
        # The validation rows must not be kept with the model.
        net.set_params(train_split=None)
        if self.max_epochs == "auto" and valid is not None and self.max_epochs_ > 0:
            kind, sentence = stop_reason(net)
            if kind == "budget-improving":
                warnings.warn(
                    f"{type(self).__name__}: the automatic training budget ended while the "
                    f"validation score was still improving ({sentence}) Set "
                    f"max_epochs to more than {self.max_epochs_} for a longer fit.",
                    UserWarning,
                    stacklevel=4,
                )
        if previous is not None:  # one history over all warm-started fits, as sklearn's MLP
            earlier = list(previous.history)
            for row in net.history:
                row["epoch"] += len(earlier)
            net.history[:0] = earlier
        return net

    def _validate_X_y(self, X, y, reset):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        return self._validate(
            X, y, reset=reset, multi_output=self._multi_output, y_numeric=self._y_numeric
        )

    def _validate(self, X, y="no_validation", *, reset, **kwargs):
        """``validate_data`` with the input rules shared by fit and predict.

        ``X`` is cast to float32 before the finiteness check, so values beyond
        float32's range are refused, and so are magnitudes the networks cannot
        train on (see :func:`check_magnitude`). An ``X`` encoded by
        ``preprocessor_`` is checked as an array: the frame's names and width
        are the preprocessor's (``_tabular.fitted_names``).
        """
        check = validate_data
        if self.__dict__.get("preprocessor_") is not None:
            check = _encoded_data
        with _numeric_input("preprocessing" in self._parameter_constraints):
            out = check(
                self,
                X,
                y,
                reset=reset,
                accept_sparse=self._accept_sparse,
                dtype=np.float32,
                allow_nd=True,
                **kwargs,
            )
        check_magnitude(out[0] if isinstance(out, tuple) else out)
        return out

    def _n_validation(self, n_samples: int) -> int:
        """How many of ``n_samples`` rows early stopping holds out."""
        return math.ceil(self.validation_fraction * n_samples)

    def _train_valid_split(self, data: TensorData, seed: int):
        if not self._early_stopping():
            return data, None
        n = len(data)
        n_valid = self._n_validation(n)
        if (n_valid < 1 or n - n_valid < 1) and self._holdout_last and n < 20:
            # A forecaster on a short series: no windows to spare; its network is
            # then its linear start (TCNForecaster._resolve_budget).
            warnings.warn(
                f"{type(self).__name__}: {n} window(s) leave none to hold out for early "
                "stopping; fitting the linear start on all of them, without training.",
                UserWarning,
                stacklevel=4,
            )
            return data, None
        if n_valid < 1 or n - n_valid < 1:
            raise ValueError(
                f"early_stopping={self.early_stopping!r} with validation_fraction="
                f"{self.validation_fraction} leaves no training or no validation sample "
                f"out of n_samples={n}."
            )
        if self._holdout_last:
            return data.subset(np.arange(n - n_valid)), data.subset(np.arange(n - n_valid, n))
        train_idx, valid_idx = _random_split(
            data.y.numpy(), n_valid, seed, classes=self.target_encoder_.stratify
        )
        return data.subset(np.sort(train_idx)), data.subset(np.sort(valid_idx))

    def _resolve_budget(self, module: nn.Module, train: TensorData) -> None:
        """Set ``batch_size_`` and ``max_epochs_``: the parameters, or ``"auto"`` resolved."""
        n = len(train)
        self.batch_size_ = (
            auto_batch_size(n, is_convolutional(module))
            if self.batch_size == "auto"
            else self.batch_size
        )
        self.max_epochs_ = (
            auto_max_epochs(
                n,
                self.batch_size_,
                forward_flops(module, train.sample_shape),
                self._max_steps,
                self._min_epochs,
            )
            if self.max_epochs == "auto"
            else self.max_epochs
        )

    def _early_stopping(self) -> bool:
        """``early_stopping``, with ``"auto"`` meaning: for tables (rows of features) only."""
        if self.early_stopping == "auto":
            return len(self.input_spec_.sample_shape_) == 1
        return self.early_stopping

    def _check_batch_norm(self, module: nn.Module, n_train: int) -> None:
        """Batch norm cannot train on one-sample batches: say so before torch does."""
        if not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules()):
            return
        if self.batch_size_ < 2 or n_train < 2:
            raise ValueError(
                f"{type(self).__name__}'s network uses batch norm, which needs training "
                f"batches of at least 2 samples; got batch_size={self.batch_size_} and "
                f"{n_train} training sample(s). Use batch_size >= 2 and more data"
                + (", or norm='layer'." if hasattr(self, "norm") else ".")
            )

    def _make_net(self, module: nn.Module, device: str, seed: int, callbacks: list) -> ResNetNet:
        optimizer, optimizer_kwargs = _OPTIMIZERS[self.optimizer]
        return ResNetNet(
            module=to_preferred_memory_format(module, device),
            criterion=self._criterion(),
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs_,
            batch_size=self.batch_size_,
            train_split=None,
            callbacks=callbacks,
            # skorch's table (with colour codes) only on a terminal; EpochLine otherwise
            verbose=int(self.verbose) if _on_terminal() else 0,
            device=device,
            compile=self._use_compile(),
            predict_batch_size=max(self.batch_size_, _MIN_PREDICT_BATCH),
            precision=self.precision,
            row_multiple=cpu_row_multiple(module),
            seed=seed,
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
            optimizer__weight_decay=self.weight_decay,
        )

    def _loss_unit(self, X, raw, sample_weight) -> np.ndarray | None:
        """The unit each sample's errors are measured in, shape ``(n_samples,)``, or None
        for the target's own units (the default; the forecaster: each series' scale)."""
        return None

    def _init_module(
        self, module: nn.Module, train: TensorData, seed: int, refit: bool = False
    ) -> None:
        """Set weights from the training data before gradient steps (default: none);
        ``refit``: for the final network on all rows, after early stopping chose."""

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

    def _check_params(self) -> None:
        """Checks of the parameters together, after each one's constraint (default: none);
        may set what they decide for the fit (the forecaster's ``quantiles_``)."""

    def _after_early_stopping(self, X, y, sample_weight, raw, held_out: bool) -> None:
        """Called with the validated ``X``, ``y``, weights and the ``X`` the user passed
        (``raw``) once the first fit has trained ``net_``, before any refit:
        ``held_out`` says whether early stopping held out validation rows (the
        forecaster weighs and calibrates on them here)."""

    def _refit_on_all(self, n_samples: int) -> bool:
        """Whether, after early stopping, a final network trains on all rows for the
        chosen number of epochs (the forecaster's ``refit``)."""
        return False

    def _make_callbacks(self, n_train: int, n_valid: int = 0, stopping: bool = True) -> list:
        callbacks = []
        if self.lr_schedule == "cosine":
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=self.max_epochs_),
                )
            )
        elif self.lr_schedule == "onecycle":
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(
                        torch.optim.lr_scheduler.OneCycleLR,
                        max_lr=self.lr,
                        total_steps=self.max_epochs_ * n_batches(n_train, self.batch_size_),
                        step_every="batch",
                    ),
                )
            )
        if n_valid:  # before early stopping, which may read it
            callbacks.append(("valid_score", ValidationScore(self._score_kind)))
        callbacks.append(("finite_loss", FiniteLoss()))
        if self.verbose and _on_terminal():
            batches = n_batches(n_train, self.batch_size_) + math.ceil(
                n_valid / max(self.batch_size_, _MIN_PREDICT_BATCH)
            )
            callbacks.append(("progress_bar", ProgressBar(batches_per_epoch=batches)))
        elif self.verbose:
            callbacks.append(("epoch_line", EpochLine()))
        # The user's callbacks are copied, so fitting never changes a parameter.
        # They come before early stopping, whose end of training skips the
        # callbacks after it: every callback above sees every epoch.
        callbacks.extend(copy.deepcopy(self.callbacks or []))
        if stopping and self._early_stopping():
            # The classifier stops on validation accuracy, as scikit-learn's
            # MLPClassifier, with ties broken by the validation log-loss
            # (``valid_rank``); the regressors on the validation loss.
            on_score = self._score_kind == "accuracy"
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_rank" if on_score else "valid_loss",
                        lower_is_better=not on_score,
                        patience=self.n_iter_no_change,
                        threshold=1e-4,
                        threshold_mode="abs" if on_score else "rel",
                        load_best=True,
                    ),
                )
            )
            start_kind = self._score_kind if on_score else None
            callbacks.append(("keep_start", KeepStartIfBest(start_kind)))
        if self.verbose:
            callbacks.append(("stop_line", StopLine()))
        return callbacks

    # -------------------------------------------------------------- predict
    def _validate_X(self, X) -> np.ndarray:
        # Naming the attribute skips the scan of every attribute (~20 us).
        check_is_fitted(self, "net_")
        if self.__dict__.get("preprocessor_") is not None:
            X = encode(self, X)
        elif self._plain_rows(X):
            rows = X.astype(np.float32, copy=False)
            # NaN and inf fail the magnitude bound too, so this one pass checks both.
            if check_magnitude(rows, raise_error=False):
                return rows
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
        )

    def _forward(self, X) -> np.ndarray:
        """Network outputs for ``X`` as a float64 array of shape ``(n_samples, n_outputs)``."""
        X = self._validate_X(X)
        data = TensorData(X, self.input_spec_.sample_shape(X))
        with torch.inference_mode():
            if len(data) <= self.net_.predict_batch_size and not sp.issparse(data.X):
                # One batch: call the network directly, without skorch's
                # iterator machinery, so single-row latency stays low.
                out = self.net_.predict_batch(data.X.to(self.net_.device)).float().cpu()
            else:
                outputs = self.net_.forward_iter(data)
                if self.verbose >= 2:
                    outputs = _progress(outputs, len(data), self.net_.predict_batch_size)
                out = torch.cat([o.float() for o in outputs])
        out = out.numpy().astype(np.float64)
        bad = ~np.isfinite(out).reshape(len(out), -1).all(axis=1)
        if bad.any():
            raise ValueError(
                f"The network gave non-finite outputs for {int(bad.sum())} row(s) of X "
                f"(first: row {int(np.flatnonzero(bad)[0])}); X is probably far outside the "
                "range it was trained on."
            )
        return out

    # ---------------------------------------------------------- persistence
    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ is the live __dict__
        net = state.pop("net_", None)
        if net is not None:
            state["_net_state"] = export_state(net)
        state["_skresnet_versions"] = versions()
        return state

    def __setstate__(self, state):
        state = dict(state)
        check_versions(type(self).__name__, state.pop("_skresnet_versions", None))
        net_state = state.pop("_net_state", None)
        super().__setstate__(state)
        if net_state is not None and "target_encoder_" not in state:
            # Pickled by 0.2, before input specs and target encoders existed.
            self.input_spec_ = self._input_spec().adopt(state)
            self.target_encoder_ = self._target_encoder().adopt(state)
            self.__dict__.update(self.input_spec_.fitted_attributes())
        if net_state is not None:
            # Pickled by 0.2, before "auto" budgets: the parameters were the budget.
            self.__dict__.setdefault("batch_size_", self.batch_size)
            self.__dict__.setdefault("max_epochs_", self.max_epochs)
            self.net_ = self._restore_net(net_state)
        if "net_" in self.__dict__:
            self.device_ = str(self.net_.device)

    def _restore_net(self, state: dict) -> ResNetNet:
        """Rebuild the trained net from its device-free state, on a device this machine has."""
        device = loadable_device(state["device"])
        net = self._make_net(self._build_module(), device, state["seed"], [])
        net.initialize()
        load_state(net, state)
        return net

    # ------------------------------------------------------- composition
    def _input_spec(self):
        """An unfitted input spec (``_inputs.py``) built from the parameters."""
        raise NotImplementedError

    def _target_encoder(self):
        """An unfitted target encoder (``_targets.py``); may read the fitted input spec."""
        raise NotImplementedError

    def _build_module(self) -> nn.Module:
        raise NotImplementedError

    def _criterion(self) -> nn.Module:
        raise NotImplementedError


def _random_split(
    target: np.ndarray, n_valid: int, seed: int, classes: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation row indices, ``n_valid`` of them held out at random.

    For class targets (``classes``) the split is stratified where every class
    has two rows and room in both parts; otherwise one row of each class is
    drawn for training first and the others split at random, so that every
    class is always among the training rows (the linear start and the loss
    need them), whatever the seed.
    """
    n = len(target)
    if not classes:
        return train_test_split(np.arange(n), test_size=n_valid, random_state=seed)
    counts = np.bincount(target)
    counts = counts[counts > 0]
    if counts.min() >= 2 and min(n_valid, n - n_valid) >= counts.size:
        return train_test_split(np.arange(n), test_size=n_valid, random_state=seed, stratify=target)
    rng = np.random.RandomState(seed)
    anchors = np.array([rng.choice(np.flatnonzero(target == k)) for k in np.unique(target)])
    rest = np.setdiff1d(np.arange(n), anchors)
    n_valid = min(n_valid, len(rest))
    if n_valid < 1:
        raise ValueError(
            f"early stopping needs validation rows besides one training row per class; "
            f"got {n} rows of {len(anchors)} classes. Use more data or early_stopping=False."
        )
    train_rest, valid_idx = train_test_split(rest, test_size=n_valid, random_state=seed)
    return np.concatenate([anchors, train_rest]), valid_idx


def store_params(estimator, params: dict) -> None:
    """Set each constructor argument as an attribute of the same name, unchanged.

    Called as ``store_params(self, locals())`` as the whole body of an
    estimator's ``__init__``, whose signature ``get_params`` reads.
    """
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)


# Inputs are float32; the networks square activations (norms, losses), so
# values beyond about 1e19 overflow. 1e15 leaves room for weights and sums.
MAX_ABS_INPUT = 1e15


def check_magnitude(X, raise_error: bool = True) -> bool:
    """Whether every ``|X|`` is at most :data:`MAX_ABS_INPUT` (False for NaN/inf) or raise."""
    values = X.data if sp.issparse(X) else X
    peak = float(np.abs(values).max()) if values.size else 0.0
    if peak <= MAX_ABS_INPUT:
        return True
    if not raise_error:
        return False
    raise ValueError(
        f"X has values of magnitude up to {peak:.3g}; the networks train in float32 "
        f"and need |X| <= {MAX_ABS_INPUT:.0e}. Standardize X first, e.g. with "
        "StandardScaler in a Pipeline."
    )


def _warn_slow_precision(precision: str, device: str) -> None:
    """Mixed precision on a CPU without bf16/fp16 units is emulated and several times slower."""
    if precision == "float32" or torch.device(device).type != "cpu" or _cpu_has_bf16():
        return
    warnings.warn(
        f"precision={precision!r} on this CPU (no native bf16/fp16 arithmetic) is "
        "emulated: training was measured 3-14x slower than float32. It is meant for "
        "GPUs; use precision='float32' on this machine.",
        UserWarning,
        stacklevel=4,
    )


@functools.cache
def _cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def _on_terminal() -> bool:
    """Whether standard output is an interactive terminal (progress bars and colours)."""
    import sys

    return bool(getattr(sys.stdout, "isatty", lambda: False)())


def _encoded_data(estimator, X, y="no_validation", *, reset, **kwargs):
    """``validate_data`` for an ``X`` the estimator's preprocessor encoded: the checks
    of the values, without those of the frame's names and width (already done)."""
    kwargs.pop("multi_output", None), kwargs.pop("y_numeric", None)
    X = check_array(X, **kwargs)
    if isinstance(y, str) and y == "no_validation":
        return X
    y = _check_y(y, multi_output=estimator._multi_output, y_numeric=estimator._y_numeric)
    check_consistent_length(X, y)
    return X, y


@contextlib.contextmanager
def _numeric_input(encodes_frames: bool = False):
    """Turn numpy's and pandas' bare conversion errors into a message that says what X
    must be (and, for the tabular estimators, that a DataFrame can be encoded)."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        if "could not convert" not in str(exc) and "Cannot cast" not in str(exc):
            raise
        how = (
            "Leave preprocessing='auto' to encode a DataFrame's text and category columns, "
            "or encode them first"
            if encodes_frames
            else "Encode text or categorical columns first"
        )
        raise ValueError(
            f"X must hold numbers (any real dtype), but {exc}. {how}, e.g. with "
            "OneHotEncoder in a ColumnTransformer."
        ) from exc


def _progress(outputs, n_samples: int, batch_size: int):
    from tqdm.auto import tqdm

    total = math.ceil(n_samples / max(1, batch_size))
    return tqdm(outputs, total=total, desc="predict", leave=False, disable=total < 2)
