"""ResidualMLPRegressor: the tabular ResNet for regression."""

from __future__ import annotations

from sklearn.base import RegressorMixin
from torch import nn

from ._base import BaseResNetEstimator
from ._budget import REFIT_MAX_ROWS, TABLE_MAX_TRAIN_FLOPS
from ._inputs import TableInput
from ._linear_start import ridge_start
from ._tabular import EMBEDDING, category_levels, n_embedded, scale_network_inputs
from ._targets import StandardTarget
from ._training import refit_always_within_budget, refit_within_budget, resolve_n_fits
from ._validation import Integral, Interval, Real, StrOptions, store_params
from .modules import OutputAverage, ResidualMLP

# n_fits="auto": fits averaged on tables of at most BAG_MAX_ROWS rows (_training.
# resolve_n_fits). Measured on HousePrices, Chicago, loans, diabetes and Friedman #1
# (docs/defaults.md).
BAG_MAX_ROWS = 10_000

LOSSES = {
    "mse": lambda: nn.MSELoss(reduction="none"),
    "huber": lambda: nn.HuberLoss(reduction="none", delta=1.0),
    "mae": lambda: nn.L1Loss(reduction="none"),
}


class RegressorOutputMixin:
    """``predict`` maps the network's outputs back through the target encoder."""

    def predict(self, X):
        """Predictions shaped as ``y`` in fit: ``(n_samples,)`` or ``(n_samples, n_outputs)``."""
        out = self._forward(X)  # checks that the estimator is fitted
        return self.target_encoder_.inverse_transform(out)


class ResidualMLPRegressor(RegressorOutputMixin, RegressorMixin, BaseResNetEstimator):
    """Residual MLP regressor for tabular data (Gorishniy et al., 2021).

    A linear stem, ``n_blocks`` residual blocks ``x + Dropout(Linear(Dropout(
    Act(Linear(Norm(x))))))`` and a normalized linear head, see
    :class:`skresnet.modules.ResidualMLP`. The target is standardized for
    training and mapped back in ``predict``.

    Parameters
    ----------
    n_blocks : int, default=2
    width : int, default=128
    hidden_factor : float, default=2.0
    dropout : float, default=0.1
    activation : {"relu", "gelu", "silu", "elu", "leaky_relu", "tanh"}, default="relu"
    norm : {"layer", "batch"} or None, default="layer"
    skip_connections : bool, default=True
    loss : {"mse", "huber", "mae"}, default="mse"
        Huber uses ``delta=1`` on the standardized target.
    standardize_target : bool, default=True
        Train on ``(y - mean) / std`` (weighted by ``sample_weight``).
    linear_start : bool, default=True
        Add a linear path from the input to the outputs and start training
        from a ``RidgeCV`` fitted on the training rows (the head zeroed), so
        the blocks learn only what ridge regression misses.
    n_members : int, default=1
        Members of a TabM-style ensemble inside the network, as in
        :class:`~skresnet.ResNetClassifier`.
    n_fits : int or "auto", default="auto"
        Independent fits whose predictions are averaged (bagging, Breiman
        1996): each has its own seed and validation rows, is early-stopped
        and refitted on every row, and ``module_`` is a
        :class:`~skresnet.modules.OutputAverage` of their networks. ``"auto"``:
        5 on tables of at most 10,000 rows where early stopping and the refit
        apply (a new fit, not a warm start), fewer where five would train more
        than 1e12 FLOPs together (the FLOP bound of one fit): the count
        nearest 1e12 over the first fit's FLOPs, so that together they train
        at most 4/3 of that; else 1. The
        fit takes about ``n_fits`` times as long; the mean varies less with
        the seed and cannot be thrown far by one fit's unlucky validation
        rows (docs/defaults.md).
    numeric_embedding : {"auto", "periodic"} or None, default="auto"
    preprocessing : {"auto"} or None, default="auto"
        Encoding of mixed-type DataFrames and periodic embeddings of
        numeric inputs, as in :class:`~skresnet.ResNetClassifier`.
    max_epochs, batch_size, lr, weight_decay, optimizer, lr_schedule, \
early_stopping, validation_fraction, n_iter_no_change, refit, device, \
precision, compile, random_state, verbose, warm_start, callbacks
        Training parameters, as in :class:`~skresnet.ResNetClassifier`
        (the validation split is not stratified).

    Attributes
    ----------
    preprocessor_ : ColumnTransformer or None
        The fitted encoding of a mixed-type DataFrame (``preprocessing``);
        None when ``X`` needed none. ``feature_names_in_`` and
        ``n_features_in_`` are then the frame's columns, ``sample_shape_``
        the encoded width.
    numeric_embedding_ : {"periodic", "mixed"} or None
        The embedding of numeric inputs that ``numeric_embedding`` chose;
        ``"mixed"``: in every other averaged fit, starting with the second.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_outputs_ : int
    y_loc_, y_scale_ : ndarray of shape (n_outputs_,)
        Target standardization.
    net_ : skorch.NeuralNet
    device_ : str
    n_iter_ : int
    loss_curve_ : list of float
        Training loss after each epoch (``history_[:, "train_loss"]``).
    validation_scores_ : list of float or None
        R2 on the validation rows after each epoch; None without early
        stopping. ``best_validation_score_`` is its maximum.
    validation_fraction_ : float or None
        The fraction of rows early stopping held out (``"auto"`` resolved);
        None when none was.
    best_loss_ : float or None
        Lowest training loss; None when validation rows were held out.

    References
    ----------
    Gorishniy et al. (2021), "Revisiting Deep Learning Models for Tabular
    Data", NeurIPS, arXiv:2106.11959.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skresnet import ResidualMLPRegressor
    >>> X, y = make_friedman1(n_samples=300, random_state=0)
    >>> reg = ResidualMLPRegressor(max_epochs=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _multi_output = True
    _y_numeric = True
    _refit_max_rows = REFIT_MAX_ROWS
    _max_train_flops = TABLE_MAX_TRAIN_FLOPS  # an MLP's FLOPs run slower (_budget.py)
    _averaging = OutputAverage
    _parameter_constraints: dict = {
        **BaseResNetEstimator._parameter_constraints,
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), StrOptions({"auto"})],
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "width": [Interval(Integral, 1, None, closed="left")],
        "hidden_factor": [Interval(Real, 0, None, closed="neither")],
        "norm": [StrOptions({"layer", "batch"}), None],
        "loss": [StrOptions(set(LOSSES))],
        "standardize_target": ["boolean"],
        "linear_start": ["boolean"],
        "preprocessing": [StrOptions({"auto"}), None],
        "refit": ["boolean", StrOptions({"auto"})],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "n_fits": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "numeric_embedding": [StrOptions({"auto", "periodic"}), None],
    }

    def __init__(
        self,
        *,
        n_blocks=2,
        width=128,
        hidden_factor=2.0,
        dropout=0.1,
        activation="relu",
        norm="layer",
        skip_connections=True,
        loss="mse",
        standardize_target=True,
        linear_start=True,
        n_members=1,
        n_fits="auto",
        preprocessing="auto",
        numeric_embedding="auto",
        max_epochs="auto",
        batch_size="auto",
        lr=1e-3,
        weight_decay=1e-4,
        optimizer="adamw",
        lr_schedule="cosine",
        early_stopping="auto",
        validation_fraction="auto",
        n_iter_no_change=20,
        refit="auto",
        device="auto",
        precision="float32",
        compile=False,
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        store_params(self, locals())

    def fit(self, X, y, sample_weight=None):
        """Train the network.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : ResidualMLPRegressor
        """
        return self._fit(X, y, sample_weight)

    # ---------------------------------------------------- composition
    def _input_spec(self) -> TableInput:
        return TableInput("ResidualMLPRegressor")

    def _target_encoder(self) -> StandardTarget:
        return StandardTarget(standardize=self.standardize_target)

    def _build_module(self) -> nn.Module:
        return ResidualMLP(
            self.sample_shape_[0],
            self.n_outputs_,
            n_blocks=self.n_blocks,
            width=self.width,
            hidden_factor=self.hidden_factor,
            dropout=self.dropout,
            activation=self.activation,
            norm=self.norm,
            skip_connections=self.skip_connections,
            linear_skip=self.linear_start,
            n_embedded=n_embedded(self),
            embedding=EMBEDDING,
            categories=category_levels(self),
            n_members=self.n_members,
        )

    def _init_module(self, module: nn.Module, train, seed: int, refit: bool = False) -> None:
        scaling = scale_network_inputs(self, module, train, seed)
        if self.linear_start:
            n_values = module.linear_skip.in_features
            module.start_linear(*ridge_start(train, seed, n_values, scaling))

    def _n_fits(self, n_samples: int, first) -> int:
        return resolve_n_fits(self, n_samples, first, BAG_MAX_ROWS)

    def _refit_within_budget(self, first, n_train: int, n_samples: int, epochs: int) -> bool:
        return refit_within_budget(self, first, n_train, n_samples, epochs)

    def _refit_always_within_budget(self, n_samples: int, n_valid: int) -> bool:
        return refit_always_within_budget(self, n_samples, n_valid)

    def _criterion(self) -> nn.Module:
        return LOSSES[self.loss]()
