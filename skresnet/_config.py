"""GPU switches for training, set in one place like scikit-learn's ``set_config``.

Both are opt-in: ``None`` leaves torch's own settings as they are. During a
``fit`` the chosen values are applied to ``torch.backends`` and restored
afterwards, also when the fit fails, so nothing leaks into the caller's
session.

- ``cudnn_benchmark``: let cuDNN time its convolution algorithms for each
  input shape and keep the fastest. Faster convolutions for fixed shapes
  (every training batch but the last has one); the chosen algorithm may
  differ from run to run, so results are no longer bit-reproducible on the
  GPU.
- ``allow_tf32``: matrix products and convolutions in TensorFloat-32 on
  Ampere and later GPUs: a 10-bit mantissa instead of 23, several times the
  float32 throughput, and outputs that differ from float32 (and from the
  CPU) at about 1e-3 relative.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

_CONFIG: dict = {"cudnn_benchmark": None, "allow_tf32": None}


def get_config() -> dict:
    """The current switches: ``{"cudnn_benchmark": ..., "allow_tf32": ...}``."""
    return dict(_CONFIG)


def set_config(*, cudnn_benchmark: bool | None = None, allow_tf32: bool | None = None) -> None:
    """Set the switches applied during every later ``fit``; None leaves one unchanged.

    Examples
    --------
    >>> import skresnet
    >>> with skresnet.config_context(cudnn_benchmark=True):  # or set_config, for good
    ...     skresnet.get_config()["cudnn_benchmark"]
    True
    """
    for name, value in (("cudnn_benchmark", cudnn_benchmark), ("allow_tf32", allow_tf32)):
        if value is not None:
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool or None, got {value!r}.")
            _CONFIG[name] = value


@contextlib.contextmanager
def config_context(
    *, cudnn_benchmark: bool | None = None, allow_tf32: bool | None = None
) -> Iterator[None]:
    """The switches set for the ``with`` block only."""
    before = get_config()
    set_config(cudnn_benchmark=cudnn_benchmark, allow_tf32=allow_tf32)
    try:
        yield
    finally:
        _CONFIG.update(before)


@contextlib.contextmanager
def backend_switches() -> Iterator[None]:
    """Apply the configured switches to ``torch.backends`` for a fit, then restore them."""
    saved = (
        torch.backends.cudnn.benchmark,
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
    )
    if _CONFIG["cudnn_benchmark"] is not None:
        torch.backends.cudnn.benchmark = _CONFIG["cudnn_benchmark"]
    if _CONFIG["allow_tf32"] is not None:
        torch.backends.cuda.matmul.allow_tf32 = _CONFIG["allow_tf32"]
        torch.backends.cudnn.allow_tf32 = _CONFIG["allow_tf32"]
    try:
        yield
    finally:
        (
            torch.backends.cudnn.benchmark,
            torch.backends.cuda.matmul.allow_tf32,
            torch.backends.cudnn.allow_tf32,
        ) = saved
