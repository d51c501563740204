"""The skorch net behind every estimator: tensor batches, weighted losses, mixed precision."""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.utils import TeeGenerator

from ._data import BatchIterator, TensorData

_CPU_ROW_MULTIPLE = 16
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class ResNetNet(NeuralNet):
    """A skorch ``NeuralNet`` that slices batches from tensors and weights the loss.

    Only skorch's documented hooks are overridden: ``get_iterator`` (batches
    from :class:`~skresnet._data.TensorData` instead of a ``DataLoader``),
    ``get_loss`` (per-sample losses averaged with sample weights), ``infer``
    (autocast for mixed precision) and ``train_step`` (a gradient scaler for
    fp16).

    Parameters
    ----------
    predict_batch_size : int
        Batch size for validation and prediction.
    precision : {"float32", "bf16", "fp16"}
    seed : int
        Seeds the generator that shuffles the training batches.
    **kwargs
        Passed to :class:`skorch.NeuralNet`. The criterion must be built
        with ``reduction="none"``.
    """

    def __init__(
        self,
        *args,
        predict_batch_size: int = 4096,
        precision: str = "float32",
        seed: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.predict_batch_size = predict_batch_size
        self.precision = precision
        self.seed = seed

    def initialize(self):
        super().initialize()
        device_type = torch.device(self.device).type
        self.grad_scaler_ = torch.amp.GradScaler(
            device_type, enabled=self.precision == "fp16"
        )
        return self

    def get_iterator(self, dataset: TensorData, training: bool = False) -> BatchIterator:
        if training:
            generator = torch.Generator().manual_seed(self.seed)
            return BatchIterator(
                dataset, self.batch_size, shuffle=True, generator=generator, device=self.device
            )
        return BatchIterator(dataset, self.predict_batch_size, device=self.device)

    def evaluation_step(self, batch, training=False):
        Xi, yi = batch
        n = len(Xi)
        pad = (-n) % _CPU_ROW_MULTIPLE if Xi.device.type == "cpu" else 0
        if pad:
            # CPU GEMM kernels treat the rows of a batch's ragged tail
            # differently, so a row's output can change in the last bit with
            # the batch size. Padding every batch to a multiple of 16 rows makes
            # predict(X)[i] equal predict(X[i:i+1]) exactly.
            Xi = torch.cat([Xi, Xi[-1:].expand(pad, *Xi.shape[1:])])
        return super().evaluation_step((Xi, yi), training=training)[:n]

    def get_loss(self, y_pred, y_true, X=None, training=False):
        target, weight = y_true
        per_sample = self.criterion_(y_pred.float(), target)
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
