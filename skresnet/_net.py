"""The skorch net behind every estimator: tensor batches, weighted losses, mixed precision.

This is the one module that relies on skorch internals beyond its
documented hooks: ``_set_training``, ``_zero_grad_optimizer`` and
``_optimizers`` (used by ``train_step`` as skorch's own does), and the
structure of ``partial_fit``, re-implemented here so that a Ctrl-C is not
swallowed. ``tests/test_skorch_internals.py`` fails if any of them changes.
"""

from __future__ import annotations

import linecache
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import TeeGenerator
from torch import nn

from ._data import BatchIterator, TensorData

_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class ResNetNet(NeuralNet):
    """A skorch ``NeuralNet`` that slices batches from tensors and weights the loss.

    Overrides: ``get_dataset`` and ``get_iterator`` (batches from
    :class:`~skresnet._data.TensorData` instead of a ``DataLoader``),
    ``get_loss`` (per-sample losses averaged with sample weights, errors
    divided by per-sample loss units, which a batch carries as
    ``X={"x": ..., "w": ..., "s": ...}``), ``infer`` (autocast for
    mixed precision), ``train_step`` and ``train_step_single`` (a gradient
    scaler for fp16), ``evaluation_step`` (row padding, see
    :meth:`_pad_rows`), ``predict`` (class indices for a classifier),
    ``initialize`` (the gradient scaler), ``run_single_epoch`` (batch
    losses kept on the device and synced once per epoch) and
    ``partial_fit`` (a ``KeyboardInterrupt`` propagates unless a callback
    raised it to stop training, as skorch's ``EarlyStopping`` does).

    Parameters
    ----------
    predict_batch_size : int
        Batch size for validation and prediction.
    precision : {"float32", "bf16", "fp16"}
    row_multiple : int
        On CPU, evaluation batches are padded to a multiple of this many
        rows (see :func:`cpu_row_multiple`).
    seed : int
        Seeds the generator that shuffles the training batches.
    max_batches : int or None
        Training batches per epoch at most: a random part of the training
        data each epoch (None: all of it).
    **kwargs
        Passed to :class:`skorch.NeuralNet`. The criterion must be built
        with ``reduction="none"``.
    """

    def __init__(
        self,
        *args,
        predict_batch_size: int = 4096,
        precision: str = "float32",
        row_multiple: int = 16,
        seed: int = 0,
        max_batches: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.predict_batch_size = predict_batch_size
        self.precision = precision
        self.row_multiple = row_multiple
        self.seed = seed
        self.max_batches = max_batches

    def initialize(self):
        super().initialize()
        device_type = torch.device(self.device).type
        self.grad_scaler_ = torch.amp.GradScaler(device_type, enabled=self.precision == "fp16")
        return self

    def get_iterator(self, dataset: TensorData, training: bool = False) -> BatchIterator:
        if training:
            generator = torch.Generator().manual_seed(self.seed)
            return BatchIterator(
                dataset,
                self.batch_size,
                shuffle=True,
                generator=generator,
                device=self.device,
                max_batches=self.max_batches,
            )
        return BatchIterator(dataset, self.predict_batch_size, device=self.device)

    def get_dataset(self, X, y=None):
        if isinstance(X, TensorData):
            return X
        if sp.issparse(X):
            return TensorData(X, (X.shape[1],), y)
        X = torch.as_tensor(np.asarray(X, dtype=np.float32) if not torch.is_tensor(X) else X)
        return TensorData(X, tuple(X.shape[1:]), y)

    def evaluation_step(self, batch, training=False):
        Xi, yi = batch
        Xi = _features(Xi)
        n = len(Xi)
        return super().evaluation_step((self._pad_rows(Xi), yi), training=training)[:n]

    def predict(self, X):
        """Class indices for a classifier (cross-entropy criterion), else the outputs."""
        out = self.predict_proba(X)
        return out.argmax(axis=1) if isinstance(self.criterion_, nn.CrossEntropyLoss) else out

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """skorch's ``partial_fit``, except that a Ctrl-C is not swallowed.

        skorch catches every ``KeyboardInterrupt`` so that a notebook user
        can stop training and keep the model; inside ``GridSearchCV`` that
        scores a half-trained model and goes on searching. Here only a
        ``KeyboardInterrupt`` raised by a callback (``EarlyStopping`` stops
        training that way) ends training normally.
        """
        if not self.initialized_:
            self.initialize()
        self.notify("on_train_begin", X=X, y=y)
        try:
            self.fit_loop(X, y, **fit_params)
        except KeyboardInterrupt as exc:
            if not raised_by_callback(exc):
                raise
        self.notify("on_train_end", X=X, y=y)
        return self

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch loop without a device sync per batch.

        skorch records each batch loss with ``loss.item()``, which makes the
        host wait for the device on every batch. Here each batch record
        holds the loss as a detached tensor until the epoch ends, when all
        of them become floats in one transfer: the history users read
        (``history_[:, "batches", :, "train_loss"]``, the epoch means
        ``train_loss`` and ``valid_loss``) is the same as skorch's, and a
        callback reading a batch loss during the epoch gets a 0-d tensor.
        """
        if iterator is None:
            return
        records, losses = [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            self.history.record_batch(prefix + "_loss", losses[-1])
            self.history.record_batch(prefix + "_batch_size", len(_features(batch[0])))
            records.append(self.history[-1]["batches"][-1])
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if losses:
            values = torch.stack(losses).float().cpu().tolist()  # the epoch's one sync
            for record, value in zip(records, values, strict=True):
                record[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", len(losses))

    def predict_batch(self, Xi: torch.Tensor) -> torch.Tensor:
        """Outputs for one batch already on the device, in eval mode and without autograd.

        What ``evaluation_step`` computes, without skorch's per-call checks
        (the estimator has checked it is fitted): the path of a small
        ``predict``, where those checks cost as much as the network.
        """
        n = len(Xi)
        self._set_training(False)
        with torch.inference_mode():
            return self.infer(self._pad_rows(Xi))[:n]

    def _pad_rows(self, Xi: torch.Tensor) -> torch.Tensor:
        # CPU kernels pick a different code path for a batch of a few rows
        # (e.g. a matrix-vector product for one row), so a row's output could
        # change in the last bit with the batch size. Padding a CPU batch to a
        # multiple of ``row_multiple`` rows makes predict(X)[i] equal
        # predict(X[i:i+1]) exactly.
        pad = (-len(Xi)) % self.row_multiple if Xi.device.type == "cpu" else 0
        if not pad:
            return Xi
        return torch.cat([Xi, Xi[-1:].expand(pad, *Xi.shape[1:])])

    def get_loss(self, y_pred, y_true, X=None, training=False):
        target = y_true
        weight = X.get("w") if isinstance(X, Mapping) else None
        unit = X.get("s") if isinstance(X, Mapping) else None
        criterion = self.criterion_
        if unit is not None:
            # Errors measured in each sample's own unit (the forecaster: its
            # series' scale), so that no series outweighs another by its size.
            y_pred = y_pred.float() / unit.view(len(unit), *(1,) * (y_pred.ndim - 1))
            target = target / unit.view(len(unit), *(1,) * (target.ndim - 1))
        members = getattr(self.module_, "n_members", 1) if training else 1
        if members > 1:
            # An ensemble's training output, (N, k, ...): each member's own loss,
            # averaged over the members (TabM), not the loss of their average.
            y_pred = y_pred.flatten(0, 1)
            target = target.repeat_interleave(members, dim=0)
        if not training and getattr(criterion, "label_smoothing", 0.0) > 0:
            # Label smoothing regularizes training; the validation loss that
            # early stopping compares is the plain log-loss.
            per_sample = nn.functional.cross_entropy(
                y_pred.float(), target, weight=criterion.weight, reduction="none"
            )
        else:
            per_sample = criterion(y_pred.float(), target)
        if members > 1:
            per_sample = per_sample.view(-1, members, *per_sample.shape[1:]).mean(dim=1)
        if per_sample.ndim > 1:
            per_sample = per_sample.flatten(1).mean(dim=1)
        if weight is None:  # all weights equal: the plain mean
            return per_sample.mean()
        # sum(w * l) / sum(w): with integer weights, the mean loss over the
        # rows repeated w times.
        return (per_sample * weight).sum() / weight.sum().clamp_min(1e-12)

    def _set_training(self, training=True):
        # skorch calls this before every batch; walking the module tree each
        # time costs ~4% of a small network's step, so only walk on a change.
        if self.module_.training != training:
            super()._set_training(training)

    def infer(self, x, **fit_params):
        x = _features(x)
        dtype = _AUTOCAST_DTYPES.get(self.precision)
        if dtype is None:
            return super().infer(x, **fit_params)
        with torch.autocast(torch.device(self.device).type, dtype=dtype):
            return super().infer(x, **fit_params)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.grad_scaler_.scale(loss).backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        # One optimizer step without a closure, so the fp16 gradient scaler
        # can unscale before callbacks see the gradients (e.g. clipping).
        self._zero_grad_optimizer(set_to_none=True)
        step = self.train_step_single(batch, **fit_params)
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        for optimizer in optimizers:
            self.grad_scaler_.unscale_(optimizer)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        for optimizer in optimizers:
            self.grad_scaler_.step(optimizer)
        self.grad_scaler_.update()
        return step


def raised_by_callback(exc: BaseException) -> bool:
    """Whether ``exc`` came from a ``raise`` statement in a skorch callback's method.

    skorch's ``EarlyStopping`` (and callbacks written like it) stop training
    by raising ``KeyboardInterrupt``; a Ctrl-C (SIGINT) raises it wherever
    the interpreter happens to be, which is not such a statement.
    """
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    line = linecache.getline(frame.f_code.co_filename, tb.tb_lineno).strip()
    return isinstance(frame.f_locals.get("self"), Callback) and line.startswith("raise")


def _features(X):
    """The input tensor of a batch's ``X`` part (``{"x": ..., "w": ...}`` when weighted)."""
    return X["x"] if isinstance(X, Mapping) else X


def cpu_row_multiple(module: nn.Module) -> int:
    """Smallest CPU batch multiple that keeps ``module``'s row outputs batch-independent.

    Measured with torch 2.13 on x86 at 1 to 16 threads: matrix products
    give the same bits for a row in any batch of at least 4 rows, but not in
    a batch of 1 to 3; convolutions (the TCN at one thread) need 16.
    Padding costs the forward of the extra rows, so fully connected networks
    pad to 4 (the default residual MLP's bare forward: about 250 us at 4 rows,
    315 us at 16, 190 us at 1, on 2 threads).
    """
    has_conv = any(isinstance(m, nn.modules.conv._ConvNd) for m in module.modules())
    return 16 if has_conv else 4


def to_preferred_memory_format(module: nn.Module, device: str) -> nn.Module:
    """``module`` in channels-last (NHWC) memory format if it has 2-D convolutions.

    With channels-last weights, PyTorch's CPU (oneDNN) and cuDNN convolutions
    run in NHWC and give NHWC activations from NCHW input, so the batches
    need no conversion of their own. Measured on 2 CPU threads, a 2-D
    ResNet on 32x32 images trains 1.26-1.30x faster this way; on GPUs NHWC
    is the layout tensor cores take. Other devices keep the default layout.
    """
    if torch.device(device).type not in ("cpu", "cuda"):
        return module
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    # Only in the measured regime: oneDNN's channels-last backward on one CPU
    # thread was seen to corrupt memory for 4-channel convolutions (crashes
    # with "free(): invalid pointer"), never at 8 channels or more.
    if convs and min(m.out_channels for m in convs) >= _MIN_CHANNELS_LAST:
        return module.to(memory_format=torch.channels_last)
    return module


_MIN_CHANNELS_LAST = 8
