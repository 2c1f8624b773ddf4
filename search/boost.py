"""Trending boosts: pure functions, numbers in, numbers out, `as_of` passed in.

Time decay halves a post's weight every `half_life_s`: news interest fades
geometrically, and a half-life is a knob an editor can reason about ("a story
from 12 hours ago counts half"). Engagement enters through log1p so a post
with 100k likes is boosted, not made untouchable: each tenfold gain adds a
constant step.
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
