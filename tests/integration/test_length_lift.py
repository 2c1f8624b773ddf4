"""A long post's lexical hit weighs what the words it holds are worth, on both back ends.

BM25's length normalisation divides a long post's score several-fold; the per-hit
lexical weight (`search.fusion_weights`) reads the score as "how much of the query
the post holds", so recall first lifts each hit to the encoder's nominal length,
from the sparse vector the index stored (`length_lift`). Here the lift is read back
through each store and applied by `recall` exactly as computed from the encoder.
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
from search.fusion_weights import length_lift
from search.recall import RecallQuery, recall
from search.store.edge_catalog import EdgeCatalog
from search.store.server_catalog import ServerCatalog
from tests.factories import BASE_TIME, make_post

FILLER = [f"word{i}" for i in range(120)]


@pytest.mark.parametrize("kind", ["edge", "server"])
def test_recall_lifts_long_posts_to_the_nominal_length(
        kind: str, tiny_embedder: Embedder, tmp_path: Path) -> None:
    texts = {
        "long": " ".join(["glacier"] + FILLER[:99]),      # 100 tokens
        "nominal": " ".join(["glacier"] + FILLER[:19]),   # 20 tokens, the encoder's avg_len
        "short": "glacier melt",
    } | {f"other{i}": " ".join(FILLER[i:i + 10]) for i in range(8)}
    posts = [make_post(id=pid, text=text, created_at=BASE_TIME - timedelta(minutes=n))
             for n, (pid, text) in enumerate(texts.items())]
    lexical = LexicalSparseEncoder()
    info = ModelInfo(model_id="tiny-dense+lexical", dense_dim=tiny_embedder.info.dense_dim,
                     sparse_idf=True)
    catalog = (EdgeCatalog(tmp_path / "edge") if kind == "edge"
               else ServerCatalog(QdrantClient(":memory:"), alias="posts"))
    try:
        store = open_live(catalog, info, create=True)
        store.upsert(posts, Encoded(dense=tiny_embedder.encode_documents(list(texts.values())).dense,
                                    sparse=lexical.encode_documents(list(texts.values()))))
        store.flush()
        base = dict(dense=tiny_embedder.encode_queries(["glacier"]).dense[0].tolist(),
                    sparse=lexical.encode_queries(["glacier"])[0], filters=None, fusion="rrf",
                    rrf_k=20, prefetch_limit=50, limit=50, weights=(0.0, 1.0),
                    lexical_scale=22.0, lexical_power=2.0)
        plain = recall(store, RecallQuery(**base))
        lifted = recall(store, RecallQuery(**base, lexical_lift=2.0))  # the shipped power
    finally:
        catalog.close()

    by_post = {post.id: hit.point_id for hit, post in lifted.fused}
    sparse = {h.point_id: h.score for h in lifted.sparse}
    lift = length_lift(dict(zip(texts, lexical.encode_documents(list(texts.values())),
                                strict=True)), 2.0)
    assert lift["long"] > 2.5 and lift["nominal"] == pytest.approx(1.0) and lift["short"] == 1.0

    def share(post_id: str, lift_of: float, rank: int) -> float:
        w = min(1.0, sparse[by_post[post_id]] * lift_of / 22.0) ** 2
        return 1.0 / (rank / w + 20 - 1)

    # Lexical list: short (best BM25), nominal, long; dense weighs 0, so each fused score
    # is the post's lexical share alone.
    order = [h.point_id for h in lifted.sparse]
    assert order == [by_post["short"], by_post["nominal"], by_post["long"]]
    got = {post.id: hit.score for hit, post in lifted.fused}
    before = {post.id: hit.score for hit, post in plain.fused}
    assert got["long"] == pytest.approx(share("long", lift["long"], 3))
    assert before["long"] == pytest.approx(share("long", 1.0, 3))
    assert got["long"] > 5 * before["long"]
    for pid in ("short", "nominal"):  # at or under the nominal length: unchanged
        assert got[pid] == pytest.approx(before[pid])
