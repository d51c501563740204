"""What a fitted TCNForecaster gives: forecasts, quantiles and intervals.

:class:`ForecastOutputs` holds the forecaster's outputs: ``predict``,
``predict_quantiles``, ``predict_interval``, ``forecast`` (from a series)
and ``update_calibration``. What is chosen on the held-out windows at fit (the
exponential smoothing combination's weight, the intervals' calibration) is in
``_forecast_weighing.py``; the network, its start and training in ``_forecaster.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted

from ._forecast_weighing import MAX_CONTEXT, ForecastWeighing, member_known
from .timeseries import _conformal as conformal
from .timeseries import _ets as ets
from .timeseries._conformal import calibrate, interval_bounds
from .timeseries._forecast import (
    check_contexts,
    check_forecast_inputs,
    forecast_series,
    label_forecasts,
    last_windows,
    split_history,
)
from .timeseries._windows import squeeze_channels


class ForecastOutputs(ForecastWeighing):
    """Forecasts, quantiles, intervals and calibration of a fitted TCNForecaster
    (a mixin: the estimator's fitted attributes and ``_forward`` are its inputs)."""

    def forecast(self, history, steps=None, *, future=None, groups=None, quantiles=False):
        """Forecast the steps after the end of ``history``.

        The last ``lookback_`` observations form one window; its forecast
        gives ``horizon_`` steps. For more steps, forecasts are appended to
        the target and fed back (recursive strategy), which needs every other
        channel to be known in advance (given in ``future``).

        Parameters
        ----------
        history : Series, DataFrame or array-like of shape (n_steps,) or (n_steps, n_channels)
            At least ``lookback_`` observations of each series in time order,
            the channels in the order of ``fit`` (``make_windows`` uses: target,
            covariates, future covariates), plus the ``groups`` column if any.
        steps : int, default=None
            Number of future steps; ``horizon_`` when None.
        future : DataFrame or array-like of shape (n_future_steps, n_future), default=None
            Values of the known-in-advance covariates (the last ``n_future``
            channels, ``future_covariates`` of ``make_windows``) for the steps
            after ``history``: at least ``steps`` rounded up to a multiple of
            ``horizon_`` rows per series, plus the ``groups`` column if any.
            Required when the model was trained with future covariates: without
            it their channels would be read without the lead.
        groups : column label or array-like of shape (n_steps,), default=None
            Series identifier, as in ``make_windows``: every series is
            forecast from its own last window, all in one batched call. With
            ``future``, it must be a column of both ``history`` and ``future``.
        quantiles : bool, default=False
            For a model fitted with ``quantiles``: forecast every quantile
            level (``predict_quantiles``, conformal calibration included), at
            most ``horizon_`` steps. Quantiles are not fed back: later
            quantiles conditional on one fed-back path would understate the
            uncertainty, so longer quantile forecasts need a model of a longer
            horizon.

        Returns
        -------
        forecast : ndarray of shape (steps,), or Series
            A Series when ``history`` is pandas, indexed by the future
            timestamps when it has a ``DatetimeIndex`` of a known frequency.
            With ``groups``, one Series indexed by (group, time). With
            ``quantiles=True``: an array of shape (steps, n_quantiles), or a
            DataFrame with one column per quantile level.
        """
        check_is_fitted(self)
        steps = self.horizon_ if steps is None else steps
        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}.")
        split = split_history(
            history, future, groups, self.__dict__.get("channel_names_"), self._n_future()
        )
        self._check_forecast_inputs(split, steps)
        windows = dict(lookback=self.lookback_, horizon=self.horizon_, steps=steps)
        if quantiles:
            if steps > self.horizon_:
                raise ValueError(
                    f"steps={steps} exceeds horizon_={self.horizon_}; quantile forecasts are "
                    "not fed back (they would understate the uncertainty). Fit a model with "
                    f"a horizon of {steps} steps for quantiles that far ahead."
                )
            X = last_windows(split.histories, split.futures, self.lookback_, self.horizon_)
            context = [h[:, self.target_channel] for h in split.histories]
            forecasts = self.predict_quantiles(squeeze_channels(X), context=context)[:, :steps]
        else:
            forecasts = forecast_series(
                lambda X, context: self.predict(squeeze_channels(X), context=context),
                split.histories,
                split.futures,
                target_channel=self.target_channel,
                **windows,
            )
        if isinstance(history, pd.Series):
            name = history.name
        elif isinstance(history, pd.DataFrame):
            name = split.channels[self.target_channel]
        else:
            name = None
        levels = self._levels() if quantiles else None
        return label_forecasts(forecasts, history, split, groups is not None, name, levels)

    def _n_future(self) -> int:
        return self.__dict__.get("n_future_") or 0

    def _check_forecast_inputs(self, split, steps):
        """One-line errors for ``split``'s histories and futures that cannot make a window."""
        check_forecast_inputs(
            split.histories,
            split.futures,
            steps,
            labels=split.labels,
            lookback=self.lookback_,
            horizon=self.horizon_,
            n_channels=self.n_channels_,
            target_channel=self.target_channel,
            n_future=self._n_future(),
            names=self.__dict__.get("channel_names_"),
        )

    def _levels(self) -> np.ndarray | None:
        """The fitted quantile levels (None for a point forecaster)."""
        return self.__dict__.get("quantiles_")

    def _middle(self) -> int:
        levels = self._levels()
        return 0 if levels is None else len(levels) // 2

    def _smooth(self, X, series=None) -> np.ndarray:
        """The statistical member's forecasts, ``(n, horizon_)``, of ``series`` (checked
        contexts, :meth:`_context`) or, without them, of each window's own target."""
        # Theta's line is chosen on histories longer than the windows; a window alone
        # keeps the classical line
        history = self._reads_history(series)
        series = self._context(X, None) if series is None else series
        return ets.smooth_windows(series, self.horizon_, self.season_length_, history)

    def _context(self, X, context) -> list[np.ndarray] | np.ndarray:
        """What the member reads for each window: its checked ``context``, or the
        window's own target; ``X`` as the network took it (``_outputs`` has validated
        it)."""
        values = np.asarray(X, dtype=np.float64)
        target = values if values.ndim == 2 else values[:, :, self.target_channel]
        return target if context is None else check_contexts(target, context, MAX_CONTEXT)

    def _require_levels(self) -> np.ndarray:
        """The quantile levels, or the error that says how to get them."""
        levels = self._levels()
        if levels is None:
            raise ValueError(
                "This TCNForecaster forecasts points only; fit it with quantiles=(0.1, 0.5, 0.9) "
                "(for example) to get quantiles and intervals."
            )
        return levels

    def _set_calibration(self, scores: np.ndarray) -> None:
        """Keep these calibration scores and the conformal factors they give."""
        self.calibration_scores_ = scores
        self.conformal_factors_ = conformal.factors(scores, self._levels())

    def update_calibration(self, X, y, *, context=None):
        """Recalibrate the intervals on windows observed since the fit.

        A conformally calibrated model keeps the scores of its most recent
        out-of-sample windows, as many as calibrated it at fit (the last
        validation windows, at most 100 per series, or 100 spread over them
        where the statistical member counts and had not forecast them all);
        the scores of these windows are
        appended, as many of the oldest dropped, and
        ``conformal_factors_`` recomputed. Feeding each stretch of new
        actuals this way keeps the intervals' coverage where the errors
        drift away from the validation period's (a sliding calibration
        window; Barber et al., 2023, on conformal prediction without
        exchangeability). ``backtest`` does it at every origin. The network
        is not changed, nor are the member's rolling intervals
        (``interval_widths_``) that a model calibrated on few windows averages
        its quantiles with.

        Only windows the model was not trained on belong here: those
        whose target ends after the last training step,
        ``make_windows(data, ..., targets_after=<last training label>)``.
        Training windows would have the smaller errors of fitted data and
        narrow the intervals.

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback) or (n_windows, lookback, n_channels)
            Windows in time order, oldest first.
        y : array-like of shape (n_windows,) or (n_windows, horizon)
            Their actual futures.
        context : list of array-like, default=None
            As in :meth:`predict`.

        Returns
        -------
        self : TCNForecaster

        Examples
        --------
        >>> import numpy as np
        >>> from skresnet import TCNForecaster
        >>> from skresnet.timeseries import make_windows
        >>> y = np.sin(np.arange(400) / 5) + 0.1 * np.random.default_rng(0).normal(size=400)
        >>> X, Y = make_windows(y[:300], lookback=24, horizon=6)
        >>> model = TCNForecaster(quantiles=(0.1, 0.5, 0.9), max_epochs=5, random_state=0)
        >>> model = model.fit(X, Y)  # calibrated on its last 28 (validation) windows
        >>> X_new, Y_new = make_windows(y, lookback=24, horizon=6, targets_after=299)
        >>> len(X_new)
        100
        >>> model.update_calibration(X_new, Y_new).calibration_scores_.shape
        (28, 6, 1)
        """
        check_is_fitted(self)
        self._require_levels()
        stored = self.__dict__.get("calibration_scores_")
        if stored is None:
            raise ValueError(
                "This TCNForecaster is not conformally calibrated (conformal=False, "
                "early_stopping=False or refit=True, or fitted by an older skresnet); fit it "
                "with conformal=True or the default 'auto' to update its calibration."
            )
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        check_consistent_length(X, y)
        if y.ndim != self.y_ndim_ or (y.ndim == 2 and y.shape[1] != self.horizon_):
            expected = "(n_windows,)" if self.y_ndim_ == 1 else f"(n_windows, {self.horizon_})"
            raise ValueError(f"y has shape {y.shape}; expected {expected}, as in fit.")
        q = self.predict_quantiles(X, conformal=False, context=context)
        self._set_calibration(conformal.slide(stored, conformal.scores(q, y)))
        return self

    def predict(self, X, *, context=None):
        """Point forecasts, shape ``(n_windows, horizon_)`` (``(n_windows,)`` for 1-D ``y``).

        For a quantile model, the median (the 0.5 quantile).

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback) or (n_windows, lookback, n_channels)
        context : list of array-like of shape (n_steps_i,), default=None
            Each window's target history up to the window's end (its last
            ``lookback`` values are the window's target): the statistical
            member (``ets``) is then fitted on its latest 1000 steps instead
            of the window alone, as a per-series ``AutoETS`` would be, and
            weighed by ``ets_context_weight_`` (``ets_weight_`` without a
            history longer than the window). The network reads the window
            either way. ``forecast`` and ``backtest`` pass it.
        """
        out = self._point(self._outputs(X))
        # a context is checked whether the member is used or not
        series = None if context is None else self._context(X, context)
        weight = self._weight(series)
        if weight < 1.0:
            shape = out.shape
            out = out.reshape(len(out), self.horizon_)
            out = ets.combine(out, self._smooth(X, series), weight)
            out = out.reshape(shape)
        return self._floor(out)

    def _floor(self, out: np.ndarray) -> np.ndarray:
        """``out`` floored at 0 where the model forecasts a quantity that is never
        negative (``nonnegative_``; models pickled before it: unchanged)."""
        return np.maximum(out, 0.0) if self.__dict__.get("nonnegative_", False) else out

    def _outputs(self, X) -> np.ndarray:
        """The network's forecasts in the data's units (quantiles along the last axis)."""
        out = self._forward(X)  # checks that the estimator is fitted
        return self.target_encoder_.inverse_transform(out)

    def _point(self, out: np.ndarray) -> np.ndarray:
        """The point forecast (the median) of ``_outputs``."""
        if self._levels() is None:
            return out
        return out.reshape(len(out), self.horizon_, -1)[..., self._middle()].reshape(
            (len(out), self.horizon_) if self.y_ndim_ == 2 else (len(out),)
        )

    def _quantiles(self, X, *, factors=None, widths=None, smoothed=None, rows=None, context=None):
        """Quantile forecasts with the smoothing combination (``smoothed``: forecasts
        already computed, by row of ``rows``) and calibration ``factors``, averaged with
        intervals of half-``widths`` in window units around the median
        (:meth:`_with_rolling`); without factors, those intervals alone."""
        levels = self._require_levels()
        out = self._outputs(X)
        # a context is checked whether the member is used or not
        series = None if context is None else self._context(X, context)
        q = out.reshape(len(out), self.horizon_, len(levels))
        # the member's forecasts computed when weighing read the windows' histories
        known = member_known(smoothed, rows)
        weight = self.ets_context_weight_ if known else self._weight(series)
        if weight < 1.0:
            s = np.stack([smoothed[r] for r in rows]) if known else self._smooth(X, series)
            q = ets.combine(q, s, weight, self._middle())
        if widths is not None and factors is None:  # no window calibrated: widths alone
            return self._floor(self._rolling_intervals(q, X, widths))
        return self._floor(self._with_rolling(calibrate(q, factors), X, widths, weight))

    def _rolling_intervals(self, q, X, widths) -> np.ndarray:
        """Quantiles shaped as ``q``: intervals of half-``widths`` (window units, the
        member's rolling errors) around ``q``'s median."""
        unit = ets.window_units(self._context(X, None))
        return conformal.around(q[..., self._middle()], widths, unit, q.shape[-1])

    def _with_rolling(self, calibrated, X, widths, weight: float) -> np.ndarray:
        """``calibrated`` quantiles ``(n_windows, horizon_, n_quantiles)`` averaged, level
        by level, with intervals of half-``widths`` (window units, the member's rolling
        errors) around the same median, where both are given and the member counts
        (the network's ``weight`` below 1); else ``calibrated``. Averaging the quantiles
        of two forecast distributions (Lichtendahl, Grushka-Cockayne & Winkler, 2013)
        never raises the pinball loss above their mean."""
        if widths is None or weight >= 1.0:
            return calibrated
        around = self._rolling_intervals(calibrated, X, widths)
        return np.sort((calibrated + around) / 2, axis=-1)

    def predict_quantiles(self, X, *, conformal=True, context=None):
        """Quantile forecasts, shape ``(n_windows, horizon_, n_quantiles)``, never crossing.

        Levels in ``quantiles_``. With ``conformal`` calibration (the model's
        ``conformal_factors_``), each central interval's distances from the
        median are scaled by its factor; where that would cross a
        neighbouring quantile, the values are put back in order (monotone
        rearrangement, Chernozhukov et al., 2010, which never increases the
        pinball loss). ``conformal=False``: the network's own quantiles.
        ``context``: as in :meth:`predict`.
        """
        check_is_fitted(self)
        factors = self.__dict__.get("conformal_factors_") if conformal else None
        widths = self.__dict__.get("interval_widths_") if conformal else None
        return self._quantiles(X, factors=factors, widths=widths, context=context)

    def predict_interval(self, X, coverage=0.8, *, context=None):
        """Lower and upper bounds of the central ``coverage`` interval (sktime's naming).

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback) or (n_windows, lookback, n_channels)
        coverage : float in [0, 1], default=0.8
            Nominal coverage; ``(1 - coverage) / 2`` and ``(1 + coverage) / 2``
            must be among ``quantiles_`` (0: the median twice).
        context : list of array-like, default=None
            As in :meth:`predict`.

        Returns
        -------
        lower, upper : ndarray of shape (n_windows, horizon_), or (n_windows,) for 1-D ``y``
        """
        check_is_fitted(self)
        lo, hi = interval_bounds(self._require_levels(), coverage)
        q = self.predict_quantiles(X, context=context)
        lower, upper = q[..., lo], q[..., hi]
        if self.y_ndim_ == 1:
            lower, upper = lower[:, 0], upper[:, 0]
        return lower, upper
