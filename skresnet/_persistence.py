"""Device-free training state: what a fitted estimator pickles instead of a live skorch net.

A fitted estimator never pickles torch tensors or modules. Its net is
reduced to plain data (numpy arrays, numbers, strings, lists and dicts):
the module's ``state_dict``, the optimizer's per-parameter state, the
history and the device it was trained on. Loading rebuilds the network
from the estimator's own parameters and fitted attributes and copies the
arrays in, on the training device if this machine has it, else on the CPU
with one warning. The same plain state is what ``warm_start`` continues
from and what ``skops.io`` stores without trusting any generic
reconstructor.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import torch

from ._device import device_available
from ._validation import caller_stacklevel
from ._version import __version__
from .exceptions import InconsistentVersionWarning

__all__ = ["InconsistentVersionWarning", "export_state", "load_state", "loadable_device"]


def versions() -> dict[str, str]:
    """Versions of the libraries a fitted estimator's state depends on."""
    import sklearn
    import skorch

    return {
        "skresnet": __version__,
        "torch": torch.__version__.split("+")[0],
        "skorch": skorch.__version__,
        "scikit-learn": sklearn.__version__,
    }


def check_versions(estimator_name: str, saved: dict | None) -> None:
    """Warn once if ``saved`` (None for a pickle older than the stamp) differs from now."""
    current = versions()
    saved = saved or {"skresnet": "<0.2"}
    if any(saved.get(k) != v for k, v in current.items() if k != "scikit-learn"):
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=estimator_name,
                original_versions=saved,
                current_versions=current,
            ),
            stacklevel=caller_stacklevel(),
        )


def _to_plain(obj: Any) -> Any:
    """``obj`` with tensors as numpy arrays and numpy scalars as Python numbers."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True).numpy()
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_plain(v) for v in obj)
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _to_tensors(obj: Any) -> Any:
    """Inverse of :func:`_to_plain` for optimizer state: arrays back to tensors."""
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.array(obj))
    if isinstance(obj, dict):
        return {k: _to_tensors(v) for k, v in obj.items()}
    return obj


def export_state(net, *, history: bool = True) -> dict:
    """The device-free state of a trained skresnet net (plain data only).

    ``history=False`` leaves the history out (a warm start keeps its own).

    Returns
    -------
    state : dict
        ``module`` (``state_dict`` as arrays), ``optimizer`` (per-parameter
        state as arrays), ``history`` (list of dicts), ``device`` and
        ``seed``.
    """
    return {
        "module": _to_plain(dict(net.module_.state_dict())),
        "optimizer": _to_plain(net.optimizer_.state_dict()["state"]),
        "history": _to_plain(_history_rows(net.history)) if history else [],
        "device": str(net.device),
        "seed": int(net.seed),
    }


def _history_rows(history) -> list:
    rows = []
    for row in history:
        row = dict(row)
        row["batches"] = [dict(b) for b in row.get("batches", [])]
        rows.append(row)
    return rows


def load_state(net, state: dict, *, history: bool = True) -> None:
    """Copy ``state`` (from :func:`export_state`) into an initialized net of the same shape.

    The optimizer keeps its own hyperparameters (``lr``, weight decay, the
    schedule's ``initial_lr``): only the per-parameter state (Adam moments,
    momentum) is taken over, so a warm start trains with the current ones.
    """
    weights = {k: torch.from_numpy(np.array(v)) for k, v in state["module"].items()}
    net.module_.load_state_dict(weights)
    fresh = net.optimizer_.state_dict()
    fresh["state"] = _to_tensors(state["optimizer"])  # copies every array
    net.optimizer_.load_state_dict(fresh)
    if history:
        net.history.clear()
        net.history.extend(copy.deepcopy(state["history"]))


def loadable_device(trained_on: str) -> str:
    """``trained_on`` if this machine has it, else ``"cpu"`` with one warning naming it."""
    if device_available(trained_on):
        return trained_on
    warnings.warn(
        f"This model was trained on device {trained_on!r}, which is not available "
        "here; it was loaded on the CPU (set device='cpu' to silence this for "
        "later fits).",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
    return "cpu"
