"""Training curves of a fitted estimator (matplotlib, optional)."""

from __future__ import annotations

from sklearn.utils.validation import check_is_fitted

from ._callbacks import kept_epoch


def plot_history(estimator, *, ax=None):
    """Plot the per-epoch training and validation loss, and the learning rate if scheduled.

    Parameters
    ----------
    estimator : fitted ResNetClassifier, ResidualMLPRegressor or TCNForecaster
        Or a Pipeline ending in one.
    ax : matplotlib Axes, default=None
        A new figure is made when None. The learning rate goes on a twin axis.

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Needs matplotlib: ``pip install 'skresnet[plot]'``. The best epoch of
    early stopping (whose weights the model keeps) is marked. After a
    ``refit`` the curves are the early-stopped fit's
    (``early_stopping_history_``), which held the validation rows out; the
    final network trained that many epochs on every row.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plot_history needs matplotlib; install it with: pip install 'skresnet[plot]'"
        ) from None
    estimator = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    check_is_fitted(estimator, "net_")
    history = estimator.__dict__.get("early_stopping_history_") or estimator.history_
    epochs = [row["epoch"] for row in history]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for key, style in (("train_loss", "-"), ("valid_loss", "--")):
        values = [row.get(key) for row in history]
        if any(v is not None for v in values):
            ax.plot(epochs, values, style, label=key.replace("_", " "))
    best = kept_epoch(history)
    if best is not None:
        what = f"best epoch ({best})" if best else "best epoch (none: the start was kept)"
        ax.axvline(best, color="0.6", lw=1, ls=":", label=what)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    lrs = [
        row.get("event_lr", row["batches"][0].get("event_lr") if row["batches"] else None)
        for row in history
    ]
    if any(lr is not None for lr in lrs):
        twin = ax.twinx()
        twin.plot(epochs, lrs, color="0.5", lw=1, alpha=0.7)
        twin.set_ylabel("learning rate", color="0.4")
    ax.legend(loc="upper right")
    return ax
