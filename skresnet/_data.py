"""Training data held as tensors, and the iterator that slices batches from them.

skorch's default ``DataLoader`` collates samples one by one; here a batch is
one indexing op (``X[idx]``, or a slice) of tensors that were moved to the training
device once. Sparse input stays a SciPy CSR matrix on the host and only the
rows of the current batch are densified.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import skorch.dataset
import torch
from sklearn.model_selection import train_test_split

Batch = tuple["torch.Tensor | dict[str, torch.Tensor]", "torch.Tensor | None"]


class TensorData(skorch.dataset.Dataset):
    """Features, targets and sample weights of one fit or predict call.

    A skorch ``Dataset`` (its ``X`` and ``y`` are what skorch's scoring
    callbacks read), built without skorch's per-sample machinery.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...) or sparse matrix of shape (n_samples, n_features)
        Already validated, float32.
    sample_shape : tuple of int
        Shape of one sample as the network takes it; flat rows (dense or
        sparse) are reshaped to it.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs), optional
    sample_weight : ndarray of shape (n_samples,), optional
        Dropped when all weights are equal.
    loss_unit : ndarray of shape (n_samples,), optional
        The unit each sample's errors are measured in by the loss (the
        forecaster: its series' scale); None for the targets' own units.
    """

    def __init__(
        self,
        X: np.ndarray | sp.spmatrix | torch.Tensor,
        sample_shape: tuple[int, ...],
        y: np.ndarray | torch.Tensor | None = None,
        sample_weight: np.ndarray | torch.Tensor | None = None,
        loss_unit: np.ndarray | torch.Tensor | None = None,
    ) -> None:
        self.sample_shape = tuple(sample_shape)
        if sp.issparse(X):
            self.X = X.tocsr()
        elif isinstance(X, torch.Tensor):
            self.X = X
        else:
            X = np.ascontiguousarray(X, dtype=np.float32)
            # torch warns on read-only arrays (e.g. joblib memmaps); copy those.
            self.X = torch.from_numpy(X if X.flags.writeable else X.copy())
            self.X = self.X.reshape(len(self.X), *self.sample_shape)
        self.y = None if y is None else torch.as_tensor(y)
        self.w = None if sample_weight is None else torch.as_tensor(sample_weight)
        if self.w is not None and len(self.w) and bool((self.w == self.w[0]).all()):
            # Equal weights are no weights: the loss takes the plain mean.
            self.w = None
        self.s = None if loss_unit is None else torch.as_tensor(loss_unit, dtype=torch.float32)

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(self, i: int) -> Batch:
        return self.batch(slice(i, i + 1), torch.device("cpu"))

    def to(self, device: str | torch.device) -> TensorData:
        """Copy of this data with its dense tensors on ``device`` (no copy if already there)."""
        X = self.X if sp.issparse(self.X) else self.X.to(device)
        y = None if self.y is None else self.y.to(device)
        w = None if self.w is None else self.w.to(device)
        s = None if self.s is None else self.s.to(device)
        return TensorData(X, self.sample_shape, y, w, s)

    def subset(self, index: np.ndarray) -> TensorData:
        """Rows ``index`` of this data, as a new object."""
        idx = torch.as_tensor(index, dtype=torch.long)
        X = self.X[index] if sp.issparse(self.X) else self.X[idx]
        y = None if self.y is None else self.y[idx]
        w = None if self.w is None else self.w[idx]
        s = None if self.s is None else self.s[idx]
        return TensorData(X, self.sample_shape, y, w, s)

    def _features(self, index: torch.Tensor | slice, device: torch.device) -> torch.Tensor:
        if not sp.issparse(self.X):
            return self.X[index]
        rows = self.X[index if isinstance(index, slice) else index.cpu().numpy()]
        dense = torch.from_numpy(rows.toarray())
        return dense.reshape(len(dense), *self.sample_shape).to(device, non_blocking=True)

    def batch(self, index: torch.Tensor | slice, device: torch.device) -> Batch:
        """``(X_batch, y_batch)``; ``X_batch`` is ``{"x": ..., "w": ..., "s": ...}`` with
        weights or loss units (each key only when given).

        ``y_batch`` is None without targets. The weights travel with the
        features, so skorch's scoring callbacks see the plain targets.
        ``device`` is where sparse rows go once densified; dense tensors stay
        where :meth:`to` put them.
        """
        Xb = self._features(index, device)
        if self.w is not None or self.s is not None:
            extra = {"w": self.w, "s": self.s}
            Xb = {"x": Xb, **{k: v[index] for k, v in extra.items() if v is not None}}
        return Xb, None if self.y is None else self.y[index]


class BatchIterator:
    """Yield batches of a :class:`TensorData`, shuffled by a seeded generator when training.

    A last batch of a single sample is merged into the one before it, so
    batch norm always sees at least two samples in training. With
    ``max_batches``, a training pass yields only the first ``max_batches``
    batches of each epoch's fresh permutation: a random part of the data,
    drawn without replacement, a different part every epoch (GluonTS's
    ``num_batches_per_epoch``).
    """

    def __init__(
        self,
        data: TensorData,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        device: str | torch.device = "cpu",
        max_batches: int | None = None,
    ) -> None:
        self.data = data.to(device)
        self.shuffle = shuffle
        self.generator = generator
        self.device = torch.device(device)
        self.bounds = batch_bounds(len(data), batch_size, merge_single=shuffle)
        if shuffle and max_batches is not None:
            self.bounds = self.bounds[:max_batches]

    def __len__(self) -> int:
        return len(self.bounds)

    def __iter__(self) -> Iterator[Batch]:
        if self.shuffle:
            order = torch.randperm(len(self.data), generator=self.generator)
            order = order.to(self.device)
            for start, stop in self.bounds:
                yield self.data.batch(order[start:stop], self.device)
        else:
            for start, stop in self.bounds:
                yield self.data.batch(slice(start, stop), self.device)


def batch_bounds(n: int, batch_size: int, merge_single: bool) -> list[tuple[int, int]]:
    """``(start, stop)`` of each batch; ``merge_single`` joins a last 1-row batch to the prior."""
    batch_size = max(1, min(batch_size, n))
    bounds = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    if merge_single and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def n_batches(n_samples: int, batch_size: int) -> int:
    """Number of training batches per epoch, as :class:`BatchIterator` makes them."""
    return len(batch_bounds(n_samples, batch_size, merge_single=True))


def random_split(
    target: np.ndarray, n_valid: int, seed: int, classes: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation row indices, ``n_valid`` of them held out at random.

    For class targets (``classes``) the split is stratified where every class
    has two rows and room in both parts; otherwise one row of each class is
    drawn for training first and the others split at random, so that every
    class is always among the training rows (the linear start and the loss
    need them), whatever the seed.
    """
    n = len(target)
    if not classes:
        return train_test_split(np.arange(n), test_size=n_valid, random_state=seed)
    counts = np.bincount(target)
    counts = counts[counts > 0]
    if counts.min() >= 2 and min(n_valid, n - n_valid) >= counts.size:
        return train_test_split(np.arange(n), test_size=n_valid, random_state=seed, stratify=target)
    rng = np.random.RandomState(seed)
    anchors = np.array([rng.choice(np.flatnonzero(target == k)) for k in np.unique(target)])
    rest = np.setdiff1d(np.arange(n), anchors)
    n_valid = min(n_valid, len(rest))
    if n_valid < 1:
        raise ValueError(
            f"early stopping needs validation rows besides one training row per class; "
            f"got {n} rows of {len(anchors)} classes. Use more data or early_stopping=False."
        )
    if n_valid == len(rest):  # e.g. 3 rows of 2 classes: the third row validates
        return anchors, rest
    train_rest, valid_idx = train_test_split(rest, test_size=n_valid, random_state=seed)
    return np.concatenate([anchors, train_rest]), valid_idx
