"""ResNetClassifier: residual networks for rows, series and images."""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import ClassifierMixin
from torch import nn

from ._base import BaseResNetEstimator
from ._budget import MAX_TRAIN_FLOPS, REFIT_MAX_ROWS, TABLE_MAX_TRAIN_FLOPS
from ._inputs import ArrayInput
from ._linear_start import logistic_start
from ._tabular import EMBEDDING, category_levels, n_embedded, scale_network_inputs
from ._targets import LabelTarget
from ._training import refit_always_within_budget, refit_within_budget, resolve_n_fits
from ._validation import Integral, Interval, Real, StrOptions, check_int_tuple, store_params
from .modules import ResidualMLP, ResNet1D, ResNet2D

_DEFAULT_N_BLOCKS = {"mlp": 2, "resnet1d": 3, "resnet2d": 3}
_DEFAULT_WIDTH = {"mlp": 128, "resnet1d": 32, "resnet2d": 16}
# Longer series pass a strided stem that shortens them to at most this many steps.
MAX_SERIES_STEPS = 256


class ResNetClassifier(ClassifierMixin, BaseResNetEstimator):
    """Residual network classifier for tabular rows, series and small images.

    The shape of ``X`` picks the network (``architecture="auto"``):

    - ``(n_samples, n_features)``: residual MLP (Gorishniy et al., 2021),
      see :class:`skresnet.modules.ResidualMLP`;
    - ``(n_samples, channels, length)``: 1-D ResNet (Wang et al., 2017),
      see :class:`skresnet.modules.ResNet1D`;
    - ``(n_samples, channels, height, width)``: 2-D ResNet (He et al.,
      2016), see :class:`skresnet.modules.ResNet2D`.

    ``input_shape`` reshapes flat rows, so a 2-D ``Pipeline`` can feed
    series or images.

    Parameters
    ----------
    architecture : {"auto", "mlp", "resnet1d", "resnet2d"}, default="auto"
        ``"resnet1d"`` on flat rows treats each row as a one-channel series;
        ``"resnet2d"`` on ``(n, H, W)`` treats each sample as a one-channel
        image.
    input_shape : tuple of int, default=None
        ``(C, L)`` or ``(C, H, W)``: shape each flat row is reshaped to.
    n_blocks : int, default=None
        Residual blocks: 2 for the MLP, 3 for the 1-D ResNet, 3 per stage
        for the 2-D ResNet (ResNet-20) when None.
    width : int, default=None
        Width of the residual stream (MLP, 128), filters of the first block
        (1-D, 32: half of Wang et al.'s 64, a quarter of the compute at the
        same accuracy on the benchmark sets, docs/defaults.md) or planes of
        the first stage (2-D, 16) when None.
    hidden_factor : float, default=2.0
        MLP only: inner layer size of a block, as a multiple of ``width``.
    dropout : float, default=0.1
        MLP only (the convolutional ResNets of the papers use none).
    activation : {"relu", "gelu", "silu", "elu", "leaky_relu", "tanh"}, default="relu"
    norm : {"layer", "batch"} or None, default="layer"
        MLP only. Layer norm keeps sample weights exact; see
        :class:`~skresnet.modules.ResidualMLP`.
    block : {"basic", "bottleneck"}, default="basic"
        2-D ResNet only.
    kernel_sizes : tuple of int, default=None
        1-D ResNet only: kernel sizes of the convolutions in each block,
        ``(8, 5, 3)`` (Wang et al., 2017) when None. Series longer than 256
        steps first pass a strided stem that shortens them to at most 256
        (``stem_stride`` of :class:`~skresnet.modules.ResNet1D`).
    skip_connections : bool, default=True
        ``False`` builds the same network without shortcuts (the plain
        baseline of He et al., 2016).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
    linear_start : bool, default=True
        MLP only: add a linear path from the input to the logits and start
        training from a ``LogisticRegression`` fitted on the training rows
        (the head zeroed), so the blocks learn what it misses. For two
        classes its ``C`` is chosen among 1e-3 to 1 by the log-loss on a
        seeded fifth of those rows held out; for more, ``C=1``.
    n_members : int, default=1
        MLP only: with ``k > 1`` the network is a parameter-efficient
        ensemble of ``k`` members (TabM-mini, Gorishniy et al., 2024; see
        :class:`~skresnet.modules.ResidualMLP`): shared blocks, a rank-one
        adapter and a head per member, each member trained on its own loss
        and their probabilities averaged. It costs about ``k`` times the
        blocks' compute; on the MplsStops table 4 members gained 0.003-0.006
        ROC AUC at 2.7 times the fit time (docs/defaults.md), so the
        default is one.
    n_fits : int or "auto", default="auto"
        Independent fits whose class probabilities are averaged (bagging,
        Breiman 1996), as in :class:`~skresnet.ResidualMLPRegressor`: each has
        its own seed and validation rows, is early-stopped and refitted, and
        ``module_`` is one :class:`~skresnet.modules.ProbabilityAverage` of
        all their networks (two per fit after a refit). ``"auto"``: for rows
        (the MLP) where early stopping and the refit apply (a new fit, not a
        warm start), 5, or fewer where five would train more than 1e12 FLOPs
        together (the FLOP bound of one fit): the count nearest 1e12 over
        the first fit's FLOPs, at most 4/3 of it together; else 1. The fit
        takes about ``n_fits`` times as long; on MplsStops the ROC AUC rose
        from 0.810 to 0.813 (docs/defaults.md).
    numeric_embedding : {"auto", "periodic"} or None, default="auto"
        Periodic embeddings of numeric inputs (Gorishniy et al., 2022; see
        :class:`~skresnet.modules.PeriodicEmbedding`), which let the MLP fit
        step-like functions of a feature as trees do. ``"auto"``: the numeric
        columns of a DataFrame (encoded by ``preprocessing`` or, all numeric,
        standardized inside the network), when ``fit`` gets at least 1,000
        rows and 75 per numeric column; on fewer than 1,000 rows, where they
        overfit as often as they gain, in every other fit that ``n_fits``
        averages (``"mixed"``: the first fit not, the second does, ...); not
        those of an array, which may hold anything (on mostly redundant
        columns they overfit); ``"periodic"``: those, or every column of
        numeric input (scale it first); None: none. The choice made is
        ``numeric_embedding_``.
    preprocessing : {"auto"} or None, default="auto"
        ``"auto"``: a DataFrame with text or category columns, or missing
        values, is encoded inside the estimator (``preprocessor_``, built
        from scikit-learn's transformers): numeric columns median-imputed
        with a missing-value indicator per column that had any, robustly
        scaled and smoothly clipped (RealMLP's preprocessing); categorical
        columns one-hot encoded up to 20 levels (missing values a level of
        their own, unseen levels all zeros) and target encoded beyond
        (``TargetEncoder``, cross-fitted). Arrays and all-numeric frames
        without missing values pass unchanged. None: ``X`` must be numeric.
    label_smoothing : float, default=0.1
        The training targets mix ``1 - label_smoothing`` of the one-hot label
        with a uniform distribution (Szegedy et al., 2016; as RealMLP does
        for tables): probabilities stay moderate, and the validation loss
        that early stopping watches follows accuracy longer.
    max_epochs : int or "auto", default="auto"
        ``"auto"``: as many as fit in 1500 optimizer steps (or 20 epochs,
        where those take more steps) and in 2e12 training FLOPs for the
        ResNets, 0.8e12 for a table's MLP, whose FLOPs run at half the speed
        (each about 35-45 s on one CPU thread), at least 1 and at
        most 500: a function of the data size, never of the clock. The value
        used is ``max_epochs_``.
    batch_size : int or "auto", default="auto"
        ``"auto"``: a tenth of the training rows, within [8, 64] for the
        convolutional ResNets and [8, 256] for the MLP (``batch_size_``).
    lr : float, default=1e-3
    weight_decay : float, default=1e-4
    optimizer : {"adamw", "adam", "sgd"}, default="adamw"
    lr_schedule : {"cosine", "onecycle"} or None, default="cosine"
    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training rows (stratified,
        every class keeping a training row) and stop when the validation
        log-loss (two classes: what ROC AUC follows) or accuracy (more
        classes; ties broken by the lower log-loss, as ``valid_rank`` in
        ``history_``) has not improved for ``n_iter_no_change`` epochs; the
        best weights are kept, or the linear start if no epoch beat it. ``"auto"``:
        on for tables, off for series and images (small sets, where every
        sample counts, trained for their budget instead).
    validation_fraction : float or "auto", default="auto"
        The fraction of rows early stopping holds out. ``"auto"``: 0.3 where
        a refit on every row follows whatever epoch early stopping keeps
        (``refit``: within its FLOP bound even after the whole epoch budget),
        so the final network sees the validation rows too; else 0.2 (more
        than 50,000 rows, ``warm_start``, or a table whose late refit would
        pass the bound). Holding out 0.3 rather than 0.2 before a refit made
        the epoch choice less noisy (hpc_data's four classes: accuracy 0.838
        to 0.844); a tenth (e.g. 21 rows of 210) was too noisy to stop at the
        right epoch (docs/defaults.md).
    n_iter_no_change : int, default=20
        Epochs without improvement before early stopping ends training.
        Twenty rather than ten: on the 5000-row table the fits stopped after
        18-37 epochs with ten (accuracy 0.9225, five splits, one thread)
        and reached 0.9265 with twenty; the forecaster's fits gained too
        (docs/defaults.md, docs/forecasting.md).
    refit : bool or "auto", default="auto"
        After early stopping chose the epoch, train the final network again
        on every row, the validation ones included, for that many epochs
        (from a linear start solved on every row; zero epochs when early
        stopping kept the start), as ``GridSearchCV`` refits its best
        candidate. The classifier's refit follows the learning-rate schedule
        of a fit on all rows and stops after those epochs; the regressor's
        anneals over them (each chosen on six tables, docs/defaults.md).
        The classifier's final model then averages the class probabilities
        of the early-stopped network and the refitted one
        (:class:`~skresnet.modules.ProbabilityAverage`, ``module_``): a
        two-member ensemble without further training, 0.001-0.008 more
        accuracy or ROC AUC on six tables, at twice the prediction cost.
        ``"auto"``: when the training set has at most 50,000
        rows (above that, the held-out rows buy less than the refit's time),
        ``warm_start`` is off and, with ``max_epochs="auto"``, the early-stopped
        fit and the refit together train at most 1e12 FLOPs (about 45 s on
        one thread for a table's MLP; the ResNets' bound, 2e12, for theirs).
        Without early stopping there is nothing to refit. ``history_`` is
        then the final fit's, ``early_stopping_history_`` the early-stopped
        one's (``validation_scores_`` reads it).
    device : str or torch.device, default="auto"
        ``"auto"`` (CUDA, else MPS, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ..., or a ``torch.device``.
    precision : {"float32", "bf16", "fp16"}, default="float32"
        Mixed precision (autocast) for the forward pass; fp16 adds a
        gradient scaler.
    compile : bool, default=False
        Compile the network with ``torch.compile``.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, dropout, shuffling and the validation split. The same
        seed gives the same predictions on one CPU (for the same software and
        thread count); CPUs of another instruction set (AVX2, AVX-512) round
        differently (docs/design.md).
    verbose : int, default=0
        0 is silent; 1 shows a progress bar (one line per epoch when the output
        is not a terminal), the validation loss and score, and at the end why
        training stopped (the ``max_epochs`` budget, ``n_iter_no_change``
        epochs without improvement) and which epoch, or the linear start, was
        kept; 2 also shows a progress bar in ``predict`` and ``score`` of many
        rows.
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit``.
    callbacks : list of (name, skorch callback) or None, default=None
        Extra skorch callbacks, for experts. They run after the built-in ones
        and before early stopping, so they see every epoch; at the end of
        training they see the last epoch's weights, before early stopping
        restores the best.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
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
        Only when ``X`` had string column names.
    architecture_ : str
        The network that was built.
    sample_shape_ : tuple of int
        Shape of one sample as the network takes it.
    net_ : skorch.NeuralNet
        The trained net; ``module_`` and ``history_`` are its module and history.
        After a refit that trained, ``module_`` is a
        :class:`~skresnet.modules.ProbabilityAverage` of two networks of the
        same build (``module_.networks``: the early-stopped one, then the
        refitted one; with ``n_fits`` fits, each fit's pair in turn); a
        ``warm_start`` continues training all of them.
    validation_fraction_ : float or None
        The fraction of rows early stopping held out (``"auto"`` resolved);
        None when none was.
    max_epochs_, batch_size_ : int
        The budget trained with (``"auto"`` resolved); after a refit, the
        refit's: the length of its learning-rate schedule, of which it ran
        the kept epochs (``n_iter_``).
    device_ : str
    n_iter_ : int
        Epochs trained.
    loss_curve_ : list of float
        Training loss after each epoch (``history_[:, "train_loss"]``).
    validation_scores_ : list of float or None
        Accuracy on the validation rows after each epoch; None without early
        stopping. ``best_validation_score_`` is its maximum.
    best_loss_ : float or None
        Lowest training loss; None when validation rows were held out.

    Notes
    -----
    The convolutional ResNets use batch norm, whose statistics ignore sample
    weights: there, weights act on the loss only.

    References
    ----------
    He, Zhang, Ren, Sun. "Deep Residual Learning for Image Recognition." CVPR 2016.
    Gorishniy et al. "Revisiting Deep Learning Models for Tabular Data."
    NeurIPS 2021.
    Wang, Yan, Oates. "Time Series Classification from Scratch with Deep
    Neural Networks: A Strong Baseline." IJCNN 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skresnet import ResNetClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = ResNetClassifier(max_epochs=20, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _score_kind = "accuracy"
    _refit_max_rows = REFIT_MAX_ROWS
    # Measured (docs/defaults.md): on six classification tables the refit that follows
    # a full-length schedule won five; on six regression tables the one annealed over
    # the kept epochs won four, by more (the regressor keeps "kept").
    _refit_schedule = "full"
    # The refit model averages its probabilities with the early-stopped network's: +0.001
    # to +0.008 on six classification tables; on four regression tables the average of
    # the two lost on the smallest (docs/defaults.md), so the regressor keeps one.
    _refit_average = True
    _parameter_constraints: dict = {
        **BaseResNetEstimator._parameter_constraints,
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), StrOptions({"auto"})],
        "architecture": [StrOptions({"auto", "mlp", "resnet1d", "resnet2d"})],
        "input_shape": [tuple, list, None],
        "n_blocks": [Interval(Integral, 1, None, closed="left"), None],
        "width": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_factor": [Interval(Real, 0, None, closed="neither")],
        "norm": [StrOptions({"layer", "batch"}), None],
        "block": [StrOptions({"basic", "bottleneck"})],
        "kernel_sizes": [tuple, list, None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "linear_start": ["boolean"],
        "preprocessing": [StrOptions({"auto"}), None],
        "refit": ["boolean", StrOptions({"auto"})],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "n_fits": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "numeric_embedding": [StrOptions({"auto", "periodic"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        architecture="auto",
        input_shape=None,
        n_blocks=None,
        width=None,
        hidden_factor=2.0,
        dropout=0.1,
        activation="relu",
        norm="layer",
        block="basic",
        kernel_sizes=None,
        skip_connections=True,
        class_weight=None,
        linear_start=True,
        n_members=1,
        n_fits="auto",
        preprocessing="auto",
        numeric_embedding="auto",
        label_smoothing=0.1,
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
        X : array-like or sparse matrix of shape (n_samples, n_features), \
(n_samples, C, L) or (n_samples, C, H, W)
        y : array-like of shape (n_samples,)
            Labels of any type (int, str, bool).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : ResNetClassifier
        """
        return self._fit(X, y, sample_weight)

    def predict_proba(self, X):
        """Class probabilities, shape ``(n_samples, n_classes)``; rows sum to 1."""
        logits = self._forward(X)
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted labels, shape ``(n_samples,)``, of the same type as ``y`` in fit."""
        logits = self._forward(X)
        return self.target_encoder_.inverse_transform(np.argmax(logits, axis=1))

    # ---------------------------------------------------- composition
    def _input_spec(self) -> ArrayInput:
        return ArrayInput(self.architecture, self.input_shape)

    def _target_encoder(self) -> LabelTarget:
        return LabelTarget(class_weight=self.class_weight)

    def _build_module(self) -> nn.Module:
        arch = self.architecture_
        n_blocks = self.n_blocks or _DEFAULT_N_BLOCKS[arch]
        width = self.width or _DEFAULT_WIDTH[arch]
        n_classes = len(self.classes_)
        common = dict(
            n_blocks=n_blocks,
            width=width,
            activation=self.activation,
            skip_connections=self.skip_connections,
        )
        if arch == "mlp":
            return ResidualMLP(
                self.sample_shape_[0],
                n_classes,
                hidden_factor=self.hidden_factor,
                dropout=self.dropout,
                norm=self.norm,
                linear_skip=self.linear_start,
                n_embedded=n_embedded(self),
                embedding=EMBEDDING,
                categories=category_levels(self),
                n_members=self.n_members,
                member_average="probabilities",
                **common,
            )
        if arch == "resnet1d":
            kernel_sizes = (
                check_int_tuple("kernel_sizes", self.kernel_sizes)
                if self.kernel_sizes is not None
                else (8, 5, 3)
            )
            stem_stride = math.ceil(self.sample_shape_[1] / MAX_SERIES_STEPS)
            return ResNet1D(
                self.sample_shape_[0],
                n_classes,
                kernel_sizes=kernel_sizes,
                stem_stride=stem_stride,
                **common,
            )
        return ResNet2D(self.sample_shape_[0], n_classes, block=self.block, **common)

    def _init_module(self, module: nn.Module, train, seed: int, refit: bool = False) -> None:
        if self.architecture_ != "mlp":
            return
        scaling = scale_network_inputs(self, module, train, seed)
        if self.linear_start:
            n_values = module.linear_skip.in_features
            start = logistic_start(train, len(self.classes_), seed, n_values, scaling)
            module.start_linear(*start)

    @property
    def _max_train_flops(self) -> float:
        # the tables' MLP runs its FLOPs at half the ResNets' speed (_budget.py)
        mlp = self.__dict__.get("architecture_") == "mlp"
        return TABLE_MAX_TRAIN_FLOPS if mlp else MAX_TRAIN_FLOPS

    def _n_fits(self, n_samples: int, first) -> int:
        # series and images: one fit already spends the budget (docs/defaults.md)
        max_rows = REFIT_MAX_ROWS if self.architecture_ == "mlp" else 0
        return resolve_n_fits(self, n_samples, first, max_rows)

    def _refit_within_budget(self, first, n_train: int, n_samples: int, epochs: int) -> bool:
        return refit_within_budget(self, first, n_train, n_samples, epochs)

    def _refit_always_within_budget(self, n_samples: int, n_valid: int) -> bool:
        return refit_always_within_budget(self, n_samples, n_valid)

    def _criterion(self) -> nn.Module:
        return nn.CrossEntropyLoss(reduction="none", label_smoothing=self.label_smoothing)
