"""Scaled counts as whole posts (`search.counting._rounded`): facets and histogram
buckets estimated from a sample must still add up to the posts they stand for."""

from __future__ import annotations

from search.counting import _rounded


def test_scaled_counts_keep_their_sum_and_round_the_largest_remainders_up() -> None:
    scaled = {"twitter": 10.6, "weibo": 5.3, "reddit": 4.1}  # sum 20
    assert _rounded(scaled) == {"twitter": 11, "weibo": 5, "reddit": 4}
    assert sum(_rounded(scaled).values()) == 20


def test_ties_go_by_key_and_zeros_are_dropped() -> None:
    assert _rounded({"b": 0.5, "a": 0.5, "c": 0.0}) == {"a": 1}
    assert _rounded({3: 2.0, 1: 1.0}) == {3: 2, 1: 1}  # whole counts stay as they are
    assert _rounded({}) == {}
