"""Trending boosts: pure functions, numbers in, numbers out, `as_of` passed in.

Time decay halves a post's weight every `half_life_s`: news interest fades
geometrically, and a half-life is a knob an editor can reason about ("a story
from 12 hours ago counts half"). Engagement enters through log1p so a post
with 100k likes is boosted, not made untouchable: each tenfold gain adds a
constant step.

With a calibration (`velocity_factor`), trending reads engagement *for the post's
age* instead: its count over the count a typical post of its platform has at
that age, learned from the index's own matured posts (`search.forecasting`). A
raw total favours the post that has simply been around longer (a two-day-old
post with its day of comments outranks the one-hour-old post drawing them
faster); the ratio does not, and it means the same on a platform counting
reposts as on one counting comments.
"""

from __future__ import annotations

import math

# Reposts and comments take more effort than a like and spread a post further.
REPOST_WEIGHT = 2.0
COMMENT_WEIGHT = 2.0


def time_decay(age_s: float, half_life_s: float) -> float:
    """1.0 at age 0, 0.5 at one half-life. Posts from the future (clock skew) count as new."""
    if half_life_s <= 0:
        raise ValueError(f"half_life_s must be > 0, got {half_life_s}")
    return float(0.5 ** (max(age_s, 0.0) / half_life_s))


def engagement_factor(likes: int, reposts: int, comments: int, weight: float) -> float:
    """1.0 with no engagement; grows by `weight` per e-fold of weighted interactions."""
    interactions = likes + REPOST_WEIGHT * reposts + COMMENT_WEIGHT * comments
    return 1.0 + weight * math.log1p(max(interactions, 0.0))


def trending_score(relevance: float, decay: float, engagement: float) -> float:
    return relevance * decay * engagement


def velocity_factor(count: float, typical: float, weight: float) -> float:
    """(count + 1) / (typical + 1) to the power `weight`: 1.0 for a post exactly as
    engaged as its platform's typical post of its age. A power, not a log: the
    forecast scales a post's final count by this ratio (`search.forecast`), so with
    weight 1 the score is proportional to its expected count against the typical."""
    return float(((max(count, 0.0) + 1.0) / (max(typical, 0.0) + 1.0)) ** weight)
