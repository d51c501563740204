"""Warnings and exceptions that skresnet raises."""

__all__ = ["InconsistentVersionWarning"]


class InconsistentVersionWarning(UserWarning):
    """A fitted estimator was saved with another version of skresnet (or torch, skorch).

    Like scikit-learn's warning of the same name: the model usually loads
    and predicts, but nothing guarantees it. Refit, or load it under the
    versions it was saved with (``original_versions``).
    """

    def __init__(self, *, estimator_name: str, original_versions: dict, current_versions: dict):
        self.estimator_name = estimator_name
        self.original_versions = original_versions
        self.current_versions = current_versions
        changed = {
            k: (original_versions.get(k), v)
            for k, v in current_versions.items()
            if original_versions.get(k) != v
        }
        detail = ", ".join(
            f"{k} {'unknown' if old is None else old} -> {new}" for k, (old, new) in changed.items()
        )
        super().__init__(
            f"{estimator_name} was saved with different library versions ({detail}). "
            "It may predict differently or fail; refit it, or load it under the "
            "versions it was saved with."
        )
