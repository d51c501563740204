"""Building the skorch net that trains an estimator's module: optimizer, callbacks, checks.

Functions of the estimator (``est``), whose fitted budget (``batch_size_``,
``max_epochs_``) they read; ``BaseResNetEstimator._train`` calls them.
"""

from __future__ import annotations

import copy
import functools
import math
import re
import warnings

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
from torch import nn

from ._budget import N_FITS, is_convolutional, training_flops
from ._callbacks import EpochLine, FiniteLoss, KeepStartIfBest, StopLine, ValidationScore
from ._data import TensorData, n_batches, random_split
from ._device import seeded
from ._net import ResNetNet, cpu_row_multiple, to_preferred_memory_format
from ._tabular import embedded_in_state, embedding_fit
from ._validation import caller_stacklevel
from .timeseries._windows import evenly

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
# gradients are kept, and fewer, larger matrix products run faster. An MLP's
# activations outgrow the CPU caches sooner: forward passes over 20,480 rows of the
# default table MLP on one thread (5 / 20 / 200 embedded columns) took 0.13 / 0.19 /
# 1.06 s in batches of 1024 and 0.21 / 0.29 / 3.09 s in batches of 4096. A GPU keeps
# 4096 rows: its larger batches only launch fewer kernels.
MIN_PREDICT_BATCH = 4096
MLP_PREDICT_BATCH = 1024


def predict_batch_size(est, module: nn.Module, device: str) -> int:
    """Rows per validation and prediction batch of ``module`` on ``device``, at least a
    training batch (``est.batch_size_``); an MLP's are smaller on the CPU only."""
    cpu_mlp = str(device).startswith("cpu") and not is_convolutional(module)
    return max(est.batch_size_, MLP_PREDICT_BATCH if cpu_mlp else MIN_PREDICT_BATCH)


def check_batch_norm(est, module: nn.Module, n_train: int) -> None:
    """Batch norm cannot train on one-sample batches: say so before torch does."""
    if not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules()):
        return
    if est.batch_size_ < 2 or n_train < 2:
        raise ValueError(
            f"{type(est).__name__}'s network uses batch norm, which needs training "
            f"batches of at least 2 samples; got batch_size={est.batch_size_} and "
            f"{n_train} training sample(s). Use batch_size >= 2 and more data"
            + (", or norm='layer'." if hasattr(est, "norm") else ".")
        )


def make_net(est, module: nn.Module, device: str, seed: int, callbacks: list) -> ResNetNet:
    optimizer, optimizer_kwargs = _OPTIMIZERS[est.optimizer]
    return ResNetNet(
        module=to_preferred_memory_format(module, device),
        criterion=est._criterion(),
        optimizer=optimizer,
        lr=est.lr,
        max_epochs=est.max_epochs_,
        batch_size=est.batch_size_,
        train_split=None,
        callbacks=callbacks,
        # skorch's table (with colour codes) only on a terminal; EpochLine otherwise
        verbose=int(est.verbose) if _on_terminal() else 0,
        device=device,
        compile=use_compile(est),
        predict_batch_size=predict_batch_size(est, module, device),
        precision=est.precision,
        row_multiple=cpu_row_multiple(module),
        seed=seed,
        max_batches=est.__dict__.get("epoch_batches_"),
        **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        optimizer__weight_decay=est.weight_decay,
    )


def build_network(est, state: dict | None = None) -> nn.Module:
    """``est._build_module()``, or as many of them as ``state`` (a trained module's
    ``state_dict``) holds under an average (``est._averaging``), as a refit
    classifier's and a bagged regressor's are (:func:`averaged_net`); each with
    a numeric embedding where its part of ``state`` has one, under "mixed"."""
    indices = sorted({int(m.group(1)) for m in map(_AVERAGED_KEY.match, state or {}) if m})
    if not indices:
        return _network(est, state, "")
    return est._averaging([_network(est, state, f"networks.{i}.") for i in indices])


def _network(est, state: dict | None, prefix: str) -> nn.Module:
    """``est._build_module()``; where the averaged fits alternate numeric embeddings
    (``numeric_embedding_ == "mixed"``), embedding as ``state`` under ``prefix`` did."""
    if state is None or est.__dict__.get("numeric_embedding_") != "mixed":
        return est._build_module()
    work = working_copy(est)
    embedding_fit(work, embedded_in_state(state, prefix))
    return work._build_module()


# "networks.<i>." keys, behind "_orig_mod." when torch.compile wrapped the module
_AVERAGED_KEY = re.compile(r"(?:_orig_mod\.)?networks\.(\d+)\.")


def averaged_net(est, nets: list, history: ResNetNet) -> ResNetNet:
    """One net whose module averages the modules of ``nets`` (``est._averaging``: the
    probabilities of a refit classifier's early-stopped and refitted networks, the
    outputs of a bagged regressor's fits; a bagged classifier's fits, each such a
    pair, become one flat average of all their networks), with ``history``'s history
    and a fresh optimizer (what a warm start continues)."""
    members = []
    for module in (getattr(n.module_, "_orig_mod", n.module_) for n in nets):
        # a fit that is an average itself (a refit classifier's pair) adds its networks
        members.extend(module.networks if isinstance(module, est._averaging) else [module])
    net = make_net(est, est._averaging(members), str(history.device), history.seed, [])
    net.initialize()
    net.history.extend(history.history)
    return net


def fit_flops(est, samples: int) -> float:
    """Training FLOPs of ``samples`` samples' steps (epochs times rows) through a module
    of ``est``'s fitted shape (built to count, without touching the caller's RNG)."""
    with seeded(0):
        module = est._build_module()
    return training_flops(module, est.sample_shape_, samples)


def refit_within_budget(est, first: ResNetNet, n_train: int, n_samples: int, epochs: int) -> bool:
    """Whether ``refit="auto"`` refits under ``max_epochs="auto"``: the first fit
    (``first``, on ``n_train`` rows) and a refit of ``epochs`` epochs on ``n_samples``
    rows together train at most ``est._bag_max_train_flops`` (the unit that
    ``n_fits="auto"`` counts fits in), or the first fit's own bound where that is
    higher (the ResNets'). ``refit=True`` or a ``max_epochs`` of the user's own
    always refit."""
    automatic = isinstance(est.refit, str) and isinstance(est.max_epochs, str)
    if not automatic or epochs < 1:  # refit=True, or the user's own max_epochs
        return True
    samples = len(first.history) * n_train + epochs * n_samples
    return fit_flops(est, samples) <= max(est._max_train_flops, est._bag_max_train_flops)


def refit_always_within_budget(est, n_samples: int, n_valid: int) -> bool:
    """Whether the refit of ``refit_within_budget`` runs whatever epoch early stopping
    keeps: a first fit of its whole epoch budget on the ``n_samples - n_valid``
    training rows and a refit of as many epochs on all ``n_samples`` rows together
    stay within its bound (always with ``refit=True`` or the user's own
    ``max_epochs``)."""
    if not (isinstance(est.refit, str) and isinstance(est.max_epochs, str)):
        return True
    n_train = n_samples - n_valid
    with seeded(0):
        module = est._build_module()
    _, epochs, _ = est._budget(module, n_train, est.sample_shape_)
    flops = training_flops(module, est.sample_shape_, epochs * (n_train + n_samples))
    return flops <= max(est._max_train_flops, est._bag_max_train_flops)


def resolve_n_fits(est, n_samples: int, first: ResNetNet, max_rows: int) -> int:
    """``est.n_fits``, with ``"auto"`` meaning: ``N_FITS`` fits where early
    stopping and the refit apply to at most ``max_rows`` rows, fewer where that many
    would train more than ``est._bag_max_train_flops`` at the first fit's cost (``first``,
    and ``est.early_stopping_history_`` when it was refitted): that bound over that
    cost, rounded to the nearest count, so the fits together train at most 4/3 of it
    (a first fit of 0.6 of it gets a second one, whose average an unlucky first fit
    needs most), else one."""
    if est.n_fits != "auto":
        return est.n_fits
    if not (est._early_stopping() and est._refit_on_all(n_samples)) or n_samples > max_rows:
        return 1
    n_train = n_samples - est._n_validation(n_samples)
    if est.early_stopping_history_ is None:  # not refitted (refit_within_budget)
        samples = len(first.history) * n_train
    else:
        samples = len(est.early_stopping_history_) * n_train + len(first.history) * n_samples
    cost = fit_flops(est, samples)
    budget = est._bag_max_train_flops
    return int(min(N_FITS, max(1, math.floor(budget / max(cost, 1.0) + 0.5))))


def bagged_net(est, first: ResNetNet, data, seeds, device: str, fit_network) -> ResNetNet:
    """The average of ``first`` and one more fit per seed in ``seeds``, each on a copy
    of ``est`` (whose fitted attributes stay the first fit's), with its own
    validation rows and initialization: ``fit_network(copy, data, seed, device)``
    returns that fit's net. The history is the first fit's."""
    nets = [first]
    for index, seed in enumerate(seeds, start=1):
        work = working_copy(est)
        work._quiet_budget = True  # the first fit said it if the budget ran short
        embedding_fit(work, index % 2 == 1)
        nets.append(fit_network(work, data, int(seed), device))
    return averaged_net(est, nets, first)


def working_copy(est):
    """A new estimator holding ``est``'s attributes (the objects themselves, ``net_``
    included; not ``copy.copy``, which would pickle ``net_``), for phases that must
    not change ``est`` until they succeed."""
    work = object.__new__(type(est))
    work.__dict__.update(est.__dict__)
    return work


# A forecaster's early stopping scores at most this many of its validation windows,
# spread evenly over them (all of them are held out of training): windows one step apart
# share all but one step, and on a panel of 695k windows scoring the 69k held out at
# every epoch took longer than training them (docs/defaults.md).
MAX_SCORED_WINDOWS = 16_384


def holdout_split(est, data: TensorData, seed: int):
    """``est``'s training and validation rows: the last ones (``_holdout_last``; at most
    MAX_SCORED_WINDOWS of them scored) or a random split, stratified when the target
    encoder says so; None held out without early stopping."""
    if not est._early_stopping():
        return data, None
    n = len(data)
    n_valid = est._n_validation(n)
    if (n_valid < 1 or n - n_valid < 1) and est._holdout_last and n < 20:
        # A forecaster on a short series: no windows to spare; its network is
        # then its linear start (TCNForecaster._resolve_budget).
        warnings.warn(
            f"{type(est).__name__}: {n} window(s) leave none to hold out for early "
            "stopping; fitting the linear start on all of them, without training.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        return data, None
    if n_valid < 1 or n - n_valid < 1:
        raise ValueError(
            f"early_stopping={est.early_stopping!r} with validation_fraction="
            f"{est.validation_fraction!r} (holding out {n_valid}) leaves no training or no "
            f"validation sample out of n_samples={n}; use more samples or "
            "early_stopping=False."
        )
    if est._holdout_last:
        scored = evenly(np.arange(n - n_valid, n), MAX_SCORED_WINDOWS)
        return data.subset(np.arange(n - n_valid)), data.subset(scored)
    train_idx, valid_idx = random_split(
        data.y.numpy(), n_valid, seed, classes=est.target_encoder_.stratify
    )
    return data.subset(np.sort(train_idx)), data.subset(np.sort(valid_idx))


def predict_progress(outputs, n_samples: int, batch_size: int):
    """``outputs`` (an iterator of batches) behind a progress bar."""
    from tqdm.auto import tqdm

    total = math.ceil(n_samples / max(1, batch_size))
    return tqdm(outputs, total=total, desc="predict", leave=False, disable=total < 2)


def use_compile(est) -> bool:
    if not est.compile:
        return False
    if not torch._dynamo.is_dynamo_supported():
        warnings.warn(
            "compile=True is not supported by this Python/torch build; "
            "training without torch.compile.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        return False
    return True


def epoch_batches(est, n_train: int) -> int:
    """Training batches per epoch: ``epoch_batches_`` (fewer than all, by
    :func:`~skresnet._budget.resolve_budget`), or every batch."""
    return est.__dict__.get("epoch_batches_") or n_batches(n_train, est.batch_size_)


def check_callbacks(callbacks) -> list:
    """The user's ``callbacks`` as a list, or a ValueError naming the entry that is not a
    skorch callback (an instance or class, alone or as a ``(name, callback)`` pair)."""
    from skorch.callbacks import Callback

    def is_callback(c) -> bool:
        return isinstance(c, Callback) or (isinstance(c, type) and issubclass(c, Callback))

    for i, entry in enumerate(callbacks or []):
        pair = isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)
        if not is_callback(entry[1] if pair else entry):
            raise ValueError(
                f"callbacks[{i}] is {entry!r}; expected a skorch callback (e.g. "
                "skorch.callbacks.Checkpoint()) or a (name, callback) pair."
            )
    return list(callbacks or [])


def make_callbacks(
    est,
    module: nn.Module,
    device: str,
    n_train: int,
    n_valid: int = 0,
    stopping: bool = True,
) -> list:
    callbacks = []
    if est.lr_schedule == "cosine":
        callbacks.append(
            (
                "lr_schedule",
                LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=est.max_epochs_),
            )
        )
    elif est.lr_schedule == "onecycle":
        callbacks.append(
            (
                "lr_schedule",
                LRScheduler(
                    torch.optim.lr_scheduler.OneCycleLR,
                    max_lr=est.lr,
                    total_steps=est.max_epochs_ * epoch_batches(est, n_train),
                    step_every="batch",
                ),
            )
        )
    if n_valid:  # before early stopping, which may read it
        callbacks.append(("valid_score", ValidationScore(est._score_kind)))
    callbacks.append(("finite_loss", FiniteLoss()))
    if est.verbose and _on_terminal():
        per_valid = predict_batch_size(est, module, device)
        batches = epoch_batches(est, n_train) + math.ceil(n_valid / per_valid)
        callbacks.append(("progress_bar", ProgressBar(batches_per_epoch=batches)))
    elif est.verbose:
        callbacks.append(("epoch_line", EpochLine()))
    # The user's callbacks are copied, so fitting never changes a parameter.
    # They come before early stopping, whose end of training skips the
    # callbacks after it: every callback above sees every epoch.
    callbacks.extend(copy.deepcopy(check_callbacks(est.callbacks)))
    if stopping and est._early_stopping():
        # A classifier of more than two classes stops on validation accuracy, as
        # scikit-learn's MLPClassifier, with ties broken by the validation log-loss
        # (``valid_rank``); a binary one, whose users read ROC AUC and
        # probabilities, and the regressors on the validation loss (log-loss for
        # the classifier: docs/defaults.md).
        on_score = est._score_kind == "accuracy" and len(est.__dict__.get("classes_", ())) > 2
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_rank" if on_score else "valid_loss",
                    lower_is_better=not on_score,
                    patience=est.n_iter_no_change,
                    threshold=1e-4,
                    threshold_mode="abs" if on_score else "rel",
                    load_best=True,
                ),
            )
        )
        start_kind = est._score_kind if on_score else None
        callbacks.append(("keep_start", KeepStartIfBest(start_kind)))
    if est.verbose:
        callbacks.append(("stop_line", StopLine()))
    return callbacks


def warn_slow_precision(precision: str, device: str) -> None:
    """Mixed precision on a CPU without bf16/fp16 units is emulated and several times slower."""
    if precision == "float32" or torch.device(device).type != "cpu" or _cpu_has_bf16():
        return
    warnings.warn(
        f"precision={precision!r} on this CPU (no native bf16/fp16 arithmetic) is "
        "emulated: training was measured 3-14x slower than float32. It is meant for "
        "GPUs; use precision='float32' on this machine.",
        UserWarning,
        stacklevel=caller_stacklevel(),
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
