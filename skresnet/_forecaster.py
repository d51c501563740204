"""TCNForecaster: multi-step forecasts from windows of past observations."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from torch import nn

from ._base import BaseResNetEstimator
from ._budget import FORECASTER_MAX_STEPS, FORECASTER_MAX_TRAIN_FLOPS
from ._callbacks import kept_epoch
from ._forecast_outputs import ForecastOutputs
from ._inputs import WindowInput
from ._regressor import LOSSES, RegressorOutputMixin
from ._targets import ChannelTarget
from ._validation import Integral, Interval, StrOptions, store_params
from ._version import __version__, release
from .modules import PinballLoss, TCNForecastNet
from .timeseries import _conformal as conformal
from .timeseries._windows import series_units

# Ridge penalties the linear skip's start chooses from (relative to the mean feature
# variance), on held-out training windows (below). With fewer windows than
# _MIN_ROWS_TO_CHOOSE_ALPHA the start is the best-fitting seasonal naive forecast (the
# largest penalty), and the network trains no further: too few windows to learn from.
_LINEAR_SKIP_ALPHAS = tuple(float(a) for a in 10.0 ** np.arange(-3.0, 4.5, 0.5))
# The candidates are scored by blocked cross-validation over _START_FOLDS contiguous
# stretches of time where the windows come from several series (make_windows with
# groups=), by a fit on the first 80% forecasting the last 20% for one series. On a
# panel the last 20% is one stretch of calendar time for every series, which a shock
# common to them dominates (Texas home sales after the 2008 crash: a nearly flat start
# that lost the test by 40%); on the 13 short series the blocks, a few windows long and
# overlapping their neighbours, chose worse (median MASE 0.927 to 0.971;
# docs/defaults.md).
_START_FOLDS = 5
_MIN_ROWS_TO_CHOOSE_ALPHA = 20
# With max_epochs="auto", a start fitted on fewer training windows than this is not
# trained further: on 14 short series and panels (61 to 288 windows) training beyond the
# start lost more often than it won (sum of MASE 15.85 untrained, 16.75 trained), as on
# visnights' 378 (1.050 against 1.012); El Nino's 562 gain from it (docs/defaults.md).
_MIN_WINDOWS_TO_AUTO_TRAIN = 500


class TCNForecaster(ForecastOutputs, RegressorOutputMixin, RegressorMixin, BaseResNetEstimator):
    """Temporal Convolutional Network forecaster (Bai, Kolter & Koltun, 2018).

    A sample is a window of past observations and its target the next
    ``horizon`` values: ``X`` of shape ``(n_windows, lookback)`` for one
    series, or ``(n_windows, lookback, n_channels)`` with covariates (time
    along axis 1, oldest first; the target series is channel
    ``target_channel``); ``y`` of shape ``(n_windows,)`` or
    ``(n_windows, horizon)``. ``skresnet.timeseries.make_windows`` builds
    both from a series. Since each row is an independent window, the
    estimator works in every scikit-learn tool, ``GridSearchCV`` with
    ``TimeSeriesSplit`` included.

    The network is causal (left padding only) with dilations doubling per
    level; by default its depth is the smallest whose receptive field covers
    ``lookback`` (``receptive_field_``). A linear head on the last time step
    gives all ``horizon`` values at once. Each channel is standardized with
    training statistics; with ``normalize="window"`` the target channel of
    every window is also standardized by its own mean and spread and the
    forecast mapped back (RevIN, Kim et al., 2022), so levels and trends
    outside the training range are handled.

    Parameters
    ----------
    channels : int, default=32
        Channels of every temporal block.
    n_levels : int, default=None
        Temporal blocks (dilation ``2**i`` at level ``i``). None: the fewest
        whose receptive field covers ``lookback``.
    kernel_size : int, default=3
    dropout : float, default=0.1
    activation : {"relu", "gelu", "silu", "elu", "leaky_relu", "tanh"}, default="relu"
    weight_norm : bool, default=True
        Weight normalization of the convolutions, as in the paper.
    skip_connections : bool, default=True
        Residual connections of the temporal blocks.
    linear_skip : bool, default=True
        Add a linear map from the whole normalized window to the forecast,
        set to a ridge solution before training while the TCN head starts at
        zero: the network begins as a good linear forecaster and the TCN
        learns what it misses (the highway of LSTNet, Lai et al., 2018;
        NLinear, Zeng et al., 2023). The ridge shrinks towards a seasonal
        naive forecast (``linear_skip_prior_``: a season length, with or
        without drift, chosen by its error on the training windows) and its
        penalty among 15 (1e-3 to 1e4 times the mean feature variance) by how
        well a fit on the first 80% of the training windows forecasts the last
        20%; for windows of several series (``make_windows`` with ``groups``),
        how well fits on four fifths of the time forecast the fifth left out,
        each fifth in turn (blocked cross-validation, Bergmeir et al., 2018;
        ``linear_skip_alpha_``); from fewer than 20 windows the network
        is that seasonal naive forecast, untrained, and with the default
        ``max_epochs="auto"`` a start fitted on fewer than 500 windows is not
        trained further (measured: training so few windows lost to the start
        more often than it won). The skip also links each
        forecast step directly to the future covariates' values at that step.
    normalize : {"window"} or None, default="window"
        ``"window"``: the target of each window is read in its own units (its
        mean and spread) and the forecast mapped back, and the loss measures
        each window's error in its series' units, so the model is equivariant
        to each series' scale: one global model serves series of any level
        (a panel from ``make_windows(..., groups=)``). None: one fixed
        standardization for every window, fitted on the training data.
    target_channel : int, default=0
    loss : {"mse", "huber", "mae"}, default="mse"
        With ``quantiles``, the pinball loss is used and ``loss`` must stay
        "mse".
    quantiles : sequence of float in (0, 1) or None, default=None
        Train one network on the pinball loss of all these quantiles at once
        (e.g. ``(0.1, 0.5, 0.9)``): 0.5 and pairs ``p``, ``1 - p``, each pair
        the bounds of a central interval of coverage ``1 - 2p``. The
        forecasts never cross: the median is computed as the point forecast is, and the others
        add non-negative, cumulative gaps to it (see
        :class:`~skresnet.modules.TCNForecastNet`). ``predict`` returns the
        median; ``predict_quantiles`` all of them;
        ``predict_interval`` a central interval.
    conformal : bool or "auto", default="auto"
        With ``quantiles``: widen or narrow each central interval by split
        conformal calibration on the validation windows, so that its
        coverage on windows like those holds whatever the network's
        calibration: its distances from the middle quantile are multiplied
        by a factor (``conformal_factors_``), the conformal quantile of how
        far out the validation values lie in units of their own interval
        (normalized scores, as in conformalized quantile regression, Romano
        et al., 2019), over the last validation windows (at most 100 per
        series, when ``X`` came from ``make_windows``): per
        horizon step from 100 windows on, pooled over the steps below that.
        ``update_calibration`` moves this window on to newly observed
        windows (``backtest`` does, origin by origin), so the intervals
        follow errors that drift after the fit.
        Needs ``early_stopping=True`` (whose validation windows it reuses).
        ``"auto"``: on for quantile models with early stopping (and no
        ``refit=True``); a refitted linear start keeps the calibration of
        the held-out one (see ``refit``). Measured in docs/forecasting.md.
    ets : bool or "auto", default="auto"
        Combine the network's forecast with a statistical member, 2/3 of
        statsmodels' damped Holt-Winters and 1/3 of Theta (its theta line chosen at a
        history's last origins), fitted on each window (or its ``context``, see ``predict``) in its
        own units, with a season of ``season_length_`` steps: ``w * network + (1 - w) * member``
        (quantiles shifted with their median). ``w`` among 0, 0.25, ..., 1
        has the lowest scaled absolute error on validation windows of targets
        no training window had (at most 50; ``ets_context_weight_`` on their
        histories; 0 or 1 only 3% below the next weight, unless covariates);
        from fewer than 50, 0.2 unless the network alone is clearly better
        (20% lower error: 1); from fewer than 10, 0.2. Each window predicted
        costs the two fits (about 60 ms) unless the weight is 1. ``"auto"``:
        on with ``early_stopping``; ``True`` requires it (docs/benchmarks/panels.md).
    season_length : int or None, default=None
        The member's season, in steps (12 for monthly data). None: that of the seasonal
        naive forecast that fits the training windows best (the shortest within 10% that
        beats its neighbours: 52 weeks, not 51; none without ``linear_skip``); where
        that is the last value, the season of the forecast the start shrinks towards if
        the series' differences show it at 1%, else one that a panel's differences show
        (``timeseries._seasonality``); then the shortest divisor of it that the series
        repeat nearly as well (12 months where 24 fit the windows best). 13 to 24 steps:
        STL and a damped trend for Holt-Winters; over 24, Theta alone.
    nonnegative : bool or "auto", default="auto"
        Floor forecasts and quantiles at 0 (``nonnegative_``), for a quantity that
        cannot be negative (sales, counts): for such outcomes the floor can only
        lower absolute, squared and pinball errors and raise interval coverage.
        ``"auto"``: when no target value of the training windows is negative; set
        False for a quantity that can turn negative and has not yet (a balance).
    max_epochs : int or "auto", default="auto"
        ``"auto"``: at most 1000 optimizer steps (1500 for the other
        estimators: a TCN step on a long window costs more than its FLOPs
        say) and 2e12 training FLOPs, at most 500 epochs, within which
        early stopping ends training: 500 epochs for airline's 61 windows,
        43 for taylor's 3,154, about 45 s on one CPU thread
        (docs/defaults.md).
    batch_size : int, default=128
    early_stopping : bool, default=True
        Hold out the last ``validation_fraction`` of the windows and stop
        when their loss has not improved for ``n_iter_no_change`` epochs,
        keeping the best weights. On by default, unlike the other
        estimators: an epoch is one optimizer step on a 100-window series
        and dozens on a long one, so no fixed epoch count suits both (with
        a fixed 100 epochs, airline's error was 31% higher).
    refit : bool or "auto", default="auto"
        After early stopping, train the final network afresh on all the
        windows, the held-out most recent ones included, for the number of
        epochs early stopping chose (as ``GridSearchCV`` refits its best
        setting on all the data). ``"auto"``: for point forecasts (no
        ``quantiles``) from at most 1000 windows, where the last windows are
        a large share of what is known and a second fit costs little.
        Measured (MASE, 3 seeds, early-stopped against refit): wine sales
        (93 windows) 1.051 against 0.936, El Nino (613) 0.806 against
        0.772, airline (61) 0.543 against 0.597; on sunspots' 2,650 windows
        a refit lost (0.85 to 0.87), as on airline's quantile model (median
        0.57 to 0.64) (docs/defaults.md). A quantile model from at most
        1000 windows refits only when early stopping kept its linear start
        (no epoch beat it): the start is then solved again on every window,
        and its conformal calibration is the held-out start's, scored on
        validation windows it had not seen (wine sales: pinball loss 0.343
        to 0.321; docs/forecasting.md). ``refit=True`` refuses
        ``conformal=True``, which calibrates on windows the refit would train on.
        ``history_`` is the final fit's; ``early_stopping_history_`` the
        early-stopped one's.
    lr, weight_decay, optimizer, lr_schedule, \
validation_fraction, n_iter_no_change, device, precision, compile, \
random_state, verbose, warm_start, callbacks
        Training parameters, as in :class:`~skresnet.ResNetClassifier`.
        With ``early_stopping=True`` the validation windows are the last
        ``validation_fraction`` of the rows, as ``make_windows`` orders them
        (time order, also across the series of ``groups``), not a random
        draw: neighbouring windows overlap, so a random split would validate
        on near copies of training windows.

    Attributes
    ----------
    lookback_ : int
    n_channels_ : int
    horizon_ : int
        Number of steps predicted, ``y.shape[1]`` (1 for 1-D ``y``).
    receptive_field_ : int
    linear_skip_alpha_ : float
        The ridge penalty of the linear skip's start (with ``linear_skip``).
    linear_skip_prior_ : tuple of (int, bool) or None
        What that ridge shrinks towards: ``(season, drift)``, a seasonal naive
        forecast (with drift or not), or None for zero. A refit on all windows
        keeps the penalty and prior the early-stopped fit chose.
    channel_names_ : ndarray of shape (n_channels_,)
        Labels of the channels, when ``X`` came from ``make_windows``:
        ``forecast`` then takes a DataFrame's columns by name.
    n_future_ : int or None
        How many of the channels are future covariates (known in advance),
        when ``X`` came from ``make_windows``; None for a plain array.
    n_series_ : int
        How many series the training windows were cut from
        (``make_windows`` with ``groups``); 1 for anything else.
    n_features_in_ : int
        ``lookback_``, as scikit-learn counts the columns of ``X``.
    ets_weight_, ets_context_weight_ : float
        The network's weight in the combination with the statistical member reading
        each window alone, and reading its ``context`` (1: the network alone).
    season_length_ : int
        The season length the statistical member used (1: none).
    nonnegative_ : bool
        Whether forecasts and quantiles are floored at 0 (``nonnegative``).
    quantiles_ : ndarray of shape (n_quantiles,) or None
        The sorted quantile levels, when ``quantiles`` is set.
    conformal_factors_ : ndarray of shape (horizon_, n_quantiles // 2) or None
        With ``conformal``, what each central interval's distances from the
        median are multiplied by, per horizon step (pooled below 100
        calibration windows), widest interval first.
    calibration_scores_ : ndarray of shape (n_calibration, horizon_, n_quantiles // 2) or None
        The scores the factors come from: at fit the last validation windows
        (at most 100 per series), then ``update_calibration``'s.
    interval_widths_ : ndarray of shape (horizon_, n_quantiles // 2) or None
        The intervals' half-widths in units of each window's mean absolute value,
        from the statistical member's errors at the last origins of each series
        (at most 12 a series and 48 in all, at least one a series). With no
        window to hold out they are the intervals; where fewer than 100 windows
        calibrated and the member counts, the quantiles are the average of the
        calibrated ones and these.
    net_ : skorch.NeuralNet
    device_ : str
    n_iter_ : int
    early_stopping_history_ : list of dict or None
        The early-stopped fit's history (rows as in ``history_``) when ``refit`` trained the final
        network on all windows (its epoch count is ``n_iter_``); else None.
    loss_curve_ : list of float
        Training loss after each epoch (``history_[:, "train_loss"]``).
    validation_scores_ : list of float or None
        The network's R2 (median; before any ``ets`` combination) on the validation rows
        after each epoch; None without early stopping. Maximum: ``best_validation_score_``.
    validation_fraction_ : float or None
        ``validation_fraction`` where windows were held out; None where none were
        (no early stopping, or too few windows).
    best_loss_ : float or None
        Lowest training loss; None when validation rows were held out.

    References
    ----------
    Bai, Kolter, Koltun. "An Empirical Evaluation of Generic Convolutional
    and Recurrent Networks for Sequence Modeling." arXiv:1803.01271, 2018.
    Kim et al. "Reversible Instance Normalization for Accurate Time-Series
    Forecasting against Distribution Shift." ICLR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skresnet import TCNForecaster
    >>> from skresnet.timeseries import make_windows
    >>> series = np.sin(np.arange(300) / 5)
    >>> X, y = make_windows(series, lookback=24, horizon=6)
    >>> tcn = TCNForecaster(max_epochs=20, random_state=0).fit(X, y)
    >>> tcn.predict(X[-1:]).shape
    (1, 6)
    """

    _multi_output = True
    _accept_sparse = False  # windows are dense; sparse input is refused by name
    _holdout_last = True  # early stopping validates on the latest windows
    # a window's forecast scales with it; a StandardScaler would scale each lag apart
    _rescale_hint = (
        "Divide the series by a constant first (the forecasts scale with it) and "
        "multiply the forecasts back."
    )
    _max_steps = FORECASTER_MAX_STEPS
    _max_train_flops = FORECASTER_MAX_TRAIN_FLOPS  # a TCN's FLOPs run slower (_budget.py)
    _min_epochs = 0  # a fixed step budget (taylor's 3,154 windows: 43 epochs)
    # A large panel's epoch is a random tenth of the budget's steps, so that the budget
    # holds and early stopping judges ten times: 357,000 daily windows (births by state)
    # would otherwise be one epoch of 2,800 batches, and with four judgements a fit that
    # ends on a still-falling loss kept whatever its last epoch was (docs/defaults.md)
    _max_epoch_batches = FORECASTER_MAX_STEPS // 10
    _y_numeric = True
    _parameter_constraints: dict = {
        **BaseResNetEstimator._parameter_constraints,
        "channels": [Interval(Integral, 1, None, closed="left")],
        "n_levels": [Interval(Integral, 1, None, closed="left"), None],
        "kernel_size": [Interval(Integral, 2, None, closed="left")],
        "weight_norm": ["boolean"],
        "linear_skip": ["boolean"],
        "normalize": [StrOptions({"window"}), None],
        "target_channel": [Interval(Integral, 0, None, closed="left")],
        "loss": [StrOptions(set(LOSSES))],
        "quantiles": [list, tuple, np.ndarray, None],
        "conformal": ["boolean", StrOptions({"auto"})],
        "ets": ["boolean", StrOptions({"auto"})],
        "season_length": [Interval(Integral, 1, None, closed="left"), None],
        "refit": ["boolean", StrOptions({"auto"})],
        "nonnegative": ["boolean", StrOptions({"auto"})],
    }

    def __init__(
        self,
        *,
        channels=32,
        n_levels=None,
        kernel_size=3,
        dropout=0.1,
        activation="relu",
        weight_norm=True,
        skip_connections=True,
        linear_skip=True,
        normalize="window",
        target_channel=0,
        loss="mse",
        quantiles=None,
        conformal="auto",
        ets="auto",
        season_length=None,
        nonnegative="auto",
        max_epochs="auto",
        batch_size=128,
        lr=1e-3,
        weight_decay=1e-4,
        optimizer="adamw",
        lr_schedule=None,
        early_stopping=True,
        refit="auto",
        validation_fraction=0.1,
        n_iter_no_change=20,
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
        """Train on windows.

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback) or (n_windows, lookback, n_channels)
        y : array-like of shape (n_windows,) or (n_windows, horizon)
        sample_weight : array-like of shape (n_windows,), default=None

        Returns
        -------
        self : TCNForecaster
        """
        return self._fit(X, y, sample_weight)

    @property
    def horizon_(self) -> int:
        return self.n_outputs_

    def __setstate__(self, state):
        saved = (state.get("_skresnet_versions") or {}).get("skresnet", "<0.2")
        if "_net_state" in state and release(saved) < (0, 4):
            raise ValueError(
                f"This TCNForecaster was fitted by skresnet {saved}, whose network scaled "
                f"series globally; skresnet {__version__} scales each series by its own "
                "level and cannot load it without changing its forecasts. Refit it, or "
                f"load it with skresnet {saved}."
            )
        super().__setstate__(state)

    # ---------------------------------------------------- composition
    def _input_spec(self) -> WindowInput:
        return WindowInput(self.target_channel, self.kernel_size, self.n_levels)

    def _target_encoder(self) -> ChannelTarget:
        # The target is the future of channel ``target_channel``: it is
        # scaled like that channel, so inputs and outputs share units.
        loc, scale = self._input_stats()
        c = self.target_channel
        return ChannelTarget(loc=loc[c], scale=scale[c])

    def _input_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """The fixed per-channel standardization the network applies first. With
        per-window normalization the target channel is left as it is, so each
        window's forecast scales exactly with its own data, whatever the
        other series' levels."""
        loc, scale = np.array(self.x_loc_, dtype=float), np.array(self.x_scale_, dtype=float)
        if self.normalize == "window":
            loc[self.target_channel], scale[self.target_channel] = 0.0, 1.0
        return loc, scale

    def _build_module(self) -> nn.Module:
        input_loc, input_scale = self._input_stats()
        return TCNForecastNet(
            self.n_channels_,
            self.n_outputs_,
            target_channel=self.target_channel,
            normalize=self.normalize,
            lookback=self.lookback_,
            linear_skip=self.linear_skip,
            input_loc=input_loc,
            input_scale=input_scale,
            channels=self.channels,
            n_levels=self.n_levels_,
            kernel_size=self.kernel_size,
            dropout=self.dropout,
            activation=self.activation,
            weight_norm=self.weight_norm,
            skip_connections=self.skip_connections,
            n_quantiles=1 if self._levels() is None else len(self._levels()),
            median_index=self._middle(),
        )

    def _init_module(self, module: nn.Module, train, seed: int, refit: bool = False) -> None:
        # The network starts as the least-squares linear forecaster; the
        # TCN then learns what that misses (TCNForecastNet.fit_linear_skip).
        if self.linear_skip:
            chosen = self.__dict__.get("linear_skip_prior_", "auto")
            if refit and chosen != "auto":
                # the final network on every window: the start that early stopping
                # judged, its penalty and prior as chosen, solved on more rows
                alphas, prior = self.linear_skip_alpha_, chosen
            else:
                # too few windows to hold any out: the seasonal naive forecast (of the
                # season length and drift that fit them best) itself
                enough = len(train) >= _MIN_ROWS_TO_CHOOSE_ALPHA
                alphas = _LINEAR_SKIP_ALPHAS if enough else _LINEAR_SKIP_ALPHAS[-1]
                prior = "auto"
            self.linear_skip_alpha_ = module.fit_linear_skip(
                train.X,
                train.y,
                train.w,
                alpha=alphas,
                quantiles=self._levels(),
                loss_unit=train.s,
                prior=prior,
                folds=_START_FOLDS if self.n_series_ > 1 else None,
            )
            self.linear_skip_prior_ = module.start_prior

    def _resolve_budget(self, module: nn.Module, train) -> None:
        super()._resolve_budget(module, train)
        # Too few windows to train a network on (below 20; with the automatic budget,
        # below _MIN_WINDOWS_TO_AUTO_TRAIN): its start is the forecast.
        few = len(train) < _MIN_ROWS_TO_CHOOSE_ALPHA or (
            self.max_epochs == "auto" and len(train) < _MIN_WINDOWS_TO_AUTO_TRAIN
        )
        if self.linear_skip and few:
            self.max_epochs_ = 0

    def _loss_unit(self, X, raw, sample_weight) -> np.ndarray | None:
        # Each window's errors count in units of its own series' scale, so a
        # global model over a panel weighs a series of level 20 as much as one
        # of level 100,000, and scaling one series changes nothing else.
        if self.normalize != "window":
            return None
        return series_units(X, getattr(raw, "series", None), sample_weight, self.target_channel)

    def _criterion(self) -> nn.Module:
        levels = self._levels()
        return LOSSES[self.loss]() if levels is None else PinballLoss(levels)

    # ------------------------------------------------- checks and refit
    def _check_params(self) -> None:
        levels = conformal.check_levels(
            self.quantiles, self.loss, self.conformal is True, self.early_stopping
        )
        if self.conformal is True and self.refit is True:
            raise ValueError(
                "conformal=True calibrates on the validation windows, which refit=True "
                "trains on; use refit='auto' (no refit with conformal) or refit=False."
            )
        if self.warm_start and "net_" in self.__dict__:
            before = self._levels()
            if (before is None) != (levels is None) or (
                levels is not None and not np.array_equal(before, levels)
            ):
                raise ValueError(
                    f"quantiles={self.quantiles!r} differs from the fitted model's "
                    f"{before}; a warm start keeps the network. Refit with warm_start=False."
                )
        if self.ets is True and not self.early_stopping:
            raise ValueError(
                "ets=True chooses the combination's weight on the validation windows; it "
                "needs early_stopping=True (or use ets='auto' or False)."
            )
        self.quantiles_ = levels
        self.calibration_scores_ = self.conformal_factors_ = self.interval_widths_ = None
        self.ets_weight_ = self.ets_context_weight_ = 1.0
        self.season_length_ = 1
        self.linear_skip_prior_ = "auto"  # chosen by this fit's first start

    # At most this many windows, refit="auto" refits on all of them after early stopping.
    _REFIT_MAX_WINDOWS = 1000

    def _refit_on_all(self, n_samples: int) -> bool:
        if self.refit != "auto":
            return self.refit
        if n_samples > self._REFIT_MAX_WINDOWS:
            return False
        if self.quantiles is None:
            return True
        # A quantile model refits only when early stopping kept its linear start:
        # the refit solves that start again on every window (zero epochs), and the
        # calibration scores of the held-out start carry over to it.
        return self.linear_skip and not self.warm_start and kept_epoch(self.net_.history) == 0
