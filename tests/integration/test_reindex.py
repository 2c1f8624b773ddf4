"""A new model builds a new index beside the live one; the switch happens only when it is whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from indexer.reindex import reindex
from migrations import open_live
from search.embed.base import Embedder
from search.embed.bge_m3 import BgeM3Embedder
from search.errors import IndexNotReady, ModelMismatch
from search.models import Engagement
from search.store.base import Store
from tests.factories import corpus


@pytest.fixture(scope="module")
def other_embedder(tiny_m3_path: Path) -> BgeM3Embedder:
    return BgeM3Embedder(str(tiny_m3_path), model_id="tiny-second-model", device="cpu",
                         batch_size=16, max_length=128)


def test_reindex_copies_every_post_and_switches(catalog: Any, filled_store: Store,
                                                tiny_embedder: Embedder,
                                                other_embedder: BgeM3Embedder) -> None:
    old_name = catalog.live_name()
    filled_store.update_engagement("zh-1", Engagement(likes=77))
    history = filled_store.payloads(["zh-1"], ["history"])["zh-1"]["history"]
    old, new, count = reindex(catalog, other_embedder, batch_size=5)
    assert (old, count) == (old_name, len(corpus()))
    assert catalog.live_name() == new != old
    assert old not in catalog.names()
    store = open_live(catalog, other_embedder.info, create=False)
    assert store.count() == len(corpus())
    assert store.manifest().model.model_id == "tiny-second-model"
    assert store.get(["zh-1"])[0].text == corpus()[8].text
    assert store.payloads(["zh-1"], ["history"])["zh-1"]["history"] == history  # kept as stored
    with pytest.raises(ModelMismatch, match="tiny-second-model"):
        open_live(catalog, tiny_embedder.info, create=False)


def test_reindex_can_keep_the_old_index(catalog: Any, filled_store: Store,
                                        other_embedder: BgeM3Embedder) -> None:
    old, new, _ = reindex(catalog, other_embedder, keep_old=True)
    assert {old, new} <= set(catalog.names())
    with pytest.raises(IndexNotReady, match="refusing to drop the live index"):
        catalog.drop(new)


def test_nothing_to_reindex_is_a_clear_error(catalog: Any, other_embedder: BgeM3Embedder) -> None:
    with pytest.raises(IndexNotReady, match="no live index"):
        reindex(catalog, other_embedder)


def test_the_server_api_follows_a_reindex_without_reopening(
        tiny_embedder: Embedder, other_embedder: BgeM3Embedder) -> None:
    """The API holds the live index through the alias (`ServerCatalog.serving`): a reindex
    run elsewhere (its own catalog, as another process would) switches what it reads and
    writes, and the old collection can be dropped under it."""
    from qdrant_client import QdrantClient

    from search.store.server_catalog import ServerCatalog

    client = QdrantClient(":memory:")
    api_catalog, admin_catalog = ServerCatalog(client), ServerCatalog(client)
    held = open_live(api_catalog, tiny_embedder.info, create=True)
    posts = corpus()
    held.upsert(posts, tiny_embedder.encode_documents([p.text for p in posts]))
    old, new, _ = reindex(admin_catalog, other_embedder, batch_size=5)

    assert old not in admin_catalog.names()  # dropped: only the alias could still answer
    assert held.manifest().model.model_id == "tiny-second-model"
    assert held.count() == len(posts)
    held.update_engagement("zh-1", Engagement(likes=5))
    assert admin_catalog.open(new).get(["zh-1"])[0].likes == 5  # the write reached the new one
    # Vectors of the old model are never written into the new model's index.
    with pytest.raises(ModelMismatch):
        held.upsert(posts[:1], tiny_embedder.encode_documents([posts[0].text]))


class _Counting:
    """The real tiny model, counting the documents it embeds."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.info = inner.info
        self.documents = 0

    def encode_documents(self, texts: list[str]) -> Any:
        self.documents += len(texts)
        return self.inner.encode_documents(texts)

    def encode_queries(self, texts: list[str]) -> Any:
        return self.inner.encode_queries(texts)


def test_a_same_model_rebuild_copies_the_stored_vectors(
        catalog: Any, filled_store: Store, tiny_embedder: Embedder,
        other_embedder: BgeM3Embedder) -> None:
    """A schema step or a clean copy keeps the model: the rebuild reads each post's vectors
    from the old index instead of running the model again; a new model embeds them all."""
    from search.store.payload import point_id

    ids = [point_id(p.id) for p in corpus()]
    before = filled_store.vectors(ids)
    same = _Counting(tiny_embedder)
    reindex(catalog, same, batch_size=5)  # type: ignore[arg-type]
    assert same.documents == 0
    store = open_live(catalog, tiny_embedder.info, create=False)
    after = store.vectors(ids)
    assert set(after) == set(before)
    for pid in ids:
        assert after[pid][1] == before[pid][1]
        assert after[pid][0] == pytest.approx(before[pid][0], abs=1e-6)

    other = _Counting(other_embedder)
    reindex(catalog, other, batch_size=5)  # type: ignore[arg-type]
    assert other.documents == len(corpus())
