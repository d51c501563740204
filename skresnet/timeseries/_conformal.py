"""Quantile levels and split conformal calibration of central intervals: pure functions.

A quantile forecast ``q`` has shape ``(n_windows, horizon, n_quantiles)``, the
levels symmetric around the median (``levels[i] + levels[-1 - i] == 1``), so
interval ``i`` is bounded by quantiles ``i`` and ``-1 - i`` and the median is
the middle one. Calibration scores how far out each actual value lies in
units of its own interval, and widens or narrows every interval by the
conformal quantile of those scores (conformalized quantile regression,
Romano et al., 2019; split conformal prediction, Vovk et al., 2005).
Nothing here holds state: the estimator keeps the scores and factors.
"""

from __future__ import annotations

import math

import numpy as np

# From this many calibration windows on, each horizon step gets its own factor;
# below, the steps' scores are pooled (a step's own few scores give a noisy,
# conservative quantile: from 10 windows, the second largest).
MIN_PER_STEP = 100


def check_levels(quantiles, loss, conformal, early_stopping) -> np.ndarray | None:
    """Sorted quantile levels, or a ValueError naming what is wrong."""
    if quantiles is None:
        if conformal:
            raise ValueError("conformal=True calibrates quantiles; set quantiles too.")
        return None
    try:
        levels = np.sort(np.asarray(quantiles, dtype=float).ravel())
    except (TypeError, ValueError):
        raise ValueError(
            f"quantiles={quantiles!r} is not valid; expected a sequence of floats in (0, 1)."
        ) from None
    if (
        not (levels.size and np.all((levels > 0) & (levels < 1)))
        or np.unique(levels).size < levels.size
    ):
        raise ValueError(
            f"quantiles={quantiles!r} is not valid; expected distinct floats in (0, 1), "
            "e.g. (0.1, 0.5, 0.9)."
        )
    if levels.size == 1:
        raise ValueError(
            f"quantiles={quantiles!r} has one level; give at least three (e.g. (0.1, 0.5, "
            "0.9)): the middle one is what predict returns and the others are the bounds "
            "of its intervals. For the median alone, use loss='mae' without quantiles."
        )
    if levels.size % 2 == 0 or not np.allclose(levels + levels[::-1], 1.0, atol=1e-9):
        raise ValueError(
            f"quantiles={quantiles!r} is not symmetric around 0.5; give 0.5 and pairs of "
            "levels p and 1 - p, e.g. (0.1, 0.5, 0.9) or (0.05, 0.25, 0.5, 0.75, 0.95): "
            "the median is what predict returns, and each pair bounds a central interval."
        )
    if loss != "mse":
        raise ValueError(
            f"loss={loss!r} cannot be combined with quantiles: quantile models train on "
            "the pinball loss. Leave loss='mse'."
        )
    if conformal and early_stopping is not True:
        raise ValueError(
            "conformal=True calibrates on the validation windows of early stopping; "
            f"set early_stopping=True (got {early_stopping!r})."
        )
    return levels


def interval_bounds(levels: np.ndarray, coverage) -> tuple[int, int]:
    """Indices of the quantiles bounding the central ``coverage`` interval, or a
    ValueError listing the coverages these levels offer."""
    if (
        isinstance(coverage, (bool, np.bool_))
        or not isinstance(coverage, (int, float, np.integer, np.floating))
        or not 0 <= coverage <= 1
    ):
        raise ValueError(f"coverage must be a number in [0, 1], got {coverage!r}.")
    bounds = []
    for level in ((1 - coverage) / 2, (1 + coverage) / 2):
        match = np.flatnonzero(np.isclose(levels, level, rtol=0, atol=1e-9))
        if not match.size:
            available = [
                round(float(levels[-1 - i] - levels[i]), 6) for i in range(len(levels) // 2)
            ]
            raise ValueError(
                f"coverage={coverage!r} needs the quantiles {(1 - coverage) / 2:g} and "
                f"{(1 + coverage) / 2:g}; this model has {levels.tolist()}, so coverage "
                f"can be one of {available}."
            )
        bounds.append(int(match[0]))
    return bounds[0], bounds[1]


def scores(q: np.ndarray, y) -> np.ndarray:
    """How far out each actual value lies in units of its own interval, shape
    ``(n_windows, horizon, n_quantiles // 2)``, widest interval first.

    ``max((mid - y) / (mid - lower), (y - mid) / (upper - mid))`` on the
    uncalibrated quantiles ``q``: 1 on a bound, below 1 inside.
    """
    actual = np.asarray(y, dtype=float).reshape(len(q), -1)
    mid = q[..., q.shape[-1] // 2]
    tiny = 1e-12 * (1.0 + np.abs(mid))
    out = np.empty((*mid.shape, q.shape[-1] // 2))
    for i in range(q.shape[-1] // 2):
        below = np.maximum(mid - q[..., i], tiny)
        above = np.maximum(q[..., -1 - i] - mid, tiny)
        out[..., i] = np.maximum((mid - actual) / below, (actual - mid) / above)
    return out


def factors(scores: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """What each central interval's distances from the median are multiplied by,
    shape ``(horizon, n_quantiles // 2)``.

    Interval ``i``'s factor is the ``ceil((n + 1) c)``-th smallest of its
    ``n`` scores (split conformal prediction's rank), ``c`` its nominal
    coverage: of each horizon step's own scores from :data:`MIN_PER_STEP`
    windows on, of all steps' pooled below that. Each factor is that score times
    ``1 + 1e-9``: the value that sets it lies on its interval's bound, and
    ``mid + score * (bound - mid)`` can round to a bound one float step inside it.
    """
    per_step = len(scores) >= MIN_PER_STEP
    out = np.empty(scores.shape[1:])
    for i in range(scores.shape[2]):
        s = scores[..., i] if per_step else scores[..., i].reshape(-1, 1)
        k = _conformal_rank(len(s), levels[-1 - i] - levels[i])
        out[:, i] = np.maximum(0.0, np.sort(s, axis=0)[k - 1]) * (1.0 + _ROUNDING)
    return out


# The relative widening of each factor that keeps its own value inside after rounding.
_ROUNDING = 1e-9


def _conformal_rank(n: int, coverage: float) -> int:
    """Split conformal prediction's rank among ``n`` sorted scores for ``coverage``:
    ``ceil((n + 1) coverage)``, at most ``n``."""
    return min(n, math.ceil((n + 1) * coverage))


def calibrate(q: np.ndarray, factors: np.ndarray | None) -> np.ndarray:
    """The quantiles ``q`` with each interval's distances from the median scaled by its
    factor, put back in order where that crossed a neighbour (monotone
    rearrangement, Chernozhukov et al., 2010, which never increases the pinball
    loss). ``factors=None``: ``q`` unchanged."""
    if factors is None:
        return q
    mid = q[..., q.shape[-1] // 2]
    out = q.copy()
    for i in range(factors.shape[1]):
        out[..., i] = mid - factors[:, i] * (mid - q[..., i])
        out[..., -1 - i] = mid + factors[:, i] * (q[..., -1 - i] - mid)
    return np.sort(out, axis=-1)


def slide(stored: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The calibration window moved on: ``new`` scores appended, as many of the oldest
    dropped (the size stays ``len(stored)``)."""
    return np.concatenate([stored, new])[-len(stored) :]


def walk(
    stored: np.ndarray,
    levels: np.ndarray,
    q_new: np.ndarray,
    y_new,
    new_counts,
    q_at: np.ndarray,
    at_counts,
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated quantiles of ``q_at``, group by group, each group's after the scores
    of the next group of ``(q_new, y_new)`` slid into the calibration window
    (``new_counts[k]`` and ``at_counts[k]`` windows in group ``k``), and the
    final window of scores: what a loop of ``update_calibration`` and
    ``predict_quantiles`` gives, from quantiles computed in one batch.
    """
    y_new = np.asarray(y_new, dtype=float).reshape(len(q_new), -1)
    out, a, c = [], 0, 0
    for n_new, n_at in zip(new_counts, at_counts, strict=True):
        if n_new:
            stored = slide(stored, scores(q_new[a : a + n_new], y_new[a : a + n_new]))
        out.append(calibrate(q_at[c : c + n_at], factors(stored, levels)))
        a, c = a + n_new, c + n_at
    return np.concatenate(out), stored


def half_widths(errors: np.ndarray, levels: np.ndarray) -> np.ndarray | None:
    """Each central interval's half-width at each horizon step, shape
    ``(horizon, n_quantiles // 2)``, from out-of-sample ``errors`` of shape
    ``(n, horizon)``: the ``ceil((n + 1) c)``-th smallest of their absolute values
    at each step (split conformal prediction; the largest below ``c = 1 - 1/(n+1)``), made
    non-decreasing along the horizon (later steps are not easier). None
    without errors."""
    if not len(errors):
        return None
    ordered = np.sort(np.abs(errors), axis=0)
    out = np.empty((ordered.shape[1], len(levels) // 2))
    for i in range(len(levels) // 2):
        k = _conformal_rank(len(ordered), levels[-1 - i] - levels[i])  # k-th smallest
        out[:, i] = np.maximum.accumulate(ordered[k - 1])
    return out


def around(mid: np.ndarray, widths: np.ndarray, unit: np.ndarray, n_quantiles: int) -> np.ndarray:
    """Quantiles ``(n_windows, horizon, n_quantiles)`` around the medians ``mid``
    ``(n_windows, horizon)``: interval ``i`` at ``mid -+ widths[:, i] * unit`` (``unit``:
    each window's, shape ``(n_windows,)``), in order."""
    out = np.repeat(mid[..., None], n_quantiles, axis=-1)
    for i in range(widths.shape[1]):
        out[..., i] = mid - widths[:, i] * unit[:, None]
        out[..., -1 - i] = mid + widths[:, i] * unit[:, None]
    return np.sort(out, axis=-1)
