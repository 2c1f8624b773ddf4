"""Posts tied on one signal fuse the same way however the index came to hold them.

Qdrant lists equal scores in its own internal order, which follows how the
points arrived; fusing by position made one query's answer depend on the order
posts were indexed in (and on the back end). Here the same 60 posts go into two
Edge indexes in opposite orders, and into qdrant-client's local mode: recall
must give one fused list.

Where a tie group runs past a list's limit, which of its posts make the cut is
the back end's choice: that group is left out, and the other signal orders them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from migrations import open_live
from search.contracts import Encoded, ModelInfo
from search.embed.base import Embedder
from search.embed.lexical import LexicalSparseEncoder
from search.models import Post
from search.recall import RecallQuery, recall
from search.store.base import Store
from search.store.edge_catalog import EdgeCatalog
from search.store.server_catalog import ServerCatalog
from tests.factories import BASE_TIME, make_post

PLACES = ["Calgary", "Boulder", "Queensland", "Manila", "Alberta", "Colorado"]
WORDS = ["waters", "damage", "rescue", "warning", "roads", "homes", "river", "rain", "crews", "photos"]


def tied_posts() -> list[Post]:
    """Six-word posts that use "flood" once: every one has the same BM25 score for it."""
    return [make_post(id=f"p{i:02d}", text=f"flood {PLACES[i % 6]} {WORDS[i // 6]} {WORDS[(i + 3) % 10]} "
                                           f"{WORDS[(i + 7) % 10]} today",
                      created_at=BASE_TIME - timedelta(minutes=i))
            for i in range(60)]


def fill(store: Store, embedder: Embedder, posts: list[Post]) -> None:
    lexical = LexicalSparseEncoder()
    texts = [p.text for p in posts]
    for start in range(0, len(posts), 7):  # many small batches, as a live feed arrives
        batch = slice(start, start + 7)
        store.upsert(posts[batch], Encoded(dense=embedder.encode_documents(texts[batch]).dense,
                                           sparse=lexical.encode_documents(texts[batch])))
    store.flush()


@pytest.mark.parametrize("prefetch", [60, 30])
def test_one_fused_list_whatever_the_insertion_order_or_back_end(
        tiny_embedder: Embedder, tmp_path: Path, prefetch: int) -> None:
    info = ModelInfo(model_id="tiny-dense+lexical", dense_dim=tiny_embedder.info.dense_dim,
                     sparse_idf=True)
    posts = tied_posts()
    catalogs = [EdgeCatalog(tmp_path / "forward"), EdgeCatalog(tmp_path / "backward"),
                ServerCatalog(QdrantClient(":memory:"))]
    try:
        stores = [open_live(c, info, create=True) for c in catalogs]
        for store, order in zip(stores, (posts, posts[::-1], posts[::2] + posts[1::2]), strict=True):
            fill(store, tiny_embedder, order)
        query = RecallQuery(
            dense=tiny_embedder.encode_queries(["flood"]).dense[0].tolist(),
            sparse=LexicalSparseEncoder().encode_queries(["flood"])[0],
            filters=None, fusion="rrf", rrf_k=60, prefetch_limit=prefetch, limit=30,
            weights=(1.0, 0.5))
        answers = [recall(store, query) for store in stores]
        sparse_scores = {round(h.score, 6) for h in answers[0].sparse}
        assert len(answers[0].sparse) == prefetch and len(sparse_scores) == 1  # all tied lexically
        fused = [[(post.id, round(hit.score, 9)) for hit, post in a.fused] for a in answers]
        assert fused[0] == fused[1] == fused[2]
        # With the lexical list tied throughout, the dense list alone orders the posts.
        dense_rank = {h.point_id: r for r, h in enumerate(answers[0].dense)}
        ranks = [dense_rank.get(hit.point_id, 10**6) for hit, _ in answers[0].fused]
        assert ranks == sorted(ranks)
    finally:
        for catalog in catalogs:
            catalog.close()
