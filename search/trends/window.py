"""Time arithmetic for trends: durations, buckets, and the burst statistic.

Pure functions: numbers and instants in, numbers out; `as_of` is always passed in.

The burst statistic compares the posts a topic has in the window with what its
baseline leads us to expect. The expectation is the *median* count per
window-sized bucket of the baseline, not the mean. Why: a story that has run for
ten of the last 48 hours puts ten busy buckets into the baseline; their mean would
already expect much of today's volume and push a still-hot story off the list
within hours, while the median stays at the story's quiet level until it has
filled half the baseline (then it is the new normal, not news). A theme that
recurs every hour ("good morning", football chatter) has a median near its usual
count and never bursts. Buckets before the index holds any post are filled with
a small prior rate: an index that starts now has no history, and every topic in
it is new to it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from search.bounds import MAX_DURATION
from search.errors import FieldError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$")
_UNIT_S = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, field: str) -> timedelta:
    """`30m`, `1h`, `1.5h`, `2d`, `1w` -> timedelta; FieldError naming `field` otherwise."""
    match = _DURATION.match(text.lower())
    if not match:
        raise FieldError(field, f"expected a duration such as 30m, 1h, 2d; got {text!r}")
    seconds = float(match[1]) * _UNIT_S[match[2]]
    if seconds <= 0:
        raise FieldError(field, f"must be longer than zero; got {text!r}")
    # Checked before timedelta(), which overflows (a 500) on `99999999999999999999h`.
    if seconds > MAX_DURATION.total_seconds():
        raise FieldError(field, f"at most {format_duration(MAX_DURATION)}; got {text!r}")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest exact form: 3600 s -> `1h`, 5400 s -> `90m`."""
    seconds = int(delta.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def bucket_index(ts: npt.NDArray[np.float64], as_of: float, bucket_s: float) -> npt.NDArray[np.int64]:
    """Bucket of each timestamp counting back from `as_of`: 0 is [as_of - bucket, as_of)."""
    return np.floor((as_of - ts) / bucket_s).astype(np.int64)


def bucket_counts(buckets: npt.NDArray[np.int64], n_buckets: int,
                  weights: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.float64]:
    """Counts per bucket, newest (0) first; buckets outside [0, n) are ignored."""
    keep = (buckets >= 0) & (buckets < n_buckets)
    return np.bincount(buckets[keep], weights=None if weights is None else weights[keep],
                       minlength=n_buckets).astype(np.float64)


def expected_count(baseline: Sequence[float], known: int, prior: float) -> float:
    """Median count per bucket over the baseline.

    `baseline` holds the counts of the buckets the index covers (newest first);
    `known` of the baseline's buckets are covered, the rest (before the index's
    first post) count as `prior` each.
    """
    values = list(baseline[:known]) + [prior] * max(0, len(baseline) - known)
    return float(np.median(values)) if values else prior


def burst_z(observed: float, expected: float, smoothing: float = 1.0) -> float:
    """(observed - expected) / sqrt(expected + smoothing): a Poisson z-score.

    `smoothing` keeps a topic with no history (expected 0) from scoring infinity:
    five posts out of nowhere give z = 5 / sqrt(1) = 5.
    """
    return (observed - expected) / math.sqrt(max(expected, 0.0) + smoothing)


def poisson_tail(observed: float, expected: float) -> float:
    """-log10 P(X >= observed) for X ~ Poisson(expected): how surprising the window is.

    Computed in log space, summing the upper tail until its terms vanish, so it
    stays finite for counts in the thousands.
    """
    k = int(math.floor(observed))
    lam = max(expected, 1e-9)
    if k <= 0:
        return 0.0
    log_term = k * math.log(lam) - lam - math.lgamma(k + 1)
    total = log_term
    i = k
    while True:
        i += 1
        log_term += math.log(lam) - math.log(i)
        if log_term < total - 40 or i > k + 10_000:
            break
        total = max(total, log_term) + math.log1p(math.exp(-abs(total - log_term)))
    return max(0.0, -total / math.log(10))


def growth(current: float, previous: float) -> float:
    """Relative change against the previous window, +1 smoothed: 10 after 4 is +1.2."""
    return (current + 1.0) / (previous + 1.0) - 1.0
