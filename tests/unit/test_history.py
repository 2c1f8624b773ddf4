"""Engagement history and the forecast's arithmetic: pure functions, no store."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.forecast import HORIZON_S, grid_index, predict, reference_row, text_shift
from search.history import add, apply_update, snapshot_problem
from search.models import Engagement


@settings(deadline=None, max_examples=50)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=200))
def test_history_stays_bounded_sorted_and_keeps_the_ends(times: list[float]) -> None:
    history: list[list[float]] = []
    for t in times:
        history = add(history, [t, 1, 2, 3], limit=8)
    ts = [s[0] for s in history]
    assert ts == sorted(set(ts)) and len(history) <= 8
    assert ts[0] == min(times) and ts[-1] == max(times)


def test_snapshots_before_the_post_or_in_the_future_are_refused() -> None:
    assert "before" in (snapshot_problem(9.0, 10.0, 100.0) or "")
    assert "future" in (snapshot_problem(10_000.0, 10.0, 100.0) or "")
    assert snapshot_problem(50.0, 10.0, 100.0) is None


def test_an_update_carries_the_counts_it_does_not_send() -> None:
    payload = {"created_ts": 0.0, "likes": 1, "reposts": 2, "comments": 3,
               "history": [[0.0, 1, 2, 3]]}
    fields = apply_update(payload, Engagement(likes=10), 60.0)
    assert fields["history"][-1] == [60.0, 10.0, 2.0, 3.0]
    assert (fields["likes"], fields["reposts"], fields["comments"]) == (10, 2, 3)
    assert fields["history_age"] == 60.0


def test_a_reference_needs_a_day_and_reads_counts_near_the_grid_ages() -> None:
    assert reference_row([[0, 0, 0, 0], [3600, 0, 0, 5]], 0.0) is None
    early, final = reference_row([[0, 0, 0, 0], [3600, 0, 0, 5], [HORIZON_S, 0, 0, 20]], 0.0) or (None, 0)
    assert early is not None and final == math.log1p(20)
    assert early[grid_index(3600)] == math.log1p(5)
    assert np.isnan(early[grid_index(4 * 3600)])  # no snapshot near 4 h: unknown, not guessed


def test_more_engagement_now_means_a_higher_forecast() -> None:
    rng = np.random.default_rng(0)
    early = np.log1p(rng.poisson(3, 500).astype(float))
    final = early + rng.normal(1.0, 0.5, 500)
    low, high = predict(math.log1p(1), early, final), predict(math.log1p(20), early, final)
    assert 0 <= low[0] < high[0] <= 1 and low[1] < high[1]
    assert predict(math.log1p(3), early, final, shift=0.5)[0] > predict(math.log1p(3), early, final)[0]


def test_the_text_shift_weighs_neighbours_by_score() -> None:
    assert text_shift(np.array([1.0, -1.0]), np.array([3.0, 1.0])) == pytest.approx(0.5)
    assert text_shift(np.zeros(0), np.zeros(0)) == 0.0
