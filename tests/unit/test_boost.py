import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.boost import engagement_factor, time_decay, trending_score, velocity_factor

ages = st.floats(min_value=0, max_value=1e9, allow_nan=False)
half_lives = st.floats(min_value=1, max_value=1e7, allow_nan=False)
counts = st.integers(min_value=0, max_value=10**9)


def test_decay_halves_every_half_life() -> None:
    assert time_decay(0, 3600) == 1.0
    assert time_decay(3600, 3600) == pytest.approx(0.5)
    assert time_decay(7200, 3600) == pytest.approx(0.25)


def test_posts_from_the_future_count_as_new() -> None:
    assert time_decay(-500, 3600) == 1.0


def test_half_life_must_be_positive() -> None:
    with pytest.raises(ValueError, match="half_life_s must be > 0"):
        time_decay(10, 0)


@given(ages, ages, half_lives)
def test_decay_is_in_unit_interval_and_older_never_scores_higher(a: float, b: float, h: float) -> None:
    young, old = sorted((a, b))
    assert 0.0 <= time_decay(old, h) <= time_decay(young, h) <= 1.0


@given(counts, counts, counts, st.floats(min_value=0, max_value=5))
def test_engagement_is_at_least_one_and_monotone_in_likes(l: int, r: int, c: int, w: float) -> None:
    base = engagement_factor(l, r, c, w)
    assert base >= 1.0
    assert engagement_factor(l + 1, r, c, w) >= base


def test_engagement_grows_by_weight_per_e_fold() -> None:
    assert engagement_factor(0, 0, 0, 0.3) == 1.0
    assert engagement_factor(math.e - 1, 0, 0, 0.3) == pytest.approx(1.3)


def test_trending_score_is_the_product() -> None:
    assert trending_score(0.8, 0.5, 1.5) == pytest.approx(0.6)


@given(counts, st.floats(min_value=0, max_value=1e6), st.floats(min_value=0, max_value=3))
def test_velocity_is_one_at_typical_and_monotone_in_count(c: int, typical: float, w: float) -> None:
    assert velocity_factor(typical, typical, w) == pytest.approx(1.0)
    assert velocity_factor(c + 1, typical, w) >= velocity_factor(c, typical, w)


def test_velocity_at_weight_one_is_the_ratio_to_typical() -> None:
    # A 1 h-old post with 29 against a typical 9: three times typical, whatever its total.
    assert velocity_factor(29, 9, 1.0) == pytest.approx(3.0)
    assert velocity_factor(29, 9, 0.5) == pytest.approx(math.sqrt(3.0))
