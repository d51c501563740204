"""Resolving the ``device`` parameter, and seeding torch without touching the caller's RNG."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def resolve_device(device: str) -> str:
    """Turn ``"auto"`` into the best available device and check the others.

    ``"auto"`` is CUDA if available, else Apple MPS, else the CPU.
    """
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(
            f"device={device!r} is not a valid device; expected 'auto', 'cpu', "
            "'cuda', 'cuda:N' or 'mps'."
        ) from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine; use device='cpu' or device='auto'."
        )
    if parsed.type == "cuda" and parsed.index is not None:
        if parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    return device


@contextlib.contextmanager
def seeded(seed: int, device: str) -> Iterator[None]:
    """Seed torch's global generators for the block, then restore them.

    Weight initialization and dropout draw from the global generators; forking
    them keeps a fit reproducible without changing the caller's random state.
    """
    parsed = torch.device(device)
    cuda_devices = []
    if parsed.type == "cuda":
        cuda_devices = [parsed.index if parsed.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield
