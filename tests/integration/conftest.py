"""Catalogs of both back ends, filled with the factory corpus by the tiny model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient

from migrations import open_live
from search.embed.base import Embedder
from search.store.base import Store
from search.store.edge_catalog import EdgeCatalog
from search.store.server_catalog import ServerCatalog
from tests.factories import corpus


def make_catalog(kind: str, tmp_path: Path) -> Any:
    if kind == "edge":
        return EdgeCatalog(tmp_path / "edge")
    return ServerCatalog(QdrantClient(":memory:"), alias="posts")


@pytest.fixture(params=["edge", "server"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    cat = make_catalog(request.param, tmp_path)
    yield cat
    cat.close()


@pytest.fixture
def filled_store(catalog: Any, tiny_embedder: Embedder) -> Store:
    store: Store = open_live(catalog, tiny_embedder.info, create=True)
    posts = corpus()
    store.upsert(posts, tiny_embedder.encode_documents([p.text for p in posts]))
    store.flush()
    return store
