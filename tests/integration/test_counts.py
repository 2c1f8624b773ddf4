"""Totals, facets, the histogram and `latest` over every match, on both back ends.

Before issue 18 these counted the ~50-post recall pool: a story of 500 posts
looked 50 big, and a fresh post ranked 51st never led `latest`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import msgspec
import numpy as np
import pytest

from migrations import open_live
from search.contracts import SearchParams, SearchRequest
from search.embed.base import Embedder
from search.matching import required_terms
from search.models import Post, SearchResult
from search.pipeline import SearchPipeline
from search.query import parse_query, post_terms
from search.store.base import Store
from search.store.payload import point_id
from tests.factories import BASE_TIME, corpus
from tests.integration.conftest import make_catalog

QUERY = "Calgary flood"
STORY = 500
WORDS = ["river", "bridge", "rain", "downtown", "shelter", "police", "power", "road", "school"]


def story(n: int) -> list[Post]:
    """`n` posts that all use both query words, one every 5 minutes before BASE_TIME, on
    two platforms, in several wordings (so copies do not fold them together)."""
    return [Post(id=f"story-{i:03d}", platform="twitter" if i % 3 else "reddit", lang="en",
                 text=f"Calgary flood {WORDS[i % 9]} {WORDS[(i // 9) % 9]} report number {i}",
                 created_at=BASE_TIME - timedelta(minutes=5 * (i + 1))) for i in range(n)]


def noise(n: int) -> list[Post]:
    """Posts on other things: none holds both query words."""
    return [Post(id=f"noise-{i:03d}", platform="weibo" if i % 2 else "twitter", lang="en",
                 text=f"Market update {i}: {WORDS[i % 9]} prices and {WORDS[(i + 4) % 9]} news",
                 created_at=BASE_TIME - timedelta(hours=i)) for i in range(n)]


def index(store: Store, embedder: Embedder, posts: list[Post]) -> None:
    for start in range(0, len(posts), 128):
        chunk = posts[start:start + 128]
        store.upsert(chunk, embedder.encode_documents([p.text for p in chunk]))
    store.flush()


@pytest.fixture(scope="module", params=["edge", "server"])
def store(request: pytest.FixtureRequest, tiny_embedder: Embedder,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    catalog = make_catalog(request.param, tmp_path_factory.mktemp("counts"))
    live = open_live(catalog, tiny_embedder.info, create=True)
    index(live, tiny_embedder, corpus() + story(STORY) + noise(60))
    yield live
    catalog.close()


def run(pipeline: SearchPipeline, **fields: Any) -> SearchResult:
    return pipeline.search(msgspec.convert({"query": QUERY, **fields}, SearchRequest),
                           now=BASE_TIME + timedelta(hours=1))


def by_terms(store: Store, query: str) -> set[str]:
    """The ids whose text holds every required key, read back from the store."""
    need = set(required_terms(parse_query(query)))
    return {p.id for p in store.scroll() if need <= set(post_terms(p.text))}


def cosines(store: Store, embedder: Embedder, query: str) -> dict[str, float]:
    """Every post's stored dense vector against the query's, by post id."""
    vector = embedder.encode_queries([query]).dense[0]
    posts = list(store.scroll())
    stored = store.vectors([point_id(p.id) for p in posts])
    return {p.id: float(np.dot(np.asarray(stored[point_id(p.id)][0]), vector)) for p in posts}


def test_a_story_of_500_posts_counts_500(store: Store, tiny_embedder: Embedder) -> None:
    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    result = run(pipeline, facets=True)
    expected = by_terms(store, QUERY)
    assert len(expected) > STORY  # the story and the corpus's Calgary flood posts
    assert (result.total, result.total_exact) == (len(expected), True)
    assert result.total_candidates < 100  # what the old count said
    assert result.match_facets is not None and result.histogram is not None
    assert result.match_facets.platform == {
        k: v for k, v in sorted(((p, sum(1 for post in store.scroll() if post.id in expected
                                         and post.platform == p))
                                 for p in ("reddit", "twitter", "weibo")),
                                key=lambda kv: (-kv[1], kv[0])) if v}
    assert sum(result.match_facets.lang.values()) == result.total
    # 500 posts 5 minutes apart span under 2 days: hourly buckets, every match in one
    assert result.histogram.unit == "hour"
    assert sum(result.histogram.counts) == result.total
    assert result.histogram.start is not None and result.histogram.start.minute == 0


def test_facets_leave_their_own_filter_out_and_filters_narrow_the_total(
        store: Store, tiny_embedder: Embedder) -> None:
    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    plain = run(pipeline, facets=True)
    reddit = run(pipeline, facets=True, filters={"platform": ["reddit"]})
    assert plain.match_facets is not None and reddit.match_facets is not None
    assert reddit.total == plain.match_facets.platform["reddit"] < plain.total
    assert reddit.match_facets.platform == plain.match_facets.platform
    assert sum(reddit.histogram.counts) == reddit.total  # type: ignore[union-attr]
    # A time filter keeps the buckets inside it.
    since = BASE_TIME - timedelta(hours=5)
    recent = run(pipeline, facets=True, filters={"since": since.isoformat()})
    assert recent.total == 60  # 5 hours of a post every 5 minutes
    assert recent.histogram is not None and recent.histogram.start is not None
    assert recent.histogram.start >= since - timedelta(hours=1)


def test_a_fresh_low_relevance_match_leads_latest(store: Store, tiny_embedder: Embedder) -> None:
    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=50))
    # 60 older posts that say just the query: the tiny model's vectors are random, but a
    # text equal to the query is its nearest, so these fill the 50-post recall pool.
    echoes = [Post(id=f"echo-{i:02d}", platform="twitter", lang="en", text=QUERY,
                   created_at=BASE_TIME - timedelta(days=10, minutes=i)) for i in range(60)]
    fresh = Post(id="fresh", platform="twitter", lang="en", created_at=BASE_TIME,
                 text=("Long thread about many things: school board budget, road repairs, the "
                       "power cut, market prices, the weather, and by the way the Calgary flood "
                       "is still on, plus sports results and a recipe for dumplings tonight"))
    index(store, tiny_embedder, [*echoes, fresh])
    try:
        relevance = run(pipeline, limit=50, collapse=False)
        assert "fresh" not in {h.post.id for h in relevance.hits}  # ranks past the first 50
        latest = run(pipeline, mode="latest", limit=10, explain=True)
        assert latest.hits[0].post.id == "fresh"
        assert latest.hits[0].explain.match == "terms"
        times = [h.post.created_at for h in latest.hits]
        assert times == sorted(times, reverse=True)
        assert latest.total == relevance.total
    finally:
        store.delete(["fresh", *(p.id for p in echoes)])


def test_latest_walks_every_match_once(store: Store, tiny_embedder: Embedder) -> None:
    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    first = run(pipeline, mode="latest", limit=100, collapse=False)
    seen, cursor = [h.post.id for h in first.hits], first.next_cursor
    while cursor:
        page = run(pipeline, mode="latest", limit=100, collapse=False, cursor=cursor)
        assert page.offset == len(seen)
        seen += [h.post.id for h in page.hits]
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == first.total
    assert set(seen) == by_terms(store, QUERY)


def test_the_dense_half_adds_posts_close_by_meaning(store: Store, tiny_embedder: Embedder) -> None:
    """With a threshold, posts without the words but close to the query count too: the
    total is the union, computed here from the stored vectors."""
    query = "Calgary flood river"
    cosine = cosines(store, tiny_embedder, query)
    terms = by_terms(store, query)
    outside = sorted((c for pid, c in cosine.items() if pid not in terms), reverse=True)
    threshold = outside[min(9, len(outside) - 1)] - 1e-6  # about ten posts by meaning alone
    dense = {pid for pid, c in cosine.items() if c >= threshold and pid not in terms}
    assert 5 <= len(dense) <= 20
    pipeline = SearchPipeline(store, tiny_embedder, None,
                              SearchParams(rerank_depth=0, dense_match=threshold))
    result = pipeline.search(SearchRequest(query=query, mode="latest", limit=100, explain=True,
                                           collapse=False), now=BASE_TIME + timedelta(hours=1))
    assert (result.total, result.total_exact) == (len(terms | dense), True)
    kinds = {h.post.id: h.explain.match for h in result.hits}
    assert {pid for pid, kind in kinds.items() if kind == "dense"} == dense & set(kinds)
    assert all(kinds[pid] in ("terms", "both") for pid in terms & set(kinds))
    assert all(h.explain.match_threshold == threshold for h in result.hits)


def test_nothing_matches_a_query_of_unknown_words(store: Store, tiny_embedder: Embedder) -> None:
    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    result = run(pipeline, query="zanzibar quokka", facets=True, explain=True)
    assert (result.total, result.total_exact) == (0, True)
    assert result.hits and all(h.explain.match is None for h in result.hits)  # still ranked
    assert result.histogram is not None and result.histogram.counts == []
    latest = run(pipeline, query="zanzibar quokka", mode="latest")
    assert (latest.hits, latest.next_cursor, latest.total) == ([], None, 0)


def test_past_the_sample_size_facets_are_scaled_estimates_and_say_so(
        store: Store, tiny_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `FACET_SAMPLE` matches a half's platform and language come from a sample
    taken evenly along its time line, scaled up and flagged; the total and the
    histogram stay exact (they come from the whole pass)."""
    from search import counting

    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    whole = run(pipeline, facets=True)
    assert whole.match_facets is not None and whole.match_facets.exact
    assert whole.match_facets.sample == 0
    monkeypatch.setattr(counting, "FACET_SAMPLE", 60)
    sampled = run(pipeline, facets=True)
    facets = sampled.match_facets
    assert facets is not None and sampled.histogram is not None
    assert (facets.exact, sampled.total, sampled.total_exact) == (False, whole.total, True)
    assert 60 <= facets.sample <= 120  # one sample per half past the size
    assert sum(facets.platform.values()) == whole.total
    for platform, n in whole.match_facets.platform.items():
        assert abs(facets.platform.get(platform, 0) - n) / whole.total < 0.1
    assert (sampled.histogram, sampled.histogram.exact) == (whole.histogram, True)


def test_past_the_pass_limit_the_histogram_is_scaled_too(
        store: Store, tiny_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    from search import counting

    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    whole = run(pipeline, facets=True)
    monkeypatch.setattr(counting, "PASS_LIMIT", 100)
    monkeypatch.setattr(counting, "FACET_SAMPLE", 100)
    sampled = run(pipeline, facets=True)
    hist = sampled.histogram
    assert hist is not None and whole.histogram is not None
    assert (sampled.total, sampled.total_exact, hist.exact) == (whole.total, True, False)
    assert sum(hist.counts) == whole.total and hist.unit == whole.histogram.unit
    assert sampled.match_facets is not None and not sampled.match_facets.exact


def test_the_counting_reads_give_times_newest_first_and_ids_in_point_id_order(
        store: Store) -> None:
    """What the pass and the sample rest on: `match_times` reads each match's `created_ts`
    from the index, newest first; `match_ids` gives the first point ids in id order (a
    uniform sample, since point ids are hashes of post ids)."""
    from search.contracts import MatchFilter

    match = MatchFilter(filters=None, require=tuple(required_terms(parse_query(QUERY))))
    expected = by_terms(store, QUERY)
    posts = {p.id: p for p in store.scroll() if p.id in expected}
    times = store.match_times(match, len(expected) + 5)
    assert sorted(pid for pid, _ in times) == sorted(point_id(p) for p in expected)
    stamps = [ts for _, ts in times]
    assert stamps == sorted(stamps, reverse=True)
    by_point = {point_id(p.id): p.created_at.timestamp() for p in posts.values()}
    assert all(ts == by_point[pid] for pid, ts in times)
    first = store.match_ids(match, 50)
    assert first == sorted(by_point)[:50]
