"""Each stage and mode through the real pipeline: Qdrant Edge, tiny BGE-M3, tiny reranker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from search.contracts import SearchParams, SearchRequest
from migrations import open_live
from search.embed.base import Embedder
from search.forecast import HORIZON_S
from search.pipeline import SearchPipeline
from search.rerank import Reranker
from search.store.base import Store
from tests.factories import BASE_TIME, corpus, make_post

NOW = BASE_TIME


def request(**fields: object) -> SearchRequest:
    return msgspec.convert({"query": "Calgary flood", "limit": 20, **fields}, SearchRequest)


@pytest.fixture
def pipeline(filled_store: Store, tiny_embedder: Embedder, tiny_reranker: Reranker) -> SearchPipeline:
    return SearchPipeline(filled_store, tiny_embedder, tiny_reranker, SearchParams(rerank_depth=8))


def test_relevance_orders_the_reranked_head_by_cross_encoder_score(pipeline: SearchPipeline) -> None:
    result = pipeline.search(request(), now=NOW)
    head = [h for h in result.hits if h.explain.rerank_score is not None]
    tail = [h for h in result.hits if h.explain.rerank_score is None]
    assert len(head) == 8 and len(tail) == len(corpus()) - 8
    assert [h.score for h in head] == sorted((h.score for h in head), reverse=True)
    assert [h.explain.rerank_rank for h in head] == list(range(1, 9))
    assert min(h.score for h in head) > max(h.score for h in tail)
    assert [h.explain.fused_rank for h in tail] == sorted(h.explain.fused_rank for h in tail)


def test_explain_names_every_stage_and_model(pipeline: SearchPipeline, tiny_embedder: Embedder,
                                             tiny_reranker: Reranker) -> None:
    hit = pipeline.search(request(mode="trending", explain=True), now=NOW).hits[0]
    e = hit.explain
    assert e.models == {"embedder": tiny_embedder.info.model_id, "reranker": tiny_reranker.model_id}
    assert "rrf(k=60, dense " in e.fusion and "feedback from the top 10" in e.fusion and e.fused_rank >= 1 and e.fused_score > 0
    assert e.dense_rank is not None or e.sparse_rank is not None
    assert e.rerank_score is not None and "reranked by" in e.rerank_note
    assert e.decay is not None and e.engagement is not None
    assert e.final == pytest.approx(e.rerank_score * e.decay * e.engagement)
    assert hit.score == pytest.approx(e.final, abs=1e-6)


def test_signal_ranks_come_with_every_recall_and_explain_changes_no_order(
        pipeline: SearchPipeline) -> None:
    """Fusion needs each signal's list anyway (`search.fusion`): its ranks cost nothing."""
    plain = pipeline.search(request(), now=NOW).hits
    explained = pipeline.search(request(explain=True), now=NOW).hits
    assert all(h.explain.dense_rank is not None for h in plain)  # 14 posts, prefetch 200
    assert [h.explain.dense_rank for h in plain] == [h.explain.dense_rank for h in explained]
    assert [h.post.id for h in plain] == [h.post.id for h in explained]


def test_trending_prefers_new_posts_when_relevance_is_equal(filled_store: Store,
                                                            tiny_embedder: Embedder) -> None:
    # No reranker: relevance is the fused score, so decay decides between near-equals (the
    # gate, which puts posts that match the query first, is off: it is tested on its own).
    flat = SearchPipeline(filled_store, tiny_embedder, None,
                          SearchParams(half_life_hours=0.5, engagement_weight=0.0,
                                       trending_gate=False))
    hits = flat.search(request(mode="trending"), now=NOW).hits
    decays = [h.explain.decay for h in hits]
    assert decays[0] == max(decays)
    assert all(h.explain.rerank_note.startswith("no reranker") for h in hits)


def test_latest_is_newest_first(pipeline: SearchPipeline) -> None:
    hits = pipeline.search(request(mode="latest"), now=NOW).hits
    times = [h.post.created_at for h in hits]
    assert times == sorted(times, reverse=True) and len(times) > 1


def test_as_of_hides_posts_from_its_future(pipeline: SearchPipeline) -> None:
    as_of = BASE_TIME - timedelta(hours=10)
    result = pipeline.search(request(as_of=as_of.isoformat()), now=NOW)
    assert result.hits and all(h.post.created_at <= as_of for h in result.hits)
    assert result.as_of == as_of


def test_offset_pages_do_not_overlap(pipeline: SearchPipeline) -> None:
    first = pipeline.search(request(limit=5), now=NOW).hits
    second = pipeline.search(request(limit=5, offset=5), now=NOW).hits
    assert len(first) == len(second) == 5
    assert not {h.post.id for h in first} & {h.post.id for h in second}
    whole = pipeline.search(request(limit=10), now=NOW).hits
    assert [h.post.id for h in whole] == [h.post.id for h in first + second]


def test_filters_reach_recall(pipeline: SearchPipeline) -> None:
    hits = pipeline.search(request(filters={"lang": ["zh"]}), now=NOW).hits
    assert {h.post.id for h in hits} == {"zh-1", "zh-2", "zh-3", "zh-4"}


def test_an_exhausted_budget_keeps_recall_order_and_says_so(filled_store: Store,
                                                            tiny_embedder: Embedder,
                                                            tiny_reranker: Reranker) -> None:
    rushed = SearchPipeline(filled_store, tiny_embedder, tiny_reranker,
                            SearchParams(rerank_depth=12, rerank_batch=2, rerank_budget_ms=1e-6))
    hits = rushed.search(request(), now=NOW).hits
    scored = [h for h in hits if h.explain.rerank_score is not None]
    assert len(scored) == 2
    assert "time budget" in hits[0].explain.rerank_note and "2 of 12" in hits[0].explain.rerank_note


def test_timings_cover_every_stage(pipeline: SearchPipeline) -> None:
    result = pipeline.search(request(mode="trending"), now=NOW)
    assert set(result.timings_ms) == {"embed", "match", "recall", "rerank", "boost", "count"}
    latest = pipeline.search(request(mode="latest", facets=True), now=NOW)
    # With facets the total comes from the facets' own pass: no separate count.
    assert set(latest.timings_ms) == {"embed", "match", "latest", "facets"}


def test_trending_recalls_posts_within_the_forecast_horizon(catalog: Any,
                                                             tiny_embedder: Embedder) -> None:
    """A post past the forecast horizon has drawn its day's engagement: it is not a
    trending candidate while fresher posts on the topic exist (decision 0028)."""
    assert SearchParams().trending_horizon_hours * 3600 == HORIZON_S
    store: Store = open_live(catalog, tiny_embedder.info, create=True)
    posts = [make_post(id="day-old", text="Calgary flood: the river is over the bank",
                       created_at=NOW - timedelta(hours=30), comments=5000),
             make_post(id="fresh", text="Calgary flood warning downtown",
                       created_at=NOW - timedelta(hours=2), comments=1)]
    store.upsert(posts, tiny_embedder.encode_documents([p.text for p in posts]))
    store.flush()
    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams())
    assert [h.post.id for h in pipeline.search(request(mode="trending"), now=NOW).hits] == ["fresh"]
    # Nothing within the day: what there is, rather than nothing.
    later = pipeline.search(request(mode="trending"), now=NOW + timedelta(hours=30)).hits
    assert {h.post.id for h in later} == {"day-old", "fresh"}


def test_trending_ranks_a_quiet_match_above_a_busy_post_off_the_topic(
        catalog: Any, tiny_embedder: Embedder) -> None:
    """Relevance is trending's gate (decision 0028): the post holding every query word
    leads however much busier the one holding half of them is; without the gate it
    would not (engagement weighted up here so that it dominates relevance)."""
    store: Store = open_live(catalog, tiny_embedder.info, create=True)
    posts = [make_post(id="busy", text="Calgary weather is lovely today",
                       created_at=NOW - timedelta(hours=1), likes=10**9, comments=10**6),
             make_post(id="quiet", text="Calgary flood closes the bridges",
                       created_at=NOW - timedelta(hours=3))]
    store.upsert(posts, tiny_embedder.encode_documents([p.text for p in posts]))
    store.flush()
    loud = SearchParams(engagement_weight=5.0)
    ranked = {gate: [h.post.id for h in SearchPipeline(
        store, tiny_embedder, None, msgspec.structs.replace(loud, trending_gate=gate)).search(
        request(mode="trending"), now=NOW).hits] for gate in (True, False)}
    assert ranked == {True: ["quiet", "busy"], False: ["busy", "quiet"]}
