"""A topic's size bar follows the background the span itself brings (`background_now`):
a crowd that starts posting on a quiet stream brings chatter clusters with it, and
those are held to what the crowd brings now, not to the quiet days before it.

Pure: hand-built corpora, no store, no model, `as_of` passed in.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from search.models import Post
from search.trends import engine, label, size
from search.trends.models import Topic, TrendParams
from tests.factories import make_post
from tests.unit.test_trends_engine import AS_OF, KNOBS, OTHER, build, story

BANTER = ["lol thanks see you later", "thanks lol love you too", "lol see you tomorrow thanks"]


def with_crowd(corpus: engine.Corpus, per_hour: int, hours: int) -> engine.Corpus:
    """`corpus` plus `per_hour` unrelated posts an hour over its newest `hours` hours:
    no shared words, no shared direction (a crowd's scattered chatter)."""
    rng = np.random.default_rng(11)
    dim = corpus.dense.shape[1]
    rows: list[tuple[Post, np.ndarray]] = list(zip(corpus.posts, corpus.dense))
    for i in range(per_hour * hours):
        words = " ".join(f"zc{k}" for k in rng.integers(0, 10**9, size=4))
        at = AS_OF - timedelta(hours=(i + 0.5) / per_hour)
        vec = rng.normal(size=dim)
        rows.append((make_post(id=f"crowd{i}", text=words, created_at=at),
                     (vec / np.linalg.norm(vec)).astype(np.float32)))
    rows.sort(key=lambda r: r[0].created_at, reverse=True)
    posts = [p for p, _v in rows]
    return engine.Corpus(posts=posts, ts=np.asarray([p.created_at.timestamp() for p in posts]),
                         dense=np.asarray([v for _p, v in rows], dtype=np.float32),
                         terms=[label.post_terms(p.text) for p in posts])


def detect(corpus: engine.Corpus, **knobs: object) -> list[Topic]:
    p = TrendParams(**{**KNOBS, "min_posts": 6, "min_share": 0.2, "span_windows": 3,
                       **knobs})  # type: ignore[arg-type]
    return engine.detect(corpus, as_of=AS_OF, window_s=3600, baseline_s=48 * 3600, params=p,
                         limit=10)


def test_the_bar_counts_the_spans_own_background_when_it_is_louder() -> None:
    # 48 quiet windows (2 unclaimed posts each), then a span of 60 an hour.
    buckets = np.asarray([b for b in range(49) for _ in range(60 if b < 3 else 2)], dtype=np.int64)
    claimed = np.zeros(len(buckets), dtype=bool)
    now = TrendParams(min_posts=6, min_share=0.2, span_windows=3, background_now=True)
    usual = TrendParams(min_posts=6, min_share=0.2, span_windows=3, background_now=False)
    assert size.min_size(buckets, claimed, known=48, p=now) == 36  # 0.2 * 3 * 60
    assert size.min_size(buckets, claimed, known=48, p=usual) == 6  # the median window: 2
    # A quiet span changes nothing: the usual background is the larger.
    quiet = np.asarray([b for b in range(49) for _ in range(2 if b < 3 else 30)], dtype=np.int64)
    assert (size.min_size(quiet, np.zeros(len(quiet), dtype=bool), known=48, p=now)
            == size.min_size(quiet, np.zeros(len(quiet), dtype=bool), known=48, p=usual) == 18)


def test_a_crowds_banter_is_not_a_topic_but_its_story_is() -> None:
    """A quiet stream; for 3 h a crowd posts 60 unrelated posts an hour, 12 of its posts
    are one banter, 45 are one story. Against the quiet past both are topics; against
    what the crowd brings now, only the story is."""
    banter = [(BANTER[i % 3], 0.1 + 0.23 * i, 2) for i in range(12)]
    corpus = with_crowd(build(banter + story(OTHER, 45, 1, step=0.06)), per_hour=60, hours=3)
    before = detect(corpus, background_now=False)
    assert sorted("tokyo" in t.label for t in before) == [False, True]
    after = detect(corpus, background_now=True)
    assert ["tokyo" in t.label for t in after] == [True]
    # 0.2 x 3 h of ~61 unclaimed posts an hour: the crowd and the stream's own chatter.
    assert after[0].explain.min_posts == 37
