"""Hot topics read the same from Qdrant Edge and from the qdrant-client path.

Trends read the store through one call, `scroll_window` (posts of a span, newest
first, with their stored vectors), then run the same engine: the same window read
back must give the same topics, explanations and representatives, with and without
a query, under filters, and when `max_posts` cuts the read short (the newest posts
must be the ones kept on both).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient

from indexer.run import write_batch
from indexer.validate import to_post
from migrations import open_live
from search.embed.base import Embedder
from search.models import SearchFilters
from search.store.base import Store
from search.store.edge_catalog import EdgeCatalog
from search.store.server_catalog import ServerCatalog
from search.trends.models import TrendParams, TrendsRequest
from search.trends.service import TrendsService
from tests.e2e.test_trends_api import AS_OF, posts


@pytest.fixture(scope="module")
def both(tiny_embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Store]]:
    batch = [to_post(p) for p in posts()]
    catalogs: list[Any] = [EdgeCatalog(tmp_path_factory.mktemp("edge")),
                           ServerCatalog(QdrantClient(":memory:"))]
    stores = []
    for catalog in catalogs:
        store = open_live(catalog, tiny_embedder.info, create=True)
        for start in range(0, len(batch), 64):
            write_batch(store, tiny_embedder, batch[start:start + 64])
        store.flush()
        stores.append(store)
    yield stores
    for catalog in catalogs:
        catalog.close()


@pytest.mark.parametrize("filters", [None, SearchFilters(platform=["twitter"])],
                         ids=["none", "twitter"])
def test_the_same_window_is_read_newest_first(both: list[Store], filters: SearchFilters | None) -> None:
    since, until = AS_OF - timedelta(hours=49), AS_OF
    edge, server = (s.scroll_window(since, until, filters, 1000) for s in both)
    assert by_time(edge) == by_time(server)
    assert len(edge.posts) > 50
    times = [p.created_at for p in edge.posts]
    assert times == sorted(times, reverse=True)
    vectors = {p.id: v for p, v in zip(server.posts, server.dense, strict=True)}
    assert np.allclose(edge.dense, np.stack([vectors[p.id] for p in edge.posts]), atol=1e-5)
    if filters is not None:
        assert {p.platform for p in edge.posts} == {"twitter"}
    cut = [s.scroll_window(since, until, filters, 10) for s in both]
    assert [p.created_at for p in cut[0].posts] == [p.created_at for p in cut[1].posts] == times[:10]
    some = [p.id for p in edge.posts[::3]]
    chosen = [s.scroll_window(since, until, None, 1000, post_ids=some) for s in both]
    assert by_time(chosen[0]) == by_time(chosen[1])
    assert {p.id for p in chosen[0].posts} == set(some)


def by_time(read: Any) -> list[tuple[Any, list[str]]]:
    """Posts per creation time, newest first: the order among equal times is the back
    end's own (Qdrant's `order_by` breaks no ties), so it is compared as a set."""
    groups: dict[Any, list[str]] = {}
    for post in read.posts:
        groups.setdefault(post.created_at, []).append(post.id)
    return [(when, sorted(ids)) for when, ids in groups.items()]


def summary(result: Any) -> list[tuple[Any, ...]]:
    return [(t.label, t.post_count, t.explain.posts_in_window, round(t.explain.z, 4),
             [r.id for r in t.representatives], t.series) for t in result.topics]


@pytest.mark.parametrize("request_", [
    TrendsRequest(as_of=AS_OF),
    TrendsRequest(as_of=AS_OF, filters=SearchFilters(platform=["reddit"])),
    TrendsRequest(as_of=AS_OF, query="Boston marathon explosions"),
], ids=["all", "reddit", "query"])
def test_the_same_topics(both: list[Store], tiny_embedder: Embedder, request_: TrendsRequest) -> None:
    edge, server = (TrendsService(s, tiny_embedder, None).trends(request_) for s in both)
    assert edge.posts_read == server.posts_read and edge.truncated == server.truncated
    assert summary(edge) == summary(server)
    assert edge.topics or request_.filters is not None


def test_the_same_topics_when_the_read_is_cut(both: list[Store], tiny_embedder: Embedder) -> None:
    params = TrendParams(max_posts=100)
    edge, server = (TrendsService(s, tiny_embedder, None, params).trends(TrendsRequest(as_of=AS_OF))
                    for s in both)
    assert edge.truncated and server.truncated and edge.posts_read == server.posts_read == 100
    assert summary(edge) == summary(server)
