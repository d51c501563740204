"""The callbacks of the training loop: finite losses, validation scores, keeping the
start, why training stopped, and the epoch lines of ``verbose``."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from skorch.callbacks import Callback

from ._net import _features


class FiniteLoss(Callback):
    """Stop ``fit`` with a ``ValueError`` when an epoch's loss is not finite.

    Checked once per epoch, from the epoch means in the history, so it adds
    no device sync; a diverging fit (too large a learning rate, or inputs of
    extreme scale) is reported instead of returning a model that predicts NaN.
    """

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key in ("train_loss", "valid_loss"):
            value = row.get(key)
            if value is not None and not math.isfinite(value):
                raise ValueError(
                    f"Training diverged: {key} is {value} at epoch {row['epoch']}. "
                    f"Lower the learning rate (lr={net.lr}) or standardize X "
                    "(e.g. StandardScaler); the estimator was left as before fit."
                )


class ValidationScore(Callback):
    """The validation rows' score after each epoch, recorded as ``valid_score``.

    Computed from the outputs the validation loss has already produced (no
    second pass), weighted by the sample weights (and class weights) when
    the fit has them: accuracy of the arg-max class (``kind="accuracy"``),
    or R2 averaged uniformly over the output columns (``kind="r2"``, with
    the quantile network's central quantile). R2 is the same in the
    network's scaled target space as after mapping back, because the
    target encoders scale each output column by an affine map. For the
    classifier, ``valid_rank`` (see :func:`rank`) is recorded too. One
    device sync per epoch.
    """

    def __init__(self, kind: str = "r2") -> None:
        self.kind = kind

    def on_epoch_begin(self, net, **kwargs):
        self.outputs_ = []

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if not training and y_pred is not None:
            self.add(net, y_pred, batch)

    def on_epoch_end(self, net, **kwargs):
        if self.outputs_:
            n_valid = sum(len(weight) for weight, _ in self.outputs_)
            score = self.result()
            net.history.record("valid_score", score)
            if self.kind == "accuracy":
                loss = net.history[-1]["valid_loss"]
                net.history.record("valid_rank", rank(score, n_valid, loss))

    def add(self, net, y_pred: torch.Tensor, batch) -> None:
        """Keep what one validation batch contributes, on the device."""
        X, y_true = batch
        y_pred = y_pred.detach()
        y_true = torch.as_tensor(y_true).to(y_pred.device)
        weight = X.get("w") if isinstance(X, Mapping) else None
        weight = torch.ones(len(y_true)) if weight is None else weight
        weight = torch.as_tensor(weight).to(y_pred.device).float()
        if self.kind == "accuracy":
            self.outputs_.append((weight, (y_pred.argmax(1) == y_true).float()))
            return
        if y_pred.dim() == y_true.dim() + 1:  # quantiles: the central one
            y_pred = y_pred[..., net.module_.median_index]
        self.outputs_.append((weight, torch.stack([y_true.float(), y_pred.float()]).flatten(2)))

    def result(self) -> float:
        """The score over the batches added since the last result (one sync)."""
        weight = torch.cat([w for w, _ in self.outputs_])
        weight = weight / weight.sum().clamp_min(1e-30)
        if self.kind == "accuracy":
            score = (weight * torch.cat([c for _, c in self.outputs_])).sum()
        else:
            y_true, y_pred = torch.cat([o for _, o in self.outputs_], dim=1)
            w = weight[:, None]
            residual = (w * (y_true - y_pred) ** 2).sum(0)
            total = (w * (y_true - (w * y_true).sum(0)) ** 2).sum(0)
            # scikit-learn's convention for a constant column: 1 if fitted exactly, else 0.
            r2 = torch.where(total > 0, 1 - residual / total.clamp_min(1e-30), residual == 0)
            score = r2.float().mean()
        self.outputs_ = []
        return score.item()


def kept_epoch(history) -> int | None:
    """The epoch whose weights the last early-stopped fit kept: the row
    :class:`KeepStartIfBest` marked ``kept`` (``EarlyStopping``'s best epoch), 0 when
    the start was kept, None without early stopping. Histories saved before
    the mark existed give their last ``valid_loss_best`` epoch."""
    for row in reversed(history):  # the latest fit's mark comes first
        if row.get("start_kept"):
            return 0
        if row.get("kept"):
            return row["epoch"]
    best = [row["epoch"] for row in history if row.get("valid_loss_best")]
    return best[-1] if best else None


def rank(accuracy: float, n_valid: int, loss: float) -> float:
    """What the classifier's early stopping maximizes: the number of validation rows
    classified right (weighted rows, with weights of mean one), ties broken by the
    lower validation log-loss (the fraction ``1 / (1 + loss)`` is below one row)."""
    return accuracy * n_valid + 1.0 / (1.0 + loss)


class KeepStartIfBest(Callback):
    """With early stopping: if no epoch beats the network as it started, end with the start.

    The network as it starts (a linear start, or the previous fit on a
    warm start) is measured on the validation rows before the first epoch,
    by what early stopping monitors: the validation loss, or for a
    classifier (``score_kind="accuracy"``) the :func:`rank`. If no epoch does
    better (for the rank, no epoch strictly better, as early stopping keeps
    the first best), those
    weights are restored at the end, after ``EarlyStopping`` loaded its
    best epoch. A fit then never ends worse, on the validation rows, than
    where it began. Which weights were kept is recorded in the history:
    ``start_kept`` on the last row, or ``kept`` on ``EarlyStopping``'s best
    epoch (see :func:`kept_epoch`).
    """

    def __init__(self, score_kind: str | None = None) -> None:
        self.score_kind = score_kind

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        _, valid = net.get_split_datasets(X, y)
        self.start_value_ = _evaluate_start(net, valid, self.score_kind)
        self.start_state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}

    def on_train_end(self, net, **kwargs):
        key = "valid_loss" if self.score_kind is None else "valid_rank"
        values = [row[key] for row in net.history if key in row]
        if self.score_kind is None:
            keep = bool(values) and self.start_value_ < min(values)
        else:
            keep = bool(values) and self.start_value_ >= max(values)
        if keep:
            net.module_.load_state_dict(self.start_state_)
            net.history.record("start_kept", True)
        else:
            best = dict(net.callbacks_)["early_stopping"].best_epoch_
            net.history[best - 1]["kept"] = True  # epochs of this fit count from 1
        self.start_state_ = None  # not kept with the model


def _evaluate_start(net, dataset, score_kind: str | None) -> float:
    """The validation loss (as skorch's ``valid_loss`` averages it, by batch size), or
    with ``score_kind="accuracy"`` the :func:`rank`, of the network as it is."""
    scorer = ValidationScore("accuracy") if score_kind == "accuracy" else None
    if scorer is not None:
        scorer.on_epoch_begin(net)
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in net.get_iterator(dataset, training=False):
            step = net.validation_step(batch)
            if scorer is not None:
                scorer.add(net, step["y_pred"], batch)
            n = len(_features(batch[0]))
            total += float(step["loss"]) * n
            count += n
    loss = total / max(count, 1)
    return loss if scorer is None else rank(scorer.result(), count, loss)


class EpochLine(Callback):
    """One plain line per epoch, for output that is not a terminal (a log file, a notebook
    cell's captured stream): no colour codes and no progress bar."""

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        parts = [f"epoch {row['epoch']}/{net.max_epochs}"]
        keys = ("train_loss", "valid_loss", "valid_score")
        parts += [f"{key} {row[key]:.4f}" for key in keys if key in row]
        if "dur" in row:
            parts.append(f"{row['dur']:.2f}s")
        print("  ".join(parts), flush=True)


def stop_reason(net) -> tuple[str, str]:
    """Why the last training of ``net`` stopped and which weights it kept: a kind
    (``"patience"``, ``"budget"``, ``"budget-improving"`` when the budget ended on the
    best epoch so far, or ``"epochs"`` without early stopping) and a sentence."""
    history = net.history
    stopping = dict(getattr(net, "callbacks_", [])).get("early_stopping")
    epochs = len(history)
    if stopping is None:
        return "epochs", f"trained the {epochs} epoch(s) asked for; kept the last."
    kept = kept_epoch(history)
    row = next((r for r in history if r["epoch"] == kept), None)
    scores = ""
    if row is not None:
        scores = f" (valid_loss {row['valid_loss']:.4f}" + (
            f", valid_score {row['valid_score']:.4f})" if "valid_score" in row else ")"
        )
    which = "kept the start (no epoch beat it)" if kept == 0 else f"kept epoch {kept}{scores}"
    if stopping.misses_ >= stopping.patience:
        return "patience", (
            f"no improvement in n_iter_no_change={stopping.patience} epochs; {which}."
        )
    kind = "budget-improving" if kept == history[-1]["epoch"] else "budget"
    still = " while the validation score was still improving" if kind != "budget" else ""
    return kind, f"the budget of max_epochs={net.max_epochs} epochs ended{still}; {which}."


class StopLine(Callback):
    """With ``verbose``: one line at the end of training saying why it stopped and which
    weights were kept (:func:`stop_reason`). Placed after early stopping and
    :class:`KeepStartIfBest`, whose choices it reports."""

    def on_train_end(self, net, **kwargs):
        kind, sentence = stop_reason(net)
        print(sentence if kind == "epochs" else f"stopped: {sentence}", flush=True)
