"""The burst trigger and the relevance rules, pure: numbers in, decisions out."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from search.watches import detect, relevance
from search.watches.models import BurstTrigger, Match
from search.watches.relevance import Calibration

NOW = 1_000_000.0
HOUR = 3600.0
SLOT = 600.0


def traffic(hours_back: float, every_hour: bool = True) -> dict[int, int]:
    """Posts arrived in every 10-minute slot of the last `hours_back` hours."""
    first = int((NOW - hours_back * HOUR) // SLOT)
    return {slot: 3 for slot in range(first, int(NOW // SLOT) + 1)}
TRIGGER = BurstTrigger(min_z=4.0, min_posts=4)
PARAMS = detect.DetectParams()
CAL = Calibration(median=0.1, spread=0.05, n=1000, at_ts=NOW)
NORMAL = relevance.LEVELS["normal"]


def ev(i: int, age_h: float, *, copy: int | None = None, lexical: float = 0.5,
       z: float = 5.0) -> detect.Evidence:
    return detect.Evidence(post_id=f"p{i}", created_ts=NOW - age_h * HOUR, dense=0.5, z=z,
                           lexical=lexical, copy=i if copy is None else copy,
                           score=relevance.score(z, lexical), terms=3 * lexical)


def test_a_quiet_watch_that_gets_five_posts_in_the_hour_is_hot() -> None:
    counted = [ev(i, 0.5) for i in range(5)] + [ev(100 + h, h + 0.5) for h in range(1, 48, 8)]
    burst = detect.assess(counted, now_ts=NOW, trigger=TRIGGER, traffic=traffic(100),
                          params=PARAMS)
    assert (burst.observed, burst.expected, burst.known_windows) == (5, 0.0, 48)
    assert burst.z == 5.0 and burst.hot(TRIGGER, PARAMS)
    assert [e.post_id for e in burst.top] == ["p0", "p1", "p2", "p3", "p4"]


def test_the_baseline_is_the_median_window_so_a_busy_watch_needs_more() -> None:
    steady = [ev(1000 + h * 10 + k, h + 0.5) for h in range(1, 49) for k in range(4)]
    counted = steady + [ev(i, 0.5) for i in range(8)]
    burst = detect.assess(counted, now_ts=NOW, trigger=TRIGGER, traffic=None, params=PARAMS)
    assert burst.expected == 4.0 and burst.observed == 8
    assert burst.z == round((8 - 4) / math.sqrt(5), 3) and not burst.hot(TRIGGER, PARAMS)


def test_a_busy_feed_needs_a_share_of_its_usual_window() -> None:
    """Five matching posts in an hour of ~120 are a coincidence; in an hour of ~18, a story."""
    counted = [ev(i, 0.5) for i in range(5)]
    busy = {slot: 20 for slot in traffic(100)}  # 120 posts an hour
    burst = detect.assess(counted, now_ts=NOW, trigger=TRIGGER, traffic=busy, params=PARAMS)
    assert burst.needed == 6 and burst.z == 5.0 and not burst.hot(TRIGGER, PARAMS)
    burst = detect.assess(counted + [ev(9, 0.5)], now_ts=NOW, trigger=TRIGGER, traffic=busy,
                          params=PARAMS)
    assert burst.hot(TRIGGER, PARAMS)
    burst = detect.assess(counted, now_ts=NOW, trigger=TRIGGER, traffic=traffic(100),
                          params=PARAMS)
    assert burst.needed == TRIGGER.min_posts and burst.hot(TRIGGER, PARAMS)


def test_copies_of_one_text_count_once_and_show_once() -> None:
    counted = [ev(i, 0.2, copy=7) for i in range(6)]
    burst = detect.assess(counted, now_ts=NOW, trigger=TRIGGER, traffic=None, params=PARAMS)
    assert burst.observed == 1 and len(burst.top) == 1 and not burst.hot(TRIGGER, PARAMS)


def test_windows_without_traffic_are_unknown_not_quiet() -> None:
    """A feed that starts (or comes back after weeks) says nothing yet about what is usual."""
    hot = [ev(i, 0.5) for i in range(6)]
    burst = detect.assess(hot, now_ts=NOW, trigger=TRIGGER, traffic=traffic(2.5), params=PARAMS)
    assert burst.known_windows == 2 and not burst.hot(TRIGGER, PARAMS)  # 3 known are needed
    burst = detect.assess(hot, now_ts=NOW, trigger=TRIGGER, traffic=traffic(4.5), params=PARAMS)
    assert burst.known_windows == 4 and burst.hot(TRIGGER, PARAMS)
    gap = {**traffic(4.5), **{int((NOW - 40 * HOUR) // SLOT): 9}}  # one busy hour long ago
    burst = detect.assess(hot, now_ts=NOW, trigger=TRIGGER, traffic=gap, params=PARAMS)
    assert burst.known_windows == 5


def test_a_burst_whose_top_posts_lack_the_query_words_does_not_fire() -> None:
    """Stories of one kind move together in meaning; the desk asked for these words."""
    counted = [ev(i, 0.5, lexical=0.0, z=9.0) for i in range(10)]
    burst = detect.assess(counted, now_ts=NOW, trigger=TRIGGER, traffic=None, params=PARAMS)
    assert burst.observed == 10 and burst.grounded == 0.0 and not burst.hot(TRIGGER, PARAMS)


def test_an_episode_goes_on_while_the_window_stays_above_the_frozen_baseline() -> None:
    burst = detect.assess([ev(i, 0.5) for i in range(3)], now_ts=NOW, trigger=TRIGGER,
                          traffic=None, params=PARAMS)
    assert detect.episode_active(burst, 0.0, PARAMS)
    assert not detect.episode_active(burst, 2.0, PARAMS)


def test_evidence_keeps_words_with_meaning_or_meaning_alone() -> None:
    def match(z: float, lexical: float, behind: float = 0.0) -> Match:
        return Match("w", f"z{z}-{lexical}", NOW, 0.1 + z * 0.05, lexical, 0, 0, behind)

    kept = detect.evidence([match(3.5, 0.5),  # words and meaning
                            match(2.5, 0.5),  # too loose a meaning for the words
                            match(7, 0.0),   # meaning alone, far out
                            match(5, 0.0)],  # meaning alone, not far enough
                           CAL, NORMAL, query_terms=2)
    assert [e.post_id for e in kept] == ["z3.5-0.5", "z7-0.0"]
    # Counted in average query terms: a twentieth of a five-term query's weight is 0.25.
    assert detect.evidence([match(3.5, 0.05)], CAL, NORMAL, query_terms=5) == []
    assert len(detect.evidence([match(3.5, 0.1)], CAL, NORMAL, query_terms=5)) == 1
    # A post nearer another watch counts there, not here.
    assert detect.evidence([match(7, 0.5, behind=1.5)], CAL, NORMAL, query_terms=2) == []
    # A dense model that does not know the query's script gives no evidence at all.
    assert detect.evidence([match(0.45, 0.0)], CAL, NORMAL, dense_trusted=False) == []


def test_calibration_is_the_median_and_a_robust_spread() -> None:
    import numpy as np

    cos = np.asarray([[0.1], [0.2], [0.3], [0.9]], dtype=np.float32)
    (cal,) = relevance.calibrate(cos, NOW)
    assert math.isclose(cal.median, 0.25, abs_tol=1e-6)
    assert math.isclose(cal.spread, 1.4826 * 0.1, rel_tol=1e-5)
    assert relevance.z_score(0.25, cal) == 0.0 and relevance.z_score(0.9, None) == 0.0


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 100_000))
def test_a_rarer_term_weighs_more(df_a: int, df_b: int, extra: int) -> None:
    posts = max(df_a, df_b) + extra  # a term is in at most every post
    if df_a < df_b:
        assert relevance.idf(df_a, posts) > relevance.idf(df_b, posts) > 0


def test_shown_posts_are_ranked_and_grounded_by_the_terms_that_are_moving() -> None:
    """"hurricane hitting New York and New Jersey": check-ins in New York hold rare words of
    the query every hour; the story is the posts with the words that are moving now."""
    weights = [1.0, 1.0, 4.0, 3.0]  # hurricane (common by then), new, york, jersey

    def post(i: int, age_h: float, mask: int) -> detect.Evidence:
        terms = sum(w for k, w in enumerate(weights) if mask >> k & 1) / sum(weights) * 4
        return detect.Evidence(post_id=f"p{i}", created_ts=NOW - age_h * HOUR, dense=0.5,
                               z=4.0, lexical=terms / 4, copy=i,
                               score=relevance.score(4.0, terms), terms=terms, mask=mask)

    # Two check-ins ("new york") every hour of the baseline and of the window ...
    checkins = [post(1000 + 10 * h + k, h + 0.5, 0b0110) for h in range(48) for k in range(2)]
    storm = [post(i, 0.5, 0b1001) for i in range(8)]  # ... and eight "hurricane ... jersey"
    counted = checkins + storm
    assert detect.moving_terms(counted, now_ts=NOW, window=HOUR, known=range(1, 49),
                               n_terms=4, term_z=2.0) == {0, 3}
    burst = detect.assess(counted, now_ts=NOW, trigger=TRIGGER, traffic=None, params=PARAMS,
                          weights=weights)
    assert [e.post_id for e in burst.top[:8]] == [f"p{i}" for i in range(8)]
    assert burst.grounded == 0.8 and burst.hot(TRIGGER, PARAMS)
    # Ranked on all of the query's terms, the check-ins come first.
    flat = detect.DetectParams(rank_moving=False)
    burst = detect.assess(counted, now_ts=NOW, trigger=TRIGGER, traffic=None, params=flat,
                          weights=weights)
    assert {e.post_id for e in burst.top[:2]} == {"p1000", "p1001"}
    # Only the usual check-ins: none of them is grounded, however many words they hold.
    burst = detect.assess(checkins, now_ts=NOW, trigger=TRIGGER, traffic=None, params=PARAMS,
                          weights=weights)
    assert burst.top and burst.grounded == 0.0


def test_a_quiet_feed_flooded_now_needs_a_share_of_the_hour_arriving() -> None:
    """A quiet forum (18 posts an hour) that another story floods (240 this hour): four
    jokes naming "earthquake" and "tsunami" are a coincidence of the flood, not a story."""
    counted = [ev(i, 0.5) for i in range(5)]
    flooded = traffic(100)
    for slot in range(int((NOW - HOUR) // SLOT) + 1, int(NOW // SLOT) + 1):
        flooded[slot] = 40
    now_too = detect.DetectParams(traffic_now=True)  # off by default: decision 0026
    burst = detect.assess(counted, now_ts=NOW, trigger=TRIGGER, traffic=flooded, params=now_too)
    assert burst.needed == 12 and not burst.hot(TRIGGER, now_too)
    burst = detect.assess(counted, now_ts=NOW, trigger=TRIGGER, traffic=flooded, params=PARAMS)
    assert burst.needed == TRIGGER.min_posts and burst.hot(TRIGGER, PARAMS)


def test_a_post_that_names_the_story_needs_less_of_the_meaning() -> None:
    """Two of the query's words ("Alberta ... flooding") with a z of 2.2 count; one common word
    ("hurricane") with the same z does not."""
    assert relevance.counts(2.2, 1.35, NORMAL)
    assert not relevance.counts(2.2, 0.56, NORMAL)
    assert not relevance.counts(1.5, 1.35, NORMAL)
    assert relevance.counts(3.0, 0.56, NORMAL)
