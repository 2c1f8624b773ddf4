"""Qdrant Edge and the qdrant-client path must give the same answers.

Same posts, same vectors, same queries and filters: the top results must
match by id and order (scores may differ in the last float bits).
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from qdrant_client import QdrantClient

from indexer.run import write_batch
from indexer.validate import to_post
from migrations import open_live
from search.contracts import SearchParams, SearchRequest
from search.embed.base import Embedder
from search.models import SearchFilters
from search.pipeline import SearchPipeline
from search.store.edge_catalog import EdgeCatalog
from search.store.server_catalog import ServerCatalog

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "posts.jsonl"
QUERIES = ["flood evacuation", "explosion injured", "深圳禁摩限电", "Hillary Clinton", "iPhone SE 价格",
           "tornado Oklahoma", "college application essay"]
FILTERS = [None, SearchFilters(platform=["weibo"]), SearchFilters(lang=["en"], min_likes=1),
           SearchFilters(platform=["twitter"], author=["realDonaldTrump"])]


@pytest.fixture(scope="module")
def both(tiny_embedder: Embedder, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    lines = SAMPLE.read_bytes().splitlines()[::6]  # ~780 posts across every source
    posts = [to_post(msgspec.json.decode(line)) for line in lines]
    edge_cat = EdgeCatalog(tmp_path_factory.mktemp("edge"))
    server_cat = ServerCatalog(QdrantClient(":memory:"))
    stores = []
    for cat in (edge_cat, server_cat):
        store = open_live(cat, tiny_embedder.info, create=True)
        for start in range(0, len(posts), 128):
            write_batch(store, tiny_embedder, posts[start:start + 128])
        store.flush()
        stores.append(store)
    yield stores
    edge_cat.close()
    server_cat.close()


def pipelines(both, embedder: Embedder, **knobs: object) -> list[SearchPipeline]:  # type: ignore[no-untyped-def]
    """One pipeline per back end with the same knobs; no reranker, whose scores are the
    same model's on both sides anyway."""
    params = SearchParams(rerank_depth=0, **knobs)  # type: ignore[arg-type]
    return [SearchPipeline(store, embedder, None, params) for store in both]


@pytest.mark.parametrize("fusion", ["rrf", "dbsf"])
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "none" if f is None else msgspec.json.encode(f).decode())
def test_same_top_results(both, tiny_embedder: Embedder, fusion: str,  # type: ignore[no-untyped-def]
                          filters: SearchFilters | None) -> None:
    edge, server = both
    a, b = pipelines(both, tiny_embedder, fusion=fusion, feedback_posts=0)
    assert edge.count(filters) == server.count(filters) > 0
    for query in QUERIES:
        req = SearchRequest(query=query, limit=10, filters=filters)
        ids_a = [h.post.id for h in a.search(req).hits]
        ids_b = [h.post.id for h in b.search(req).hits]
        assert ids_a == ids_b, query


SYNTAX = ['"West Texas"', "flood -Queensland", 'flood "Red Cross"', '"禁摩限电"', "电动车 -深圳",
          'explosion -"West Texas"', "Boston -bombing -#BostonStrong", '"二胎" -政策']


@pytest.mark.parametrize("collapse", [True, False])
def test_same_results_for_phrases_exclusions_and_copies(both, tiny_embedder: Embedder,  # type: ignore[no-untyped-def]
                                                        collapse: bool) -> None:
    a, b = pipelines(both, tiny_embedder, feedback_posts=0)
    for query in SYNTAX:
        req = SearchRequest(query=query, limit=10, collapse=collapse)
        hits_a, hits_b = a.search(req).hits, b.search(req).hits
        assert hits_a, query
        assert [(h.post.id, h.copies, h.duplicate_ids) for h in hits_a] == [
            (h.post.id, h.copies, h.duplicate_ids) for h in hits_b], query


@pytest.mark.parametrize("weights", [(1.0, 0.3), (0.5, 1.0), (0.0, 1.0), (1.0, 0.0)])
def test_same_weighted_rrf(both, tiny_embedder: Embedder,  # type: ignore[no-untyped-def]
                           weights: tuple[float, float]) -> None:
    """Weighted RRF (and a list left out at weight 0) ranks alike on both back ends, ties
    included: tied scores share a rank (`search.fusion`), whatever order a back end
    returned them in."""
    from search.recall import RecallQuery, recall

    edge, server = both
    for query in QUERIES:
        encoded = tiny_embedder.encode_queries([query])
        rq = RecallQuery(dense=encoded.dense[0].tolist(), sparse=encoded.sparse[0], filters=None,
                         fusion="rrf", rrf_k=60, prefetch_limit=50, limit=20, weights=weights)
        fused = [[(p.id, round(h.score, 9)) for h, p in recall(store, rq).fused]
                 for store in (edge, server)]
        assert fused[0] == fused[1], query
        assert len(fused[0]) == 20, query


@pytest.mark.parametrize("mode", ["relevance", "trending", "latest"])
def test_same_cursor_pages_facets_and_highlights(both, tiny_embedder: Embedder,  # type: ignore[no-untyped-def]
                                                 mode: str) -> None:
    from datetime import UTC, datetime

    from search.highlight import highlight_spans

    now = datetime(2026, 1, 1, tzinfo=UTC)  # cursors carry page 1's moment; both get the same
    for query, filters in (("flood evacuation", SearchFilters(platform=["twitter"])), ("深圳禁摩限电", None)):
        walks = []
        # latest walks the matches: with the tiny model's cosines, a threshold lets enough
        # posts match by meaning to fill several pages
        knobs = {"dense_match": 0.8} if mode == "latest" else {}
        for pipeline in pipelines(both, tiny_embedder, feedback_posts=0, **knobs):
            req = SearchRequest(query=query, mode=mode, limit=25, filters=filters, facets=True)  # type: ignore[arg-type]
            result = pipeline.search(req, now=now)
            pages, facets = [result.hits], result.facets
            # Two tiers of pages: the second recalls a longer pool, with longer signal lists.
            while result.next_cursor and len(pages) < 6:
                result = pipeline.search(msgspec.structs.replace(req, cursor=result.next_cursor), now=now)
                pages.append(result.hits)
            walks.append(([[(h.post.id, highlight_spans(h.post.text, result.query)) for h in page]
                           for page in pages], facets))
        assert walks[0][1] == walks[1][1], query  # facets
        for n, (page_a, page_b) in enumerate(zip(walks[0][0], walks[1][0], strict=True)):
            assert page_a == page_b, (query, n)
        assert len(walks[0][0]) > 1, "expected several pages"


def test_same_results_with_feedback(both, tiny_embedder: Embedder) -> None:  # type: ignore[no-untyped-def]
    """With feedback, recall fuses two fused lists; both back ends give the same page."""
    a, b = pipelines(both, tiny_embedder, feedback_posts=10)
    for query in QUERIES:
        req = SearchRequest(query=query, limit=20, explain=True)
        hits_a, hits_b = a.search(req).hits, b.search(req).hits
        assert "feedback" in hits_a[0].explain.fusion, query
        assert [h.post.id for h in hits_a] == [h.post.id for h in hits_b], query


COUNTED = ["flood evacuation", "explosion injured", "深圳禁摩限电", "Hillary Clinton",
           '"West Texas"', "Boston -bombing", "电动车 -深圳"]


@pytest.mark.parametrize("filters", FILTERS[:3], ids=lambda f: "none" if f is None else msgspec.json.encode(f).decode())
def test_same_totals_facets_histograms_and_latest_pages(both, tiny_embedder: Embedder,  # type: ignore[no-untyped-def]
                                                        filters: SearchFilters | None) -> None:
    """Counting over every match (`search.counting`) and `latest` pages are the engine's
    own on each back end (count, facet, order_by, a thresholded search): same numbers,
    same pages. The dense half is on (a threshold for the tiny model's cosines)."""
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    answers = []
    for pipeline in pipelines(both, tiny_embedder, feedback_posts=0, dense_match=0.8):
        per_query = []
        for query in COUNTED:
            req = SearchRequest(query=query, mode="latest", limit=20, filters=filters, facets=True,
                                explain=True)
            result = pipeline.search(req, now=now)
            pages = [[(h.post.id, h.copies, h.explain.match) for h in result.hits]]
            while result.next_cursor and len(pages) < 4:
                result = pipeline.search(msgspec.structs.replace(req, cursor=result.next_cursor),
                                         now=now)
                pages.append([(h.post.id, h.copies, h.explain.match) for h in result.hits])
            per_query.append((query, result.total, result.total_exact, result.match_facets,
                              result.histogram, result.facets, pages))
        answers.append(per_query)
    for a, b in zip(*answers, strict=True):
        assert a == b, a[0]
    if filters is None:  # the comparison means something: several pages, both halves
        assert any(row[1] > 20 for row in answers[0]), "expected a story larger than a page"
        assert any(m == "dense" for row in answers[0] for page in row[6] for _, _, m in page)
