"""The trends engine on a corpus built by hand: a burst is found, chatter is not,
one story told two ways is one topic (pure: no store, no model, `as_of` passed in)."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np

from search.models import Post
from search.trends import engine, label, size
from search.trends.models import TrendParams
from tests.factories import BASE_TIME, make_post

AS_OF = BASE_TIME
CHATTER = ["good morning everyone, coffee time", "thanks bro lol see you later",
           "watching the game tonight with friends", "new phone who dis",
           "monday again, need more sleep", "happy birthday to my sister"]
STORY_A = "Explosions at the Boston marathon finish line #prayforboston"
STORY_B = "Boston marathon blast: runners injured near the finish"
OTHER = "Earthquake shakes Tokyo, trains stopped"


def build(extra: list[tuple[str, float, int]], noise_per_hour: int = 0) -> engine.Corpus:
    """48 h of steady chatter (2 posts an hour) plus `extra` (text, hours ago, topic axis),
    plus `noise_per_hour` posts an hour that share no words and no direction (background)."""
    rng = np.random.default_rng(3)
    rows: list[tuple[Post, np.ndarray]] = []
    dim = 32
    n = 0
    for hour in range(49):
        for j in range(2):
            text = CHATTER[(hour + j) % len(CHATTER)]
            vec = rng.normal(size=dim)
            rows.append((make_post(id=f"c{n}", text=text, author=f"regular{n % 5}",
                                   created_at=AS_OF - timedelta(hours=hour + 0.3 + 0.3 * j)), vec))
            n += 1
        for j in range(noise_per_hour):
            words = " ".join(f"zq{k}" for k in rng.integers(0, 10**9, size=4))
            rows.append((make_post(id=f"n{n}", text=words, author=f"n{n}", created_at=AS_OF - timedelta(
                hours=hour + (j + 0.5) / noise_per_hour)), rng.normal(size=dim)))
            n += 1
    for text, hours_ago, axis in extra:
        vec = rng.normal(size=dim) * 0.15
        vec[axis] += 1.0
        rows.append((make_post(id=f"s{n}", text=f"{text} {n}", author=f"witness{n}",
                               created_at=AS_OF - timedelta(hours=hours_ago)), vec))
        n += 1
    rows.sort(key=lambda r: r[0].created_at, reverse=True)
    dense = np.asarray([v / np.linalg.norm(v) for _p, v in rows], dtype=np.float32)
    posts = [p for p, _v in rows]
    return engine.Corpus(posts=posts, ts=np.asarray([p.created_at.timestamp() for p in posts]),
                         dense=dense, terms=[label.post_terms(p.text) for p in posts])


# The mechanisms are tested at fixed knobs, not at whatever the shipped defaults are tuned to.
KNOBS: dict[str, object] = {"min_posts": 5, "min_share": 0.0, "span_windows": 1,
                            "story_similarity": 0.7}


def detect(corpus: engine.Corpus, **params: object) -> list:
    return engine.detect(corpus, as_of=AS_OF, window_s=3600, baseline_s=48 * 3600,
                         params=TrendParams(**{**KNOBS, **params}),  # type: ignore[arg-type]
                         limit=10)


def story(text: str, n: int, axis: int, start: float = 0.05, step: float = 0.04) -> list:
    return [(text, start + step * i, axis) for i in range(n)]


def test_steady_chatter_is_not_a_topic() -> None:
    assert detect(build([])) == []


def test_a_burst_is_one_topic_even_when_told_two_ways() -> None:
    corpus = build(story(STORY_A, 12, 0) + story(STORY_B, 12, 0, start=0.07))
    # A strict clustering splits the story by wording; merging must join it again ...
    topics = detect(corpus, cluster_similarity=0.7)
    assert len(topics) == 1
    # ... by their shared words alone, too ...
    assert len(detect(corpus, cluster_similarity=0.7, merge_similarity=0.99,
                      story_similarity=1.0)) == 1
    # ... and it does not when merging is switched off.
    assert len(detect(corpus, cluster_similarity=0.7, merge_similarity=0.99,
                      story_similarity=1.0, word_join_share=1.0)) == 2
    topic = topics[0]
    assert "boston" in topic.label and "marathon" in topic.terms
    assert topic.explain.posts_in_window == 24 and topic.explain.expected == 0
    assert topic.score == topic.explain.z > 3
    assert topic.explain.poisson_tail > 10 and topic.explain.previous_window == 0
    assert len(topic.series) == 49 and topic.series[-1] == 24 and sum(topic.series) == 24
    assert {r.id[0] for r in topic.representatives} == {"s"}
    assert topic.id == engine.topic_id(topic.terms)


def test_two_stories_are_two_topics_ranked_by_burst() -> None:
    topics = detect(build(story(STORY_A, 20, 0) + story(OTHER, 8, 1)))
    assert [("boston" in t.label, "tokyo" in t.label) for t in topics] == [(True, False), (False, True)]
    assert topics[0].score > topics[1].score


def test_a_story_already_usual_in_the_baseline_is_not_news() -> None:
    every_hour = [(OTHER, h + 0.5, 1) for h in range(1, 49) for _ in range(6)]
    assert detect(build(every_hour + story(OTHER, 6, 1))) == []


def test_too_few_posts_are_not_a_topic() -> None:
    assert detect(build(story(STORY_A, 3, 0))) == []


def test_a_thin_story_is_found_over_several_windows() -> None:
    thin = story(OTHER, 9, 1, start=0.1, step=0.33)  # 3 posts an hour for 3 hours
    assert detect(build(thin), min_posts=8) == []
    topics = detect(build(thin), min_posts=8, span_windows=3)
    assert len(topics) == 1 and "tokyo" in topics[0].label
    assert (topics[0].explain.posts_in_span, topics[0].explain.posts_in_window) == (9, 3)
    assert topics[0].explain.span_windows == 3


def test_the_size_needed_follows_the_background_volume() -> None:
    thin = story(OTHER, 9, 1, start=0.1, step=0.33)  # 3 posts an hour for 3 hours
    knobs = {"min_posts": 5, "min_share": 0.1, "span_windows": 3}
    # Over a quiet background the floor decides: 9 posts in 3 h is a topic ...
    topics = detect(build(thin, noise_per_hour=10), **knobs)
    assert len(topics) == 1 and "tokyo" in topics[0].label
    # ... and says what it needed: the 2 + 10 unclaimed posts an hour, 10 % of 3 h of them.
    assert topics[0].explain.min_posts == 5 == max(5, math.ceil(0.1 * 3 * 12))
    # Over a loud one (62 unclaimed posts an hour) the same 9 posts are chatter-sized.
    assert detect(build(thin, noise_per_hour=60), **knobs) == []
    assert detect(build(thin, noise_per_hour=60), **{**knobs, "min_share": 0.0}) != []


def test_flat_chatter_at_a_thin_storys_volume_is_not_a_topic() -> None:
    every_hour = [(OTHER, h + 0.1 + 0.33 * i, 1) for h in range(49) for i in range(3)]
    assert detect(build(every_hour), min_posts=5, min_share=0.1, span_windows=3) == []


def test_the_background_is_measured_since_the_oldest_post_read() -> None:
    """An index that started 3 h ago: its empty earlier windows are not a quiet background."""
    buckets = np.asarray([0] * 30 + [1] * 30 + [2] * 30, dtype=np.int64)
    claimed = np.zeros(len(buckets), dtype=bool)
    params = TrendParams(min_posts=2, min_share=0.1, span_windows=3)
    assert size.min_size(buckets, claimed, known=48, p=params) == 9  # 0.1 * 3 * 30
    # Posts a story claims are not background ...
    claimed[::2] = True
    assert size.min_size(buckets, claimed, known=48, p=params) == 5  # 0.1 * 3 * 15
    # ... and the floor holds when there is none.
    assert size.min_size(buckets, np.ones(len(buckets), dtype=bool), known=48, p=params) == 2


def test_a_story_that_broke_within_the_hour_needs_the_bar_of_one_window() -> None:
    """Over a loud background the span bar is 19 posts (10 % of 3 h of 62 an hour);
    a story with 7 posts in its first hour is as dense as that bar (21 >= 19)."""
    knobs = {"min_posts": 5, "min_share": 0.1, "span_windows": 3}
    broke = story(OTHER, 7, 1, start=0.05, step=0.1)
    topics = detect(build(broke, noise_per_hour=60), **knobs)
    assert len(topics) == 1 and "tokyo" in topics[0].label
    assert topics[0].explain.min_posts == 19 and topics[0].explain.posts_in_span == 7
    # One post fewer is below the rate (18 < 19) ...
    assert detect(build(broke[:6], noise_per_hour=60), **knobs) == []
    # ... and the same 7 posts spread over the span are held to the span's count.
    spread = story(OTHER, 7, 1, start=0.1, step=0.4)
    assert detect(build(spread, noise_per_hour=60), **knobs) == []


def test_large_enough_in_the_span_or_at_its_rate_in_the_newest_window() -> None:
    def counts(*c: float) -> np.ndarray:
        return np.asarray(c, dtype=np.float64)
    assert size.large_enough(counts(10, 0, 0), 30)  # 10 an hour is the bar's rate
    assert not size.large_enough(counts(9, 0, 0), 30)
    assert size.large_enough(counts(5, 10, 15), 30)  # the span's count, though falling
    assert not size.large_enough(counts(9, 9, 9), 30)  # steady, just under the bar
    assert size.large_enough(counts(6), 6) and not size.large_enough(counts(5), 6)


def test_each_post_is_one_representative_once() -> None:
    """A story whose posts sit in the span's older windows (buckets 1 and 2): those posts
    are both "recent" (in the span) and earlier than the window; each is listed once."""
    thin = story(OTHER, 9, 1, start=0.1, step=0.33)  # 3 posts an hour for 3 hours
    topics = detect(build(thin), min_posts=8, span_windows=3)
    assert len(topics) == 1
    reps = topics[0].representatives
    ids = [r.id for r in reps]
    assert len(ids) == len(set(ids)) == 9
    assert all(r.copies == 1 + len(r.duplicate_ids) for r in reps)
    assert [r for r in reps if r.id in r.duplicate_ids] == []
    listed = ids + [d for r in reps for d in r.duplicate_ids]
    assert len(listed) == len(set(listed))
