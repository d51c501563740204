"""The TCN forecaster's network: a TCN over the window, a linear head, a linear skip."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._ridge import choose_ridge_alpha, ridge_leverage, weighted_ridge
from ._tcn import TCN

# The seasonal naive forecasts a linear start shrinks towards are compared on at most
# this many windows (evenly spaced); the penalty is still chosen on all of them.
PRIOR_ROWS = 50_000
# ... and on fewer where the comparison would touch more than PRIOR_ELEMENTS errors
# (windows x horizon x the 2 (lookback - 1) forecasts compared): 24,000 windows of
# five-minute call counts (lookback 507, horizon 169) took 149 s on all rows
# (docs/defaults.md). No benchmark set reaches the bound (weekly births: 1.2e8).
PRIOR_ELEMENTS = 2.5e8


class TCNForecastNet(nn.Module):
    """Direct multi-step forecaster: a TCN over the window, a linear head on its last step.

    Takes windows in ``(N, L, C)`` layout (time along axis 1, the layout of
    ``skresnet.timeseries.make_windows``), transposes them once to the
    ``(N, C, L)`` layout of the convolutions, and maps the features of the
    last time step, which see the whole receptive field, to the next
    ``horizon`` values of the target channel.

    With ``normalize="window"`` the target channel of each window is
    standardized by its own mean and standard deviation,
    everything after that works in those units, and the forecast is mapped
    back with them (reversible instance normalization, Kim et al., 2022):
    multiplying a window's target by ``c > 0`` multiplies its forecast by
    ``c``, so one network serves series of any level. The normalization
    removes where the window sits relative to zero, which matters to a
    count near its floor (sunspots at a solar minimum) or a level far above
    its noise; the TCN reads it back as one more input channel,
    ``mean / sqrt(mean ** 2 + spread ** 2)`` of the window
    (``level_feature``), which does not change when the window is
    multiplied by ``c > 0``. The linear skip does not read it, so the start
    stays equivariant to shifts too. For training to keep scale
    equivariance, a loss over series of mixed scale measures each window's error
    in its own series' units (``loss_unit`` of :meth:`fit_linear_skip`, what
    ``TCNForecaster`` passes to the loss; Montero-Manso & Hyndman, 2021).

    With ``linear_skip`` (given ``lookback``) a linear map from the whole
    normalized window to the ``horizon`` normalized outputs is added to the
    forecast, so the TCN learns what a linear autoregression misses: the
    "highway" of LSTNet (Lai et al., 2018), a linear model on windows
    normalized this way being a strong forecaster on its own (NLinear, Zeng
    et al., 2023; a global ridge on scaled lags, Montero-Manso & Hyndman,
    2021). :meth:`fit_linear_skip` sets it to the least-squares solution
    before training. It also gives each forecast step a direct path to the
    values of known-in-advance covariates at that step (``make_windows``
    places them in the window's last ``horizon`` positions).

    Parameters
    ----------
    in_channels : int
    horizon : int
    target_channel : int, default=0
    normalize : {"window", None}, default="window"
    input_loc, input_scale : sequence of float, optional
        Per-channel statistics subtracted and divided out before anything
        else (a fixed standardization fitted on the training data); the
        forecast stays in the standardized units of the target channel.
        With ``normalize="window"`` leave the target channel's at 0 and 1,
        which keeps the forecasts equivariant to the target's scale.
    lookback : int, optional
        Window length ``L``; needed for ``linear_skip``.
    linear_skip : bool, default=False
    n_quantiles : int, default=1
        With ``Q > 1`` the network forecasts ``Q`` quantiles of each step,
        non-crossing by construction: the quantile at ``median_index`` is
        computed as the point forecast is, and the others are it plus (above)
        or minus (below) cumulative sums of non-negative ``softplus``
        increments, scaled by the window's scale.
    median_index : int, default=0
        Which of the ``Q`` quantiles is the central one (the median).
    **tcn_kwargs
        Passed to :class:`TCN`.

    Shapes
    ------
    x : Tensor of shape (N, L, in_channels) -> Tensor of shape (N, horizon),
        or (N, horizon, n_quantiles) when ``n_quantiles > 1``

    References
    ----------
    Bai, Kolter, Koltun (2018), see :class:`TCN`.
    Kim et al. "Reversible Instance Normalization for Accurate Time-Series
    Forecasting against Distribution Shift." ICLR 2022.
    Lai et al. "Modeling Long- and Short-Term Temporal Patterns with Deep
    Neural Networks." SIGIR 2018.
    Montero-Manso, Hyndman. "Principles and algorithms for forecasting
    groups of time series: Locality and globality." IJF 2021.
    Zeng et al. "Are Transformers Effective for Time Series Forecasting?"
    AAAI 2023.
    """

    eps = 1e-5

    def __init__(
        self,
        in_channels: int,
        horizon: int,
        *,
        target_channel: int = 0,
        normalize: str | None = "window",
        input_loc: Sequence[float] | None = None,
        input_scale: Sequence[float] | None = None,
        lookback: int | None = None,
        linear_skip: bool = False,
        n_quantiles: int = 1,
        median_index: int = 0,
        **tcn_kwargs,
    ) -> None:
        super().__init__()
        loc = torch.zeros(in_channels) if input_loc is None else torch.as_tensor(input_loc)
        scale = torch.ones(in_channels) if input_scale is None else torch.as_tensor(input_scale)
        self.register_buffer("input_loc", loc.float())
        self.register_buffer("input_scale", scale.float())
        # the TCN also reads each window's level relative to its spread (below)
        self.level_feature = normalize == "window"
        self.tcn = TCN(in_channels + int(self.level_feature), **tcn_kwargs)
        channels = tcn_kwargs.get("channels", 32)
        self.horizon, self.n_quantiles, self.median_index = horizon, n_quantiles, median_index
        self.head = nn.Linear(channels, horizon * n_quantiles)
        if linear_skip and lookback is None:
            raise ValueError("linear_skip=True needs lookback, the window length.")
        # No bias: the skip is then homogeneous in the normalized window, so
        # the forecast scales exactly with the window's target.
        self.linear_skip = (
            nn.Linear(lookback * in_channels, horizon, bias=False) if linear_skip else None
        )
        self.target_channel = target_channel
        self.normalize = normalize
        self.lookback, self.in_channels = lookback, in_channels

    def _window_loc_scale(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Location and scale of each window's target, shape ``(N, 1)`` each.

        The mean and the standard deviation; a window whose spread is
        negligible against its level (a constant stretch) is scaled by its
        level instead, and an all-zero one by 1, so no window divides by zero
        and every other one scales exactly with its data.
        """
        if self.normalize != "window":
            zero = x.new_zeros(len(x), 1)
            return zero, zero + 1
        target = x[:, :, self.target_channel]
        # In units of a power of two near the window's largest value (an exact
        # division): the variance squares the values, which in float32 underflows
        # below 1e-19 and overflows above 1e19 where the accumulator is float32, as
        # on CUDA (the CPU's is float64); either would scale such a window wrongly.
        # (log2 and exp2, not frexp: the ONNX export has no frexp)
        largest = target.detach().abs().amax(dim=1, keepdim=True)
        power = torch.exp2(torch.floor(torch.log2(largest)))  # 0 for an all-zero window
        unit = torch.where(largest > 0, power, torch.ones_like(power))
        scaled = target / unit
        loc = scaled.mean(dim=1, keepdim=True) * unit
        spread = scaled.std(dim=1, keepdim=True, unbiased=False) * unit
        level = loc.abs()
        fallback = torch.where(level > 0, level, torch.ones_like(level))
        flat = spread <= self.eps * level
        return loc, torch.where(flat | (spread == 0), fallback, spread)

    def _with_target(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        c = self.target_channel
        return torch.cat([x[:, :, :c], target.unsqueeze(-1), x[:, :, c + 1 :]], dim=-1)

    def _normalized(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The standardized window with its target normalized, and the target's loc and scale."""
        x = (x - self.input_loc.to(x.dtype)) / self.input_scale.to(x.dtype)
        loc, scale = self._window_loc_scale(x)
        normed = self._with_target(x, (x[:, :, self.target_channel] - loc) / scale)
        return normed, loc, scale

    def _tcn_input(self, normed: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor):
        """The normalized window, and with ``level_feature`` one more channel holding
        ``loc / sqrt(loc ** 2 + scale ** 2)`` at every step: where the window sits
        against zero in units of its own spread, which the normalization removes (a
        count near its floor of 0). It is bounded by +-1, which a window far from
        zero nears whatever its distance: a temperature in degrees, whose zero means
        nothing, gives the TCN next to nothing to read. It is unchanged when the
        window is multiplied by ``c > 0``, so the forecast still scales with it."""
        if not getattr(self, "level_feature", False):  # False in networks pickled before it
            return normed
        # in the window's own units: loc ** 2 underflows to 0 below 1e-19 in float32 (a
        # series in tiny units), and 0 / 0 is NaN; |loc / scale| stays below 1 / eps
        ratio = loc / scale
        level = (ratio / torch.sqrt(ratio**2 + 1)).unsqueeze(1).expand(-1, normed.shape[1], 1)
        return torch.cat([normed, level], dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        normed, loc, scale = self._normalized(x)
        features = self.tcn.forward_last(self._tcn_input(normed, loc, scale).transpose(1, 2))
        raw = self.head(features)
        if self.n_quantiles > 1:
            raw = raw.unflatten(1, (self.horizon, self.n_quantiles))
            center = raw[..., self.median_index]
        else:
            center = raw
        if self.linear_skip is not None:
            center = center + self.linear_skip(normed.flatten(1))
        out = center * scale + loc
        if self.n_quantiles == 1:
            return out
        return self._spread(out, raw, scale)

    def _spread(self, center: torch.Tensor, raw: torch.Tensor, scale: torch.Tensor):
        """All quantiles from the central one: cumulative non-negative gaps below and above."""
        m = self.median_index
        gaps = F.softplus(raw) * scale.unsqueeze(-1)  # (N, horizon, Q), >= 0
        above = center.unsqueeze(-1) + torch.cumsum(gaps[..., m + 1 :], dim=-1)
        below = center.unsqueeze(-1) - torch.cumsum(gaps[..., :m].flip(-1), dim=-1).flip(-1)
        return torch.cat([below, center.unsqueeze(-1), above], dim=-1)

    @torch.no_grad()
    def fit_linear_skip(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        sample_weight: torch.Tensor | None = None,
        alpha: float | Sequence[float] = 1e-3,
        quantiles: Sequence[float] | None = None,
        loss_unit: torch.Tensor | None = None,
        prior: str | tuple[int, bool] | None = "auto",
        folds: int | None = None,
    ) -> float:
        """Start as the best linear forecaster: ridge for the skip, zeros for the head.

        The linear skip is set to the weighted ridge solution (penalty
        ``alpha`` times the mean feature variance) of ``y`` on what it reads,
        with ``alpha`` chosen among several by how well fits on some of the
        rows (in time order) forecast the others (``folds``,
        :func:`choose_ridge_alpha`),
        and the TCN head to zero, so training begins at the linear model's
        forecasts and the TCN learns what a linear autoregression misses,
        the way a residual block starts as the identity (Goyal et al.,
        2017, zero-initialized last layers).

        With ``prior="auto"`` (and candidate penalties) the ridge shrinks
        towards a classical forecast instead of towards zero: the seasonal
        naive forecast of some season length ``m`` (1: the last value),
        with or without the drift of the window's last season over its first
        (:func:`seasonal_naive_coef`). The three such forecasts of least
        error on every row (the shortest seasons among those within 10% of
        the best) and the plain ridge are the candidates; the one whose
        ridge, at its best penalty, forecasts the held-out rows best is
        kept. Few windows
        then give a large penalty and the classical forecast (what short
        series need), many give the autoregression the data support.

        Parameters
        ----------
        x : Tensor of shape (N, L, in_channels)
        y : Tensor of shape (N, horizon)
            In the units of the target channel after ``input_loc``/``input_scale``.
        sample_weight : Tensor of shape (N,), optional
        alpha : float or sequence of float, default=1e-3
            The penalty, or candidates to choose it from (the rows of ``x``
            in time order).
        quantiles : sequence of float, optional
            The levels of a quantile network (``n_quantiles > 1``): the head's
            biases are then set to the empirical quantiles of the linear
            model's leave-one-out residuals (in window-scale units), per
            horizon step.
        loss_unit : Tensor of shape (N,), optional
            The unit each window's errors count in (its series' scale): the
            squared errors are weighted as ``(error / loss_unit) ** 2``, as
            the training loss weighs them. None: one unit for all windows
            (one series).
        prior : "auto", (season, drift) or None, default="auto"
            What the ridge shrinks towards: chosen as above (with candidate
            penalties), the seasonal naive forecast of that season length
            (with drift or not, :func:`seasonal_naive_coef`), or zero. The
            choice is kept in ``start_prior`` (None for zero), so that a
            refit on more rows can reuse it. The season of the seasonal naive
            forecast of least error is kept in ``start_season`` (1 without
            one) whatever the prior, for the statistical forecasts combined
            with the network.
        folds : int or None, default=None
            How candidate penalties and priors are scored
            (:func:`choose_ridge_alpha`): blocked cross-validation over that
            many contiguous blocks of the rows, or None, a fit on the first
            80% forecasting the last 20%.

        Returns
        -------
        alpha : float
            The penalty used.
        """
        if self.linear_skip is None:
            raise ValueError("fit_linear_skip needs a network built with linear_skip=True.")
        normed, loc, scale = self._normalized(x.double())
        features = normed.flatten(1)
        target = (y.double() - loc) / scale
        # The fit is in each window's normalized units; weighting by
        # (scale / unit) ** 2 makes it the least squares of error / unit.
        unit = scale.squeeze(1) if loss_unit is None else loss_unit.double()
        if loss_unit is None:
            unit = unit.pow(2).mean().sqrt().clamp_min(1e-300)
        weight = (scale.squeeze(1) / unit) ** 2
        weight = weight if sample_weight is None else weight * sample_weight.double()
        if prior == "auto":  # the classical forecasts that fit every row best
            best = self._best_priors(features, target, weight, 3)
            self.start_season = best[0][0] if best else 1  # a one-step window has none
        if not isinstance(alpha, (int, float)):
            alpha, prior = self._choose_start(
                features, target, weight, alpha, best if prior == "auto" else [], folds
            )
        elif prior == "auto":  # a fixed penalty: the prior that fits every row best
            prior = best[0] if best else None
        self.start_prior = prior
        prior = self._prior_coef(prior).to(features)
        coef, _ = weighted_ridge(
            features, target - features @ prior, weight, alpha=alpha, intercept=False
        )
        coef = coef + prior
        self.linear_skip.weight.copy_(coef.T)
        self.head.weight.zero_()
        if self.head.bias is not None:
            self.head.bias.zero_()
        if self.n_quantiles > 1:
            if quantiles is None or len(quantiles) != self.n_quantiles:
                raise ValueError(
                    f"fit_linear_skip needs the {self.n_quantiles} quantile levels "
                    "of a quantile network."
                )
            # Leave-one-out residuals: in-sample ones understate the error of
            # a window the model has not seen when the window is long.
            leverage = ridge_leverage(features, weight, alpha=alpha, intercept=False)
            residual = (target - features @ coef) / (1 - leverage.unsqueeze(1))
            self._start_spread(residual, quantiles, sample_weight)
        return float(alpha)

    def _prior_coef(self, prior: tuple[int, bool] | None) -> torch.Tensor:
        """The coefficients of ``prior``: a seasonal naive forecast, or zeros for None."""
        if prior is None:
            return torch.zeros(self.lookback * self.in_channels, self.horizon, dtype=torch.float64)
        season, drift = prior
        return seasonal_naive_coef(
            self.lookback, self.in_channels, self.target_channel, self.horizon, season, drift
        )

    def _best_priors(
        self, features: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, k: int
    ) -> list[tuple[int, bool]]:
        """``k`` seasonal naive forecasts (every season length below the lookback, with
        and without drift) of nearly the least weighted squared error on these rows.

        Occam's rule: a multiple of the season, or a long lag whose drift stands in
        for a trend, fits nearly as well as the season itself and generalizes
        worse, so of the forecasts within 10% of the best error the shortest
        seasons come first. Only a season that fits better than its neighbours
        (one step shorter and longer, same drift) counts: weekly data's season of
        52.18 weeks has 51 within 10% of 52, but not a local minimum. The errors
        are measured on at most ``PRIOR_ROWS`` rows (fewer where that would touch more than
        ``PRIOR_ELEMENTS`` errors): on daily births' 368k windows
        the search over 82 forecasts took 11 s of a 64 s fit.
        """
        # the forecasts read the target channel only
        series = features.reshape(len(features), self.lookback, self.in_channels)
        series = series[:, :, self.target_channel]
        lookback, horizon = self.lookback, self.horizon
        cost = horizon * 2 * max(lookback - 1, 1)
        n_rows = min(PRIOR_ROWS, max(int(PRIOR_ELEMENTS // cost), 1000))
        if len(series) > n_rows:  # rows spread evenly over the (time-ordered) set
            rows = torch.linspace(0, len(series) - 1, n_rows).round().long()
            series, target, weight = series[rows], target[rows], weight[rows]
        errors = {}
        for m in range(1, lookback):
            # seasonal_naive_coef's forecasts, read off the window rather than multiplied
            source, back = _seasonal_naive_steps(lookback, horizon, m)
            residual = target - series[:, source]
            errors[m, False] = float((weight * residual.pow(2).sum(1)).sum())
            slope = (series[:, lookback - m :].sum(1) - series[:, :m].sum(1)) / (m * (lookback - m))
            residual = residual - slope.unsqueeze(1) * back.to(series)
            errors[m, True] = float((weight * residual.pow(2).sum(1)).sum())
        best = min(errors.values(), default=0.0)  # a one-step window has no season
        near = [
            (m, drift)
            for (m, drift), error in errors.items()
            if error <= 1.1 * best
            and error <= errors.get((m - 1, drift), float("inf"))
            and error <= errors.get((m + 1, drift), float("inf"))
        ]
        return sorted(near)[:k]

    def _choose_start(
        self,
        features: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor,
        alphas: Sequence[float],
        priors: list[tuple[int, bool]],
        folds: int | None = None,
    ) -> tuple[float, tuple[int, bool] | None]:
        """The penalty and the prior the ridge shrinks towards (zero or one of
        ``priors``), chosen by the weighted squared error on held-out rows
        (:func:`choose_ridge_alpha` with ``folds``).

        The ``priors`` come from :meth:`_best_priors`: a prior has nothing fitted, so
        its error on every row is an honest measure of it, much less noisy than on
        the last few."""
        candidates = [None, *priors]
        best = None
        for spec in candidates:
            alpha, error = choose_ridge_alpha(
                features,
                target - features @ self._prior_coef(spec).to(features),
                weight,
                alphas=alphas,
                folds=folds,
                intercept=False,
                return_error=True,
            )
            if best is None or error < best[0]:
                best = (error, alpha, spec)
        return best[1], best[2]

    def _start_spread(
        self,
        residual: torch.Tensor,
        quantiles: Sequence[float],
        sample_weight: torch.Tensor | None = None,
    ) -> None:
        """Head biases that reproduce the residuals' empirical quantiles, per horizon step.

        With the head's weights at zero, the network then starts as the
        linear forecaster with a constant, calibrated spread around it.
        Quantiles are weighted (:func:`weighted_quantile`): integer weights
        give those of the rows repeated that many times.
        """
        levels = torch.as_tensor(quantiles, dtype=residual.dtype)
        q = weighted_quantile(residual, levels, sample_weight).T  # (horizon, Q)
        m = self.median_index
        bias = torch.empty_like(q)
        bias[:, m] = q[:, m]
        gaps = (q[:, 1:] - q[:, :-1]).clamp_min(1e-3)  # gap j lies between levels j and j + 1
        inverse_softplus = gaps + torch.log(-torch.expm1(-gaps))
        bias[:, m + 1 :] = inverse_softplus[:, m:]
        bias[:, :m] = inverse_softplus[:, :m]
        self.head.bias.copy_(bias.reshape(-1))


def weighted_quantile(
    values: torch.Tensor, levels: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Quantiles of each column of ``values``, as ``torch.quantile``'s linear method
    gives for the rows repeated ``weight`` times.

    Parameters
    ----------
    values : Tensor of shape (N, K)
    levels : Tensor of shape (Q,)
    weight : Tensor of shape (N,), optional
        Non-negative; rows of weight 0 take no part.

    Returns
    -------
    Tensor of shape (Q, K)

    Examples
    --------
    >>> import torch
    >>> v = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
    >>> weighted_quantile(v, torch.tensor([0.5]), torch.tensor([1.0, 0.0, 3.0])).item()
    3.0
    """
    if weight is None:
        return torch.quantile(values, levels.to(values.dtype), dim=0)
    weight = weight.to(values.dtype)
    keep = weight > 0
    values, weight = values[keep], weight[keep]
    total = weight.sum()
    position = levels.to(values.dtype) * (total - 1).clamp_min(0)  # (Q,)
    out = []
    for column in values.T:
        order = torch.argsort(column)
        v, cum = column[order], torch.cumsum(weight[order], 0)
        # the element at (0-based) repeated position k is the first whose cumulative weight > k
        lower_k, upper_k = position.floor(), position.ceil()
        lower = v[torch.searchsorted(cum, lower_k, right=True).clamp_max(len(v) - 1)]
        upper = v[torch.searchsorted(cum, upper_k, right=True).clamp_max(len(v) - 1)]
        out.append(lower + (position - lower_k) * (upper - lower))
    return torch.stack(out, dim=1)


def _seasonal_naive_steps(lookback: int, horizon: int, season: int):
    """``(source, back)``, each of shape ``(horizon,)``: the window position step ``h``
    of a seasonal naive forecast repeats, and how many steps before it that forecast
    reaches (what its drift is multiplied by)."""
    h = torch.arange(horizon)
    return lookback - season + h % season, season * (h // season + 1)


def seasonal_naive_coef(
    lookback: int, n_channels: int, target_channel: int, horizon: int, season: int, drift: bool
) -> torch.Tensor:
    """Coefficients of a seasonal naive forecast on a flattened ``(lookback, n_channels)``
    window, shape ``(lookback * n_channels, horizon)``.

    Step ``h`` (from 0) repeats the target's value ``season * (h // season + 1)`` steps
    earlier; with ``drift``, plus that many steps of the window's mean slope, the
    change from the mean of its first ``season`` values to the mean of its last
    ``season`` over the ``lookback - season`` steps between them (the naive
    forecast with drift for ``season=1``). Linear in the window, so a linear
    model can start from it.

    Examples
    --------
    >>> import torch
    >>> w = seasonal_naive_coef(4, 1, 0, 3, 2, drift=False)
    >>> torch.tensor([[1.0, 2.0, 3.0, 4.0]]) @ w.float()
    tensor([[3., 4., 3.]])
    >>> torch.tensor([[1.0, 2.0, 3.0, 4.0]]) @ seasonal_naive_coef(4, 1, 0, 3, 1, True).float()
    tensor([[5., 6., 7.]])
    """
    if not 1 <= season < lookback:
        raise ValueError(f"season={season} must be in [1, lookback={lookback}).")
    coef = torch.zeros(lookback, n_channels, horizon, dtype=torch.float64)
    source, back = _seasonal_naive_steps(lookback, horizon, season)
    coef[source, target_channel, torch.arange(horizon)] = 1.0
    if drift:
        slope = back.double() / (season * (lookback - season))
        coef[lookback - season :, target_channel, :] += slope
        coef[:season, target_channel, :] -= slope
    return coef.reshape(lookback * n_channels, horizon)
