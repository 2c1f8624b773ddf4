"""Cursor pages and facet counts on both back ends, with posts arriving between pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from migrations import open_live
from search.contracts import SearchParams, SearchRequest
from search.embed.base import Embedder
from search.errors import FieldError
from search.models import Post, SearchResult
from search.pipeline import SearchPipeline
from search.store.base import Store
from tests.factories import BASE_TIME, corpus
from tests.integration.conftest import make_catalog

QUERY = "Calgary flood evacuation"


def flood_posts(prefix: str, n: int, start: Any, step: timedelta, platform: str = "twitter") -> list[Post]:
    return [Post(id=f"{prefix}-{i:02d}", platform=platform, lang="en", likes=i,
                 text=f"Calgary flood update {i}: evacuation of street {i * 7} ordered",
                 created_at=start + step * i) for i in range(n)]


def index(store: Store, embedder: Embedder, posts: list[Post]) -> None:
    store.upsert(posts, embedder.encode_documents([p.text for p in posts]))
    store.flush()


@pytest.fixture(params=["edge", "server"])
def store(request: pytest.FixtureRequest, tiny_embedder: Embedder,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    catalog = make_catalog(request.param, tmp_path_factory.mktemp("pages"))
    live = open_live(catalog, tiny_embedder.info, create=True)
    index(live, tiny_embedder, corpus() + flood_posts("old", 24, BASE_TIME - timedelta(days=2),
                                                     timedelta(minutes=30)))
    yield live
    catalog.close()


def run(pipeline: SearchPipeline, **fields: Any) -> SearchResult:
    request = msgspec.convert({"query": QUERY, **fields}, SearchRequest)
    return pipeline.search(request, now=BASE_TIME)


def ids(result: SearchResult) -> list[str]:
    return [h.post.id for h in result.hits]


@pytest.mark.parametrize("mode", ["relevance", "trending", "latest"])
def test_cursor_pages_neither_repeat_nor_skip_when_posts_arrive(
        store: Store, tiny_embedder: Embedder, mode: str) -> None:
    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    everything = ids(run(pipeline, mode=mode, limit=100))
    first = run(pipeline, mode=mode, limit=7)
    assert first.next_cursor and ids(first) == ids(run(pipeline, mode=mode, limit=7))
    # New posts about the same thing, newest and liked: they would rank first.
    index(store, tiny_embedder, flood_posts("new", 10, BASE_TIME + timedelta(seconds=1),
                                            timedelta(minutes=1)))
    if mode != "relevance":  # what offsets do, and why cursors exist
        shifted = ids(run(pipeline, mode=mode, limit=7, offset=7))
        assert any(pid.startswith("new-") for pid in shifted), shifted
    seen, cursor = ids(first), first.next_cursor
    while cursor:
        page = run(pipeline, mode=mode, limit=7, cursor=cursor)
        assert page.as_of == first.as_of
        seen += ids(page)
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)), "a post was shown twice"
    assert set(seen) == set(everything), "a post was never shown"
    if mode == "relevance":  # recall order does not depend on the pool: one ordering
        assert seen == everything


def test_a_backfilled_post_above_the_reader_repeats_nothing(store: Store, tiny_embedder: Embedder) -> None:
    pipeline = SearchPipeline(store, tiny_embedder, None, SearchParams(rerank_depth=0))
    before = ids(run(pipeline, limit=100, collapse=False))
    first = run(pipeline, limit=5, collapse=False)
    # An old post (created before page 1's moment) with page 1's best text: it ranks
    # beside it, above where the reader is.
    top = first.hits[0].post
    index(store, tiny_embedder, [msgspec.structs.replace(top, id="backfill",
                                                         created_at=BASE_TIME - timedelta(days=3))])
    now = ids(run(pipeline, limit=5, collapse=False, as_of=BASE_TIME.isoformat()))
    assert "backfill" in now[:2]
    seen, cursor = ids(first), first.next_cursor
    while cursor:
        page = run(pipeline, limit=5, cursor=cursor, collapse=False)
        seen += ids(page)
        cursor = page.next_cursor
    assert len(seen) == len(set(seen))
    assert set(before) <= set(seen)


def test_a_cursor_belongs_to_its_search(store: Store, tiny_embedder: Embedder) -> None:
    pipeline = SearchPipeline(store, tiny_embedder, None)
    first = run(pipeline, limit=3, filters={"platform": ["twitter"]})
    cursor = first.next_cursor
    assert cursor is not None
    # limit may change between pages; the search may not.
    assert run(pipeline, limit=5, cursor=cursor, filters={"platform": ["twitter"]}).offset == 3
    for fields in ({"query": "flood"}, {"mode": "latest"}, {"filters": None}, {"collapse": False},
                   {"as_of": BASE_TIME.isoformat()}):
        with pytest.raises(FieldError) as caught:
            run(pipeline, cursor=cursor, **{"filters": {"platform": ["twitter"]}, **fields})
        assert caught.value.field == "cursor"
        assert "belongs to a different search" in caught.value.problem
    edited = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    for bad, says in ((edited, "damaged or edited"), ("%%%", "not base64url"),
                      ("abc", "damaged or edited")):
        with pytest.raises(FieldError) as caught:
            run(pipeline, cursor=bad, filters={"platform": ["twitter"]})
        assert (caught.value.field, says in caught.value.problem) == ("cursor", True)
    with pytest.raises(FieldError) as caught:
        run(pipeline, cursor=cursor, offset=3, filters={"platform": ["twitter"]})
    assert caught.value.field == "offset"


def test_facets_count_the_results_and_each_list_filter_is_left_out_of_its_own(
        store: Store, tiny_embedder: Embedder) -> None:
    pipeline = SearchPipeline(store, tiny_embedder, None)
    plain = run(pipeline, limit=100, facets=True)
    assert plain.facets is not None
    total = len(plain.hits)
    assert sum(plain.facets.platform.values()) == total == sum(plain.facets.day.values())
    assert sum(plain.facets.lang.values()) == total
    by_platform = {p: sum(h.post.platform == p for h in plain.hits) for p in plain.facets.platform}
    assert plain.facets.platform == by_platform
    assert list(plain.facets.day) == sorted(plain.facets.day)  # days oldest first
    assert plain.facets.day["2024-04-29"] == sum(
        h.post.created_at.date().isoformat() == "2024-04-29" for h in plain.hits)

    weibo = run(pipeline, limit=100, facets=True, filters={"platform": ["weibo"]})
    assert weibo.facets is not None
    assert all(h.post.platform == "weibo" for h in weibo.hits)
    # The platform counts ignore the platform filter (what ticking another box would give) ...
    assert weibo.facets.platform == plain.facets.platform
    # ... the others honour it.
    assert sum(weibo.facets.lang.values()) == len(weibo.hits) == weibo.facets.platform["weibo"]
    assert run(pipeline, limit=5).facets is None
