"""Engagement history, matured posts and lexical neighbours: the same on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from qdrant_client import QdrantClient

from migrations import open_live
from search.embed.base import Embedder
from search.engagement import apply_updates
from search.models import Engagement, Post
from search.store.edge_catalog import EdgeCatalog
from search.store.server_catalog import ServerCatalog

CREATED = datetime(2024, 5, 1, tzinfo=UTC)
TEXTS = ["flood waters rising in the valley", "flood warning for the valley tonight",
         "new phone released today", "hail storm downtown", "valley flood evacuation ordered"]


def test_history_matured_and_neighbours_agree(tiny_embedder: Embedder,
                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    posts = [Post(id=f"p{i}", text=t, platform="reddit", created_at=CREATED + timedelta(minutes=i))
             for i, t in enumerate(TEXTS)]
    answers = []
    for catalog in (EdgeCatalog(tmp_path_factory.mktemp("edge")),
                    ServerCatalog(QdrantClient(":memory:"))):
        store = open_live(catalog, tiny_embedder.info, create=True)
        # Stamped at `created_at` (clamped per post), not the wall clock: both runs alike.
        store.upsert(posts, tiny_embedder.encode_documents(TEXTS), observed_at=CREATED.timestamp())
        for hours, n in ((1, 3), (24, 9), (30, 12)):
            at = CREATED + timedelta(hours=hours)
            updates = [(p.id, Engagement(comments=n + i, at=at)) for i, p in enumerate(posts[:4])]
            assert apply_updates(store, updates, at.timestamp() + 600) == []
        store.upsert(posts[:1], tiny_embedder.encode_documents([posts[0].text]),
                     observed_at=(CREATED + timedelta(hours=40)).timestamp())
        store.flush()
        history = store.payloads([p.id for p in posts], ["history", "history_age"])
        matured = sorted(str(m["id"]) for m in store.matured(0.0, 86_400.0))
        sparse = tiny_embedder.encode_documents(["valley flood"]).sparse[0]
        near = [pid for pid, _ in store.neighbours(sparse, "reddit", 86_400.0, 3)]
        answers.append((history, matured, sorted(near)))
        catalog.close()
    assert answers[0] == answers[1]
    history, matured, near = answers[0]
    assert matured == ["p0", "p1", "p2", "p3"]  # p4 has no counts past its ingest
    assert len(history["p0"]["history"]) == 5  # ingest, 1 h, 24 h, 30 h, re-ingest at 40 h
    assert history["p0"]["history_age"] == 40 * 3600
    assert set(near) <= set(matured)
