"""Small building blocks shared by the networks: activations, norms, heads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
}

ActivationLike = str | type[nn.Module]


def get_activation(activation: ActivationLike) -> nn.Module:
    """Return a new activation layer from a name (``"relu"``, ``"gelu"``, ...) or a class.

    Parameters
    ----------
    activation : str or subclass of torch.nn.Module
        One of ``"relu"``, ``"gelu"``, ``"silu"``, ``"elu"``, ``"leaky_relu"``,
        ``"tanh"``, or a module class instantiated without arguments.
    """
    if isinstance(activation, str):
        try:
            return _ACTIVATIONS[activation]()
        except KeyError:
            raise ValueError(
                f"activation={activation!r} is not supported; expected one of "
                f"{sorted(_ACTIVATIONS)} or an nn.Module class."
            ) from None
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation()
    raise TypeError(f"activation must be a name or an nn.Module class, got {activation!r}.")


def get_tabular_norm(norm: str | None, num_features: int) -> nn.Module:
    """Return a normalization layer for ``(N, D)`` features.

    ``"layer"`` (default of the tabular networks) normalizes each row on its
    own, so sample weights and batch composition never change a row's output;
    ``"batch"`` is the batch norm of Gorishniy et al. (2021); ``None`` is
    the identity.
    """
    if norm == "layer":
        return nn.LayerNorm(num_features)
    if norm == "batch":
        return nn.BatchNorm1d(num_features)
    if norm is None or norm == "none":
        return nn.Identity()
    raise ValueError(f"norm={norm!r} is not supported; expected 'layer', 'batch' or None.")


def available_activations() -> list[str]:
    """Names accepted by :func:`get_activation`."""
    return sorted(_ACTIVATIONS)


class Dropout(nn.Dropout):
    """``nn.Dropout`` that can draw its masks from a given ``torch.Generator``.

    With ``generator=None`` (the default) it is ``nn.Dropout``. A training
    loop that sets a generator of its own (see :func:`drawing_from`) makes
    the masks independent of torch's global random state, so concurrent
    fits in threads neither disturb nor depend on each other.

    Parameters
    ----------
    p : float, default=0.5
        Probability of zeroing an element.
    inplace : bool, default=False
    """

    generator: torch.Generator | None = None

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__(p, inplace)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Drop elements of ``x`` (any shape) with probability ``p`` in training."""
        if self.generator is None or not self.training or self.p == 0:
            return super().forward(x)
        return x * _scaled_keep_mask(x, self.p, self.generator)


def _scaled_keep_mask(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """A dropout mask for ``x``: ``1 / q`` where kept (probability ``q``), else 0.

    Each element keeps with probability ``q = k / 2**16``, ``k = round((1 - p) * 2**16)``
    (``p`` to within 8e-6), and is scaled by the exact ``1 / q``, so the expected
    output is ``x``. Four elements share one 64-bit draw: on CPU, where every draw
    is a scalar Mersenne Twister step, this is 4-5 times faster than
    ``bernoulli_``, the largest single cost of a tabular MLP's training step.
    """
    n = x.numel()
    k = round((1.0 - p) * 65536)
    if k == 0:
        return torch.zeros_like(x)
    bits = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device)
    bits.random_(-(2**63), None, generator=generator)  # every one of the 64 bits
    # Sixteen bits each, read as int16: uniform on [-32768, 32767], k of them below t.
    # float16 and bfloat16 cannot hold every int16: the mask is made in float32.
    exact = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    draws = bits.view(torch.int16)[:n]
    nhwc = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
    if nhwc and not x.is_contiguous():
        n_rows, channels, height, width = x.shape  # drawn in x's memory order, as x is laid
        draws = draws.view(n_rows, height, width, channels).permute(0, 3, 1, 2)
    else:
        draws = draws.view(x.shape)
    draws = draws.to(exact)  # keeps the strides
    threshold = k - 32768
    # (t - draw) is an integer: at least 1 below t, at most 0 from t up.
    return (threshold - draws).clamp_(0.0, 1.0).mul_(65536 / k).to(x.dtype)


@contextlib.contextmanager
def drawing_from(module: nn.Module, generator: torch.Generator | None) -> Iterator[None]:
    """Make every :class:`Dropout` in ``module`` draw from ``generator`` inside the block."""
    layers = [m for m in module.modules() if isinstance(m, Dropout)]
    for layer in layers:
        layer.generator = generator
    try:
        yield
    finally:
        for layer in layers:
            layer.generator = None
