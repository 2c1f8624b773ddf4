"""Forecast a post's engagement a day out from its counts so far, calibrated per platform.

What "a lot for a one-hour-old Weibo post" means is not a constant: it is read off
the posts of that platform the index already holds whose history reaches the
horizon (`HORIZON_S`, a day): their *reference* count at the query's age and
their *final* count at the horizon. A forecast is then a kernel regression over
those references, in log1p space (counts are heavy-tailed):

- each reference j weighs w_j = exp(-((x - e_j) / h)^2 / 2), x the post's log1p
  count at its age, e_j the reference's at that age, h Silverman's bandwidth of
  the e_j (no tuned constant);
- it votes for s_j = f_j + (x - e_j) + d: its own final f_j moved by how far the
  post is ahead of it now (so a post beyond every reference extrapolates by their
  growth instead of saturating), plus the text shift d;
- d, the text signal: the score-weighted mean residual f - m(e) of the post's
  `NEIGHBOURS` nearest references by their stored lexical vectors (the index's
  own sparse search), m the same regression: posts with these words outgrow (or
  undergrow) their early counts. Lexical, not dense: any profile stores it, it
  is cheap, and it reads Chinese through the same tokeniser as search does.

`p_top` is the kernel-smoothed share of votes above the references' top decile of
final counts (what the scorer calls top); `expected` the weighted mean of the
votes in log1p space, as a count (a geometric mean: robust to one viral outlier). Engagement is the sum of likes, reposts and comments, so a
platform counting reposts (Weibo) and one counting comments (Reddit) need no
per-platform code. Pure: numbers in, numbers out; `search.forecasting` feeds it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from search.history import total

HORIZON_S = 86_400.0
MIN_AGE_S = 900.0
MIN_REFERENCES = 50
NEIGHBOURS = 50
TOP_SHARE = 0.1
# Ages a reference's count is read at: 15 min to 16 h, half a doubling apart; a
# snapshot counts for a grid age when it lies within a quarter doubling of it.
AGE_GRID = np.array([MIN_AGE_S * 2 ** (k / 2) for k in range(13)])
_TOLERANCE = math.log(2) / 4


def grid_index(age_s: float) -> int:
    return int(np.argmin(np.abs(np.log(AGE_GRID) - math.log(max(age_s, 1.0)))))


def reference_row(history: Sequence[Sequence[float]], created_ts: float) -> tuple[np.ndarray, float] | None:
    """(log1p count at each grid age, NaN where no snapshot is near; log1p count at the
    horizon, interpolated between the snapshots around it), or None if not matured."""
    ages = np.array([s[0] - created_ts for s in history])
    totals = np.array([total(s) for s in history])
    if len(ages) == 0 or ages[-1] < HORIZON_S:
        return None
    after = int(np.searchsorted(ages, HORIZON_S))
    if after == 0 or ages[after] == HORIZON_S:
        final = totals[after]
    else:
        a0, a1 = ages[after - 1], ages[after]
        final = totals[after - 1] + (totals[after] - totals[after - 1]) * (HORIZON_S - a0) / (a1 - a0)
    early = np.full(len(AGE_GRID), np.nan)
    logs = np.log(np.maximum(ages, 1.0))
    for g, grid_age in enumerate(AGE_GRID):
        gap = np.abs(logs - math.log(grid_age))
        nearest = int(np.argmin(gap))
        if gap[nearest] <= _TOLERANCE:
            early[g] = math.log1p(totals[nearest])
    return early, math.log1p(final)


def _bandwidth(values: np.ndarray) -> float:
    spread = float(np.std(values))
    width: float = 1.06 * spread * float(len(values)) ** -0.2
    return max(width, 1e-3)


def _weights(x: float, e: np.ndarray, h: float) -> np.ndarray:
    z = ((e - x) / h) ** 2 / 2
    out: np.ndarray = np.exp(-(z - z.min()))  # relative to the nearest: no underflow far out
    return out


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (error < 1.5e-7): vectorised, without scipy."""
    x = np.abs(z) / math.sqrt(2)
    t = 1 / (1 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))
    erf = 1 - poly * np.exp(-x * x)
    out: np.ndarray = 0.5 * (1 + np.sign(z) * erf)
    return out


def fitted(early_at: np.ndarray, early: np.ndarray, final: np.ndarray) -> np.ndarray:
    """m(e): the kernel regression of final on early counts, at each of `early_at`."""
    h = _bandwidth(early)
    return np.array([float(np.average(final, weights=_weights(float(e), early, h)))
                     for e in early_at])


def predict(x: float, early: np.ndarray, final: np.ndarray,
            shift: float = 0.0) -> tuple[float, float, float]:
    """(p_top, expected, typical log1p count at this age) for log1p count x, given the
    references' early (at the post's grid age) and final log1p counts and the text shift."""
    h = _bandwidth(early)
    w = _weights(x, early, h)
    votes = final + (x - early) + shift
    threshold = float(np.quantile(final, 1 - TOP_SHARE))
    hf = _bandwidth(final)
    p_top = float(np.average(_normal_cdf((votes - threshold) / hf), weights=w))
    # The geometric mean, not the arithmetic: one outlier reference would otherwise set
    # the expectation of every post near it (counts are heavy-tailed).
    expected = math.expm1(float(np.average(votes, weights=w)))
    return min(max(p_top, 0.0), 1.0), max(expected, math.expm1(x)), float(np.median(early))


def text_shift(residuals: np.ndarray, scores: np.ndarray) -> float:
    """d: the neighbours' residuals f - m(e), weighted by their score relative to the best."""
    if len(residuals) == 0 or float(scores.max()) <= 0:
        return 0.0
    return float(np.average(residuals, weights=np.maximum(scores, 0.0) / float(scores.max())))
