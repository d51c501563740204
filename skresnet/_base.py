"""What the three estimators share: parameters, validation, the fit and predict phases."""

from __future__ import annotations

import functools
import inspect
import math
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    check_is_fitted,
    validate_data,
)
from skorch.helper import predefined_split
from torch import nn

from ._budget import (
    BAG_MAX_TRAIN_FLOPS,
    MAX_STEPS,
    MAX_TRAIN_FLOPS,
    MIN_EPOCHS,
    REFIT_VALIDATION_FRACTION,
    VALIDATION_FRACTION,
    resolve_budget,
)
from ._callbacks import (
    kept_epoch,
    stop_reason,
)
from ._config import DocLinkMixin, backend_switches
from ._data import TensorData
from ._device import resolve_device, seeded
from ._net import ResNetNet
from ._persistence import check_versions, export_state, load_state, loadable_device, versions
from ._tabular import encode, fit_encoding, fitted_names
from ._targets import refuse_missing_objects
from ._training import (
    averaged_net,
    bagged_net,
    build_network,
    check_batch_norm,
    holdout_split,
    make_callbacks,
    make_net,
    predict_progress,
    warn_slow_precision,
    working_copy,
)
from ._validation import (
    COMMON_CONSTRAINTS,
    RESCALE_HINT,
    caller_stacklevel,
    check_magnitude,
    check_sample_weight,
    encoded_data,
    numeric_input,
    warn_if_float32_rounds,
)
from .modules import ProbabilityAverage, drawing_from


class BaseResNetEstimator(DocLinkMixin, BaseEstimator):
    """Shared machinery of the skresnet estimators. Not meant to be used directly.

    ``fit`` runs ``_fit_phases`` (validate, describe the input, encode the
    target, split, train, early-stop, refit), written once here, on a working
    copy of the estimator, and commits that copy's fitted state in one
    assignment when every phase has succeeded (``_fit``). A subclass fills in
    hooks; it does not override the phases. Hooks may set fitted attributes
    (``quantiles_``, ``linear_skip_alpha_``): they land on the working copy.

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
    - ``_resolve_budget(module, train)``: ``batch_size_``, ``max_epochs_`` and
      ``epoch_batches_``;
    - ``_init_module(module, train, seed, refit)``: weights from the data
      before the first step (the linear starts);
    - ``_after_early_stopping(X, y, sample_weight, raw, held_out)``: after
      the first fit (early-stopped when ``held_out``), before any refit (the
      forecaster weighs its smoothing member and calibrates);
    - ``_refit_on_all(n_samples)``: whether a final network trains on every
      row for the epochs early stopping chose, and ``_refit_within_budget``
      whether that refit is within the training budget;
    - ``_early_stopping()`` and ``_n_validation(n)``: whether and how many
      rows are held out.

    Class attributes: ``_parameter_constraints``, ``_multi_output``, ``_y_numeric``,
    ``_score_kind`` (``"accuracy"`` or ``"r2"``: what validation scores and early
    stopping read), ``_accept_sparse``, ``_holdout_last`` (validate on the last rows
    rather than a random split), ``_max_steps`` and ``_max_train_flops`` (the step and
    FLOP budget of ``max_epochs="auto"``), ``_bag_max_train_flops`` (the FLOPs that
    ``n_fits="auto"`` shares among its fits), ``_min_epochs`` (the epochs it grows to on
    large data), ``_max_epoch_batches`` (the batches its epoch holds at most, a random
    part of the rows each epoch; None: all), ``_refit_max_rows`` (the rows of
    ``refit="auto"``), ``_refit_schedule`` (the refit's schedule spans its epochs,
    ``"kept"``, or a full fit's, ``"full"``), ``_refit_average`` (a refit averages the
    early-stopped and the refitted network's probabilities). Constructors store their
    arguments with :func:`store_params`.
    """

    _parameter_constraints: dict = COMMON_CONSTRAINTS
    _multi_output = False
    _y_numeric = False
    _score_kind = "r2"  # what validation_scores_ holds: "accuracy" or "r2"
    _accept_sparse: str | bool = "csr"
    # How early stopping holds out data: the last rows (time-ordered windows)
    # or a random split, stratified when the target encoder says so.
    _holdout_last = False
    _rescale_hint = RESCALE_HINT  # how an X beyond check_magnitude's range is brought in
    _max_steps = MAX_STEPS  # optimizer steps of max_epochs="auto" (skresnet/_budget.py)
    _max_train_flops = MAX_TRAIN_FLOPS  # and their forward and backward FLOPs
    _bag_max_train_flops = BAG_MAX_TRAIN_FLOPS  # n_fits="auto"'s fits together
    _min_epochs = MIN_EPOCHS  # the step budget grows to this many epochs (FLOPs permitting)
    _max_epoch_batches: int | None = None  # batches in its epoch at most (None: every batch)
    _refit_max_rows = 0
    _refit_schedule = "kept"
    _refit_average = False
    _averaging = ProbabilityAverage  # the module that averages several trained networks

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
        """Fit all-or-nothing: the phases run on a working copy of the estimator, whose
        state replaces this one's in one assignment once every phase has succeeded; on
        any exception (Ctrl-C included) the estimator is left as before the call."""
        work = working_copy(self)
        # every phase on the configured threads: the starts, the training and the
        # forecaster's statistical member (skresnet._config.backend_switches)
        with backend_switches():
            work._fit_phases(X, y, sample_weight)
        self.__dict__.clear()  # commit
        self.__dict__.update(work.__dict__)
        return self

    def _fit_phases(self, X, y, sample_weight):
        self._validate_params()
        self._check_params()
        previous = self.__dict__.get("net_") if self.warm_start else None
        reset = previous is None
        # validate
        raw = X
        refuse_missing_objects(y, labels=self._score_kind == "accuracy")
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
        # split, train, refit: once, or once per member of a bagged average
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        data = TensorData(X, shape, target, weight, self._loss_unit(X, raw, sample_weight))
        device = resolve_device(self.device) if reset else str(previous.device)
        warn_slow_precision(self.precision, device)
        inputs = (X, y, sample_weight, raw)
        net = self._fit_network(data, seed, device, previous, inputs)
        n_fits = 1 if previous is not None else self._n_fits(len(data), net)
        if n_fits > 1:
            seeds = rng.randint(np.iinfo(np.int32).max, size=n_fits - 1)
            fit = functools.partial(type(self)._fit_network, previous=None, inputs=inputs)
            net = bagged_net(self, net, data, seeds, device, fit)
        # commit
        self.net_ = net
        self.device_ = str(net.device)
        self.n_iter_ = len(net.history)

    def _fit_network(self, data, seed: int, device: str, previous, inputs) -> ResNetNet:
        """Split ``data``, train (early-stopped when rows are held out) and refit on every
        row when ``_refit_on_all`` says so; ``inputs``: the validated ``X``, ``y``,
        weights and the user's ``X``, for ``_after_early_stopping``."""
        train, valid = self._train_valid_split(data, seed)
        self.validation_fraction_ = None if valid is None else self._held_out_fraction(len(data))
        net = self._train(train, valid, seed, device, previous)
        self.early_stopping_history_ = None
        self.net_ = net  # the early-stopped network (committed by the caller, or replaced)
        self._after_early_stopping(*inputs, held_out=valid is not None)
        if valid is None or not self._refit_on_all(len(data)):
            return net
        # no epoch ran (a forecaster with too few windows to train): the start
        epochs = (kept_epoch(net.history) or 0) - (len(previous.history) if previous else 0)
        epochs = max(epochs, 0)
        if self._refit_within_budget(net, len(train), len(data), epochs):
            # early stopping chose the epochs; the final network trains them on every row
            self.early_stopping_history_ = [dict(row) for row in net.history]
            net = self._train(data, None, seed, device, previous, epochs=epochs)
            if self._refit_average and previous is None and epochs > 0:
                net = averaged_net(self, [self.net_, net], net)
        return net

    def _train(
        self, train, valid, seed: int, device: str, previous, epochs: int | None = None
    ) -> ResNetNet:
        """A new net trained for ``max_epochs`` (from ``previous``'s state on a warm start).

        ``epochs`` given: exactly that many, without early stopping (0: the
        network as initialized). ``previous`` is never modified, so a failed
        warm start keeps it intact.
        """
        with seeded(seed):
            module = build_network(self, previous.module_.state_dict() if previous else None)
        self._resolve_budget(module, train)
        run = self.max_epochs_ if epochs is None else epochs
        if epochs is not None and self._refit_schedule == "kept":
            self.max_epochs_ = epochs  # "full": a fit's schedule on all rows, stopped early
        self.max_epochs_ = max(self.max_epochs_, run)
        check_batch_norm(self, module, len(train))
        if previous is None:
            self._init_module(module, train, seed, refit=epochs is not None)
        callbacks = make_callbacks(
            self,
            module,
            device,
            len(train),
            0 if valid is None else len(valid),
            stopping=epochs is None,
        )
        net = make_net(self, module, device, seed, callbacks)
        net.set_params(train_split=predefined_split(valid) if valid is not None else None)
        net.initialize()
        if previous is not None:
            load_state(net, export_state(previous, history=False), history=False)
        generator = torch.Generator(device=device).manual_seed(seed)
        with drawing_from(net.module_, generator):
            if run > 0:
                net.partial_fit(train, epochs=run)
        # The validation rows must not be kept with the model.
        net.set_params(train_split=None)
        if self.max_epochs == "auto" and valid is not None and self.max_epochs_ > 0:
            kind, sentence = stop_reason(net)
            if kind == "budget-improving" and not self.__dict__.get("_quiet_budget"):
                warnings.warn(
                    f"{type(self).__name__}: the automatic training budget ended while the "
                    f"validation score was still improving ({sentence}) Set "
                    f"max_epochs to more than {self.max_epochs_} for a longer fit.",
                    UserWarning,
                    stacklevel=caller_stacklevel(),
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
            check = encoded_data
        elif reset:
            warn_if_float32_rounds(X, type(self).__name__)
        with numeric_input("preprocessing" in self._parameter_constraints, X):
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
        check_magnitude(out[0] if isinstance(out, tuple) else out, hint=self._rescale_hint)
        return out

    def _held_out_fraction(self, n_samples: int) -> float:
        """``validation_fraction`` for ``n_samples`` rows, with ``"auto"`` meaning
        ``REFIT_VALIDATION_FRACTION`` where a refit on every row follows whatever epoch
        early stopping keeps (``_refit_on_all`` and ``_refit_always_within_budget``),
        else ``VALIDATION_FRACTION``."""
        if self.validation_fraction != "auto":
            return self.validation_fraction
        n_valid = math.ceil(REFIT_VALIDATION_FRACTION * n_samples)
        if self._refit_on_all(n_samples) and self._refit_always_within_budget(n_samples, n_valid):
            return REFIT_VALIDATION_FRACTION
        return VALIDATION_FRACTION

    def _n_validation(self, n_samples: int) -> int:
        """How many of ``n_samples`` rows early stopping holds out."""
        return math.ceil(self._held_out_fraction(n_samples) * n_samples)

    def _train_valid_split(self, data: TensorData, seed: int):
        """The training and validation rows (None when nothing is held out)."""
        return holdout_split(self, data, seed)

    def _budget(self, module: nn.Module, n_train: int, sample_shape: tuple) -> tuple:
        """The batch size, epochs and batches per epoch of a fit of ``module`` on
        ``n_train`` samples of ``sample_shape`` (``"auto"`` resolved; ``resolve_budget``)."""
        return resolve_budget(
            self.batch_size,
            self.max_epochs,
            n_train,
            module,
            sample_shape,
            max_steps=self._max_steps,
            min_epochs=self._min_epochs,
            max_epoch_batches=self._max_epoch_batches,
            max_flops=self._max_train_flops,
        )

    def _resolve_budget(self, module: nn.Module, train: TensorData) -> None:
        """Set ``batch_size_``, ``max_epochs_``, ``epoch_batches_`` (``"auto"`` resolved)."""
        budget = self._budget(module, len(train), train.sample_shape)
        self.batch_size_, self.max_epochs_, self.epoch_batches_ = budget

    def _early_stopping(self) -> bool:
        """``early_stopping``, with ``"auto"`` meaning: for tables (rows of features) only."""
        if self.early_stopping == "auto":
            return len(self.input_spec_.sample_shape_) == 1
        return self.early_stopping

    def _loss_unit(self, X, raw, sample_weight) -> np.ndarray | None:
        """The unit each sample's errors are measured in, shape ``(n_samples,)``, or None
        for the target's own units (the default; the forecaster: each series' scale)."""
        return None

    def _init_module(
        self, module: nn.Module, train: TensorData, seed: int, refit: bool = False
    ) -> None:
        """Set weights from the training data before gradient steps (default: none);
        ``refit``: for the final network on all rows, after early stopping chose."""

    def _check_params(self) -> None:
        """Checks of the parameters together, after each one's constraint (default: none);
        may set what they decide for the fit (the forecaster's ``quantiles_``)."""

    def _after_early_stopping(self, X, y, sample_weight, raw, held_out: bool) -> None:
        """Called with the validated ``X``, ``y``, weights and the ``X`` the user passed
        (``raw``) once the first fit has trained ``net_``, before any refit:
        ``held_out`` says whether early stopping held out validation rows (the
        forecaster weighs and calibrates on them here)."""

    def _n_fits(self, n_samples: int, first) -> int:
        """How many fits a new model averages (``_averaging`` of their networks), each
        with its own seed and validation rows, once the first has given ``first``
        (its net) and ``early_stopping_history_`` (default: one)."""
        return 1

    def _refit_within_budget(self, first, n_train: int, n_samples: int, epochs: int) -> bool:
        """Whether the refit of ``epochs`` epochs on ``n_samples`` rows that
        ``_refit_on_all`` asked for runs, after ``first`` trained on ``n_train``
        rows (default: always; the tabular estimators keep both within their
        FLOP bound)."""
        return True

    def _refit_always_within_budget(self, n_samples: int, n_valid: int) -> bool:
        """Whether ``_refit_within_budget`` holds for any epoch early stopping keeps,
        with ``n_valid`` of ``n_samples`` rows held out (default: always)."""
        return True

    def _refit_on_all(self, n_samples: int) -> bool:
        """Whether, after early stopping, a final network trains on all rows for the
        chosen number of epochs: ``refit``, with ``"auto"`` meaning at most
        ``_refit_max_rows`` rows and no ``warm_start`` (which continues the
        fitted network instead; the forecaster decides otherwise)."""
        if getattr(self, "refit", False) == "auto":
            return n_samples <= self._refit_max_rows and not self.warm_start
        return bool(getattr(self, "refit", False))

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
                    outputs = predict_progress(outputs, len(data), self.net_.predict_batch_size)
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
        # Parameters added since the pickle was made take their defaults, which
        # leave a fitted model's predictions as they were (their fitted
        # attributes are absent: no encoding, no smoothing member).
        signature = inspect.signature(type(self).__init__).parameters
        for name in self._get_param_names():
            state.setdefault(name, signature[name].default)
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
        net = make_net(self, build_network(self, state["module"]), device, state["seed"], [])
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
