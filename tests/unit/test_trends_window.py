"""The burst statistic and the time arithmetic behind it (pure, no I/O)."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import poisson

from search.errors import FieldError
from search.trends import window


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("1h", 3600), ("1.5h", 5400),
                                               ("2d", 172800), ("1w", 604800), (" 90 min ", 5400)])
def test_parse_duration(text: str, seconds: int) -> None:
    assert window.parse_duration(text, "window") == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1", "h", "-1h", "0h", "1y", "one hour"])
def test_parse_duration_names_the_field(text: str) -> None:
    with pytest.raises(FieldError) as err:
        window.parse_duration(text, "baseline")
    assert err.value.field == "baseline"


def test_format_duration_is_the_shortest_exact_form() -> None:
    assert [window.format_duration(timedelta(seconds=s)) for s in (3600, 5400, 172800, 45)] == \
        ["1h", "90m", "2d", "45s"]


def test_buckets_count_back_from_as_of() -> None:
    ts = np.array([99.0, 100.0, 89.9, 80.0, 101.0, 50.0])
    buckets = window.bucket_index(ts, 100.0, 10.0)
    assert buckets.tolist() == [0, 0, 1, 2, -1, 5]  # as_of itself is excluded: floor(0) = 0 ...
    assert window.bucket_counts(buckets, 3).tolist() == [2.0, 1.0, 1.0]


def test_expected_is_the_baseline_median_so_a_long_story_stays_news() -> None:
    # Ten busy hours of a story in a 48 h baseline: the mean would expect 20, the median 0.
    baseline = [100.0] * 10 + [0.0] * 38
    assert window.expected_count(baseline, known=48, prior=0.0) == 0.0
    assert window.burst_z(100.0, 0.0) == 100.0
    # Unknown buckets (before the index's first post) count as the prior.
    assert window.expected_count([4.0, 4.0, 4.0, 4.0], known=2, prior=0.0) == 2.0


def test_burst_z_is_a_smoothed_poisson_score() -> None:
    assert window.burst_z(5, 0) == 5.0
    assert window.burst_z(30, 9) == pytest.approx(21 / math.sqrt(10))
    assert window.burst_z(8, 9) < window.burst_z(9, 9) == 0 < window.burst_z(10, 9)


@given(observed=st.integers(1, 3000), expected=st.floats(0.01, 2000))
def test_poisson_tail_matches_scipy(observed: int, expected: float) -> None:
    want = -math.log10(max(poisson.sf(observed - 1, expected), 1e-300))
    got = window.poisson_tail(observed, expected)
    assert got >= 0
    if want < 290:  # beyond that scipy underflows to 0 and we stay finite
        assert got == pytest.approx(want, rel=1e-4, abs=1e-6)


def test_growth_is_smoothed() -> None:
    assert window.growth(10, 4) == pytest.approx(1.2)
    assert window.growth(0, 0) == 0.0
