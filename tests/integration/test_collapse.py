"""Copies of one text collapse into one result, on both back ends, and pages stay full."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import msgspec
import pytest

from migrations import open_live
from search.contracts import SearchParams, SearchRequest
from search.dedup import group, signature
from search.embed.base import Embedder
from search.models import Earliest, Hit, Post
from search.pipeline import SearchPipeline
from search.rerank import Reranker
from search.store.base import Store
from tests.factories import BASE_TIME, corpus
from tests.integration.conftest import make_catalog

BRIDGE = "Bridge closed on Highway 1 after the flood, use the detour via Canmore"
COPIES = [
    ("bridge-orig", 3, f"{BRIDGE} http://t.co/aaa111"),
    ("bridge-rt", 2, f"RT @roads511: {BRIDGE} http://t.co/bbb222"),
    ("bridge-cut", 1, f"RT @calgarynews: {BRIDGE[:52]}…"),
]
# A copy-paste campaign: 30 copies of one text, ahead of everything in recall.
CAMPAIGN = "Calgary flood relief: donate now, every dollar helps the families"


def distinct_texts() -> int:
    return len(set(group([signature(p.text) for p in posts()])))


def posts() -> list[Post]:
    out = corpus()
    out += [Post(id=pid, text=text, platform="twitter", lang="en",
                 created_at=BASE_TIME - timedelta(hours=hours)) for pid, hours, text in COPIES]
    out += [Post(id=f"campaign-{i:02d}", text=f"{CAMPAIGN} http://t.co/c{i:04d}", platform="twitter",
                 lang="en", created_at=BASE_TIME - timedelta(minutes=i)) for i in range(30)]
    return out


@pytest.fixture(scope="module", params=["edge", "server"])
def store(request: pytest.FixtureRequest, tiny_embedder: Embedder,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    catalog = make_catalog(request.param, tmp_path_factory.mktemp("collapse"))
    live = open_live(catalog, tiny_embedder.info, create=True)
    items = posts()
    live.upsert(items, tiny_embedder.encode_documents([p.text for p in items]))
    live.flush()
    yield live
    catalog.close()


def search(store: Store, embedder: Embedder, reranker: Reranker | None = None, *,
           depth: int = 0, **fields: object) -> list[Hit]:
    pipeline = SearchPipeline(store, embedder, reranker, SearchParams(rerank_depth=depth))
    request = msgspec.convert({"query": "bridge closed highway flood detour", **fields},
                              SearchRequest)
    return pipeline.search(request, now=BASE_TIME).hits


@pytest.mark.parametrize("mode", ["relevance", "trending", "latest"])
def test_three_copies_are_one_result_naming_the_earliest(store: Store, tiny_embedder: Embedder,
                                                         mode: str) -> None:
    # `latest` lists matches: every word must be in the post, and the cut copy lost "detour"
    query = {"query": "bridge closed highway flood"} if mode == "latest" else {}
    hits = search(store, tiny_embedder, limit=60, mode=mode, **query)
    bridge = [h for h in hits if h.post.id.startswith("bridge-")]
    assert len(bridge) == 1
    hit = bridge[0]
    assert hit.copies == 3
    assert sorted([hit.post.id, *hit.duplicate_ids]) == sorted(pid for pid, _, _ in COPIES)
    assert hit.earliest == Earliest(id="bridge-orig", created_at=BASE_TIME - timedelta(hours=3))
    if mode == "latest":
        assert hit.post.id == "bridge-cut"  # the newest copy leads in `latest`
    assert all(h.copies == 1 and h.earliest is None for h in hits if h is not hit
               and not h.post.id.startswith("campaign-"))


def test_collapse_false_shows_every_copy(store: Store, tiny_embedder: Embedder) -> None:
    hits = search(store, tiny_embedder, limit=60, collapse=False)
    assert {pid for pid, _, _ in COPIES} <= {h.post.id for h in hits}
    assert all(h.copies == 1 and h.duplicate_ids == [] for h in hits)
    assert len(hits) == len(posts())


def test_pages_stay_full_and_distinct_after_collapsing(store: Store, tiny_embedder: Embedder) -> None:
    # A tiny starting pool (depth 0, limit 5) is mostly campaign copies: recall must grow.
    query = "Calgary flood relief donate"
    first = search(store, tiny_embedder, limit=5, query=query)
    second = search(store, tiny_embedder, limit=5, offset=5, query=query)
    whole = search(store, tiny_embedder, limit=10, query=query)
    assert len(first) == len(second) == 5
    assert [h.post.id for h in whole] == [h.post.id for h in first + second]
    keys = [signature(h.post.text).key for h in whole]
    assert len(set(keys)) == len(keys)
    campaign = [h for h in whole if h.post.id.startswith("campaign-")]
    assert len(campaign) == 1 and campaign[0].copies > 1  # counted among the candidates
    everything = search(store, tiny_embedder, limit=100, query=query)  # a pool that holds all
    assert len(everything) == distinct_texts()
    campaign = [h for h in everything if h.post.id.startswith("campaign-")]
    assert campaign[0].copies == 30 and campaign[0].earliest is not None
    assert campaign[0].earliest.id == "campaign-29"


def test_copies_are_reranked_once(store: Store, tiny_embedder: Embedder,
                                  tiny_reranker: Reranker) -> None:
    calls: list[int] = []

    class Counting:
        model_id = tiny_reranker.model_id

        def score(self, query: str, texts: list[str]) -> list[float]:
            calls.append(len(texts))
            return tiny_reranker.score(query, texts)

    hits = search(store, tiny_embedder, Counting(), depth=50, limit=60, collapse=False,
                  query="Calgary flood relief donate")
    assert sum(calls) == distinct_texts() < len(posts())
    campaign = [h for h in hits if h.post.id.startswith("campaign-")]
    assert len({h.explain.rerank_score for h in campaign}) == 1
