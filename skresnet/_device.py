"""Resolving the ``device`` parameter, and seeding torch without touching the caller's RNG."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

_SUPPORTED = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def device_available(device: str) -> bool:
    """Whether ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) exists here."""
    parsed = torch.device(device)
    if parsed.type == "cpu":
        return True
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            return False
        return parsed.index is None or parsed.index < torch.cuda.device_count()
    if parsed.type == "mps":
        return _mps_available()
    return False


def resolve_device(device: str | torch.device) -> str:
    """Turn ``"auto"`` into the best available device and check the others.

    ``"auto"`` is CUDA if available, else Apple MPS, else the CPU. Any other
    value (a string, or a ``torch.device`` as skorch takes) must name a CPU,
    CUDA or MPS device that this machine has; it is returned as a string.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if _mps_available() else "cpu"
    expected = "expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ValueError(f"device={device!r} is not a valid device; {expected}.") from None
    if parsed.type not in _SUPPORTED:
        raise ValueError(f"device={device!r} is not supported; {expected}.")
    if not device_available(device):
        if parsed.type == "cuda" and torch.cuda.is_available():
            reason = f"only {torch.cuda.device_count()} CUDA device(s) are visible"
        else:
            reason = f"{parsed.type.upper()} is not available on this machine"
        raise ValueError(
            f"device={device!r} was requested but {reason}; use device='cpu' or device='auto'."
        )
    return device


# Module constructors draw their initial weights from torch's global
# generator. Forking it under this lock makes each build reproducible even
# when fits run concurrently in threads; training itself draws only from
# per-fit generators (batch order, dropout masks).
_GLOBAL_RNG_LOCK = threading.Lock()


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global CPU generator for the block, then restore it.

    Weight initialization draws from the global generator; forking it keeps
    a fit reproducible without changing the caller's random state. The block
    holds a lock, so keep it short (building a module, not training it).
    """
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
