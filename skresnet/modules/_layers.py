"""Small building blocks shared by the networks: activations, norms, heads."""

from __future__ import annotations

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
