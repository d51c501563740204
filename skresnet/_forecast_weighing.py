"""The choices a TCNForecaster makes on its validation windows after early stopping.

:class:`ForecastWeighing` (a mixin of :class:`~skresnet._forecast_outputs.ForecastOutputs`)
holds the ``_after_early_stopping`` hook: it weighs the combination of the network
with the statistical member (``timeseries._ets``) and calibrates the intervals
(``timeseries._conformal``) on the held-out windows, or, with none held out, takes
the intervals from the member's errors at the series' last origins.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._validation import _num_samples, _safe_indexing, caller_stacklevel
from .timeseries import _conformal as conformal
from .timeseries import _ets as ets
from .timeseries._seasonality import confirmed_season, fundamental_season, panel_season
from .timeseries._windows import evenly, last_weighted, series_units, window_histories

# Conformal calibration keeps the scores of as many of the most recent out-of-sample
# windows as there were validation windows, at most _CALIBRATION_WINDOWS per series (the
# last validation windows at fit, then those given to update_calibration); with fewer
# than timeseries._conformal.MIN_PER_STEP it pools the horizon steps. Where the member
# counts in the forecast and must be forecast anew on windows it did not weigh, at most
# _CALIBRATION_WINDOWS calibrate in all, spread evenly over those rows: 100 per series
# made a quantile model's fit on a 12-series panel twice the point model's
# (docs/defaults.md).
_CALIBRATION_WINDOWS = 100
# The statistical member's weight is chosen on validation windows whose targets no
# training window had (at most _ETS_WINDOWS, spread evenly: each costs up to four
# Holt-Winters and five Theta fits, read alone and with its history; 100 took a default
# fit on an hourly series or a daily panel past 60 s, docs/defaults.md) among
# ets.COMBINATION_WEIGHTS, errors in each series' in-sample
# seasonal naive error (as MASE), one forecaster alone only by ets.ALONE_MARGIN. From
# fewer than _MIN_WINDOWS_TO_WEIGH that choice is noisier than fixed weights (Smith &
# Wallis, 2009): the network counts _FEW_WINDOWS_WEIGHT, unless it alone is clearly
# better (error below _CLEARLY_BETTER times the mix's: data the member cannot read, rows
# that are not windows of a series); from fewer than _MIN_WINDOWS_TO_CHECK, always.
# Trained on so few windows, the network is the least accurate of the three forecasters:
# a fifth beat a third on the short series and small panels (docs/defaults.md).
_ETS_WINDOWS = 50
_MIN_WINDOWS_TO_WEIGH = 50
_MIN_WINDOWS_TO_CHECK = 10
_CLEARLY_BETTER = 0.8
_FEW_WINDOWS_WEIGHT = 0.2
# Given each window's history (``context``), the member reads at most this many of its
# latest steps (as statsforecast's baselines in benchmarks/panels.py): daily births'
# member scored 0.834 on 256 steps, 0.813 on 1000 (docs/defaults.md).
MAX_CONTEXT = 1000
# Where fewer than conformal.MIN_PER_STEP windows calibrate a quantile model whose member
# counts, its quantiles are the average of the conformally calibrated ones and intervals
# from the member's errors at the last origins of each series (interval_widths_): a few
# validation windows, all from the last stretch, understate the spread (80% intervals
# covered 0.74 of 23 short series' outcomes; averaged, 0.84, scaled pinball loss 0.374 to
# 0.355, docs/defaults.md). At most _ROLLING_PER_SERIES such forecasts per series and
# _ROLLING_ORIGINS in all, but at least one per series (a panel of more series than
# _ROLLING_ORIGINS gets one each): each is a member fit on the history before it.
_ROLLING_ORIGINS = 48
_ROLLING_PER_SERIES = 12


def _last_rows(codes: np.ndarray) -> np.ndarray:
    """The last window of each series (``codes``: each window's), by series code."""
    _, from_end = np.unique(codes[::-1], return_index=True)
    return len(codes) - 1 - from_end


def member_known(smoothed, rows) -> bool:
    """Whether the member's forecasts from weighing (``smoothed``, by row; None when
    it was not weighed) hold every one of ``rows``."""
    return smoothed is not None and all(r in smoothed for r in rows)


class ForecastWeighing:
    """The statistical member's weights and the conformal calibration, chosen at fit
    (a mixin: the forecaster's outputs, ``_quantiles``, ``_smooth``, ``_point``, are
    its inputs)."""

    def _after_early_stopping(self, X, y, sample_weight, raw, held_out: bool) -> None:
        self._set_nonnegative(X, y)
        use_ets = self.ets is True or (self.ets == "auto" and self.early_stopping)
        if not held_out:
            if not self.early_stopping:
                return
            # Too few windows to hold any out: the network (its start) counts a fifth,
            # and a quantile model's intervals come from the member's errors at the
            # series' last origins (ets=True and "auto" both need early stopping, so
            # use_ets is all that is left to check).
            calibrate = self._levels() is not None and self.conformal is not False
            if use_ets:
                target, codes = self._series_codes(X, raw)
                self._set_season(target, codes)
                self.ets_weight_ = self.ets_context_weight_ = _FEW_WINDOWS_WEIGHT
                if calibrate:
                    self.interval_widths_ = self._rolling_widths(target, codes, y)
            elif calibrate:
                warnings.warn(
                    "TCNForecaster: no window to hold out, so nothing calibrates the "
                    "quantiles, whose spread is the untrained start's (next to none). "
                    "Use ets='auto' for intervals from rolling origins, or more windows.",
                    UserWarning,
                    stacklevel=caller_stacklevel(),
                )
            return
        # The combination is weighed, then the intervals calibrated, on the last validation
        # windows, scored by the early-stopped network that did not train on them (the
        # calibration scores what predict gives, combination included). Conformal "auto":
        # for quantile models, unless refit=True trains a network on every window.
        n = _num_samples(X)
        # windows from make_windows know how many series they were cut from
        n_series = max(1, int(getattr(raw, "n_series", 1)))
        last = self._n_validation(n)
        smoothed = None
        if use_ets:
            # weights for the member reading windows alone (predict) and their histories
            # (forecast, backtest), on windows of targets no training window had
            target, codes = self._series_codes(X, raw)
            candidates = last_weighted(n, last, sample_weight)
            rows, weigh = ets.weighing_rows(
                candidates, codes, n - last, self.horizon_, _ETS_WINDOWS
            )
            # a window of weight 0 is not there: no history reads through it
            chains = np.where(sample_weight > 0, codes, -1 - np.arange(n))
            histories = window_histories(target, chains, rows, MAX_CONTEXT)
            smoothed = self._weigh_ets(X, y, sample_weight, target, codes, rows, histories, weigh)
        calibrate = (
            self.conformal is True or (self.conformal == "auto" and self._levels() is not None)
        ) and self.refit is not True
        if calibrate:
            n_cal = min(last, _CALIBRATION_WINDOWS * n_series)
            rows = last_weighted(n, n_cal, sample_weight)
            if self._member_anew(smoothed, rows):
                rows = evenly(rows, _CALIBRATION_WINDOWS)
            if not len(rows):
                raise ValueError(
                    "conformal calibration needs validation windows of positive weight; "
                    f"the last {n_cal} windows all have sample_weight 0. Use conformal=False "
                    "or weight some of them."
                )
            q = self._quantiles(_safe_indexing(X, rows), smoothed=smoothed, rows=rows)
            self._set_calibration(conformal.scores(q, _safe_indexing(y, rows)))
            member_counts = min(self.ets_weight_, self.ets_context_weight_) < 1.0
            if use_ets and member_counts and len(rows) < conformal.MIN_PER_STEP:
                self.interval_widths_ = self._rolling_widths(target, codes, y)

    def _member_anew(self, smoothed, rows) -> bool:
        """Whether calibrating on ``rows`` forecasts the member anew on windows it did not
        weigh (it counts, and ``smoothed`` lacks some of them): then at most
        _CALIBRATION_WINDOWS of them calibrate, spread evenly, however many series."""
        anew = smoothed is not None and not member_known(smoothed, rows)
        return anew and self._weight(None) < 1.0

    def _set_nonnegative(self, X, y) -> None:
        """``nonnegative_``: whether forecasts are floored at 0 (``"auto"``: when no
        target value of the training windows, past or future, is negative)."""
        if self.nonnegative == "auto":
            past = self._context(X, None)
            self.nonnegative_ = bool(np.min(past) >= 0 and np.min(y) >= 0)
        else:
            self.nonnegative_ = bool(self.nonnegative)

    def _series_codes(self, X, raw) -> tuple[np.ndarray, np.ndarray]:
        """Each window's target and series (``make_windows``'; else all 0)."""
        target, series = self._context(X, None), getattr(raw, "series", None)
        known = series is not None and len(series) == len(target)
        return target, np.asarray(series) if known else np.zeros(len(target), dtype=np.int64)

    def _rolling_widths(self, target, codes, y) -> np.ndarray | None:
        """Interval half-widths in window units (``conformal.half_widths``) from the
        statistical member's errors at the last origins of each series' history, to
        its last observed step (``target``, ``codes``: every window's,
        :meth:`_series_codes`; ``y``: their futures): at most _ROLLING_PER_SERIES
        origins a series and _ROLLING_ORIGINS in all, but at least one a series."""
        last = _last_rows(codes)
        per_series = int(np.clip(_ROLLING_ORIGINS // len(last), 1, _ROLLING_PER_SERIES))
        futures = np.asarray(y, dtype=np.float64).reshape(len(target), -1)
        histories = window_histories(target, codes, last, MAX_CONTEXT)
        errors = [
            ets.rolling_errors(
                np.concatenate([history, futures[row]])[-MAX_CONTEXT:],
                self.horizon_,
                self.season_length_,
                self.lookback_,
                max_origins=per_series,
            )
            for row, history in zip(last, histories, strict=True)
        ]
        return conformal.half_widths(np.concatenate(errors), self._levels())

    def _weigh_ets(self, X, y, sample_weight, target, codes, rows, histories, weigh):
        """Choose ``ets_weight_`` (the member reading each window alone) and
        ``ets_context_weight_`` (its history) on the validation ``rows`` marked in
        ``weigh`` (``target``, ``codes``: every window's, :meth:`_series_codes`); the
        member's forecasts from the histories by row (None when too few rows)."""
        self._set_season(target, codes)
        if len(rows) < _MIN_WINDOWS_TO_CHECK:
            self.ets_weight_ = self.ets_context_weight_ = _FEW_WINDOWS_WEIGHT
            return None
        Xr = _safe_indexing(X, rows)
        model = self._point(self._outputs(Xr)).reshape(len(rows), self.horizon_)
        actual = np.asarray(_safe_indexing(y, rows), dtype=np.float64).reshape(model.shape)
        unit = series_units(target, codes, sample_weight, season=self.season_length_)
        unit = unit[rows].astype(np.float64)
        alone = self._smooth(Xr)
        self.ets_weight_ = self._choose_weight(model, alone, actual, unit, weigh)
        read, self.ets_context_weight_ = alone, self.ets_weight_
        if self._reads_history(histories):
            read = self._smooth(Xr, histories)
            self.ets_context_weight_ = self._choose_weight(model, read, actual, unit, weigh)
        return dict(zip(rows.tolist(), read, strict=True))

    def _choose_weight(self, model, smoothed, actual, unit, weigh) -> float:
        """The network's weight, on the rows marked in ``weigh``: the grid's best from
        ``_MIN_WINDOWS_TO_WEIGH`` rows (an end by ets.ALONE_MARGIN, unless covariates tell
        the network what the member cannot read); below, _FEW_WINDOWS_WEIGHT unless the
        network alone is clearly better (from _MIN_WINDOWS_TO_CHECK rows)."""
        model, smoothed, actual, unit = (a[weigh] for a in (model, smoothed, actual, unit))
        if len(model) < _MIN_WINDOWS_TO_CHECK:
            return _FEW_WINDOWS_WEIGHT
        if len(model) >= _MIN_WINDOWS_TO_WEIGH:
            margin = ets.ALONE_MARGIN if self.n_channels_ == 1 else 0.0
            return ets.choose_weight(model, smoothed, actual, unit, alone_margin=margin)[0]
        few = _FEW_WINDOWS_WEIGHT
        _, errors = ets.choose_weight(model, smoothed, actual, unit, (few, 1.0))
        return 1.0 if errors[1.0] < _CLEARLY_BETTER * errors[few] else few

    def _reads_history(self, series) -> bool:
        """Whether a history in ``series`` (contexts, histories) outgrows its window."""
        return series is not None and any(len(h) > self.lookback_ for h in series)

    def _weight(self, series) -> float:
        """The network's weight, the member reading the windows or ``series`` (models
        pickled before ``ets_context_weight_`` have one weight)."""
        alone = self.__dict__.get("ets_weight_", 1.0)
        read = self._reads_history(series)
        return self.__dict__.get("ets_context_weight_", alone) if read else alone

    def _set_season(self, target, codes) -> None:
        """``season_length_``: given, or the season of the seasonal naive forecast that
        fits the training windows best (found by the linear start; none without it);
        where that is the last value, the season of the forecast the start shrinks
        towards (chosen on held-out windows) if the series' first differences show it,
        else a season those differences show beyond chance
        (``timeseries._seasonality``: a trend can hide a mild season from the seasonal
        naive forecast); then the shortest divisor of that season that the histories
        repeat nearly as well and from which the member forecasts them better
        (:func:`~skresnet.timeseries._seasonality.fundamental_season`: 12 months where
        two years fit best). ``target``, ``codes``: every window's
        target and series (:meth:`_series_codes`)."""
        if self.season_length is not None:
            self.season_length_ = int(self.season_length)
            return
        module = self.net_.module_
        self.season_length_ = int(getattr(module, "start_season", 1))
        if getattr(module, "linear_skip", None) is None:
            return
        histories = window_histories(target, codes, _last_rows(codes), MAX_CONTEXT)
        if self.season_length_ == 1:
            prior = getattr(module, "start_prior", None)
            if prior is not None and prior[0] > 1:  # chosen on held-out windows
                self.season_length_ = confirmed_season(histories, int(prior[0]))
            if self.season_length_ == 1:
                self.season_length_ = panel_season(target, histories)
        self.season_length_ = fundamental_season(
            histories, self.season_length_, self.horizon_, self.lookback_
        )
