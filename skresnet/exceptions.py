"""Warnings and exceptions that skresnet raises."""

from ._persistence import InconsistentVersionWarning

__all__ = ["InconsistentVersionWarning"]
