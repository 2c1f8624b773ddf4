"""Opening an index repairs what a crash left: takedowns still in it, unfinished first runs.

A crash between recording a takedown and deleting its point used to be repaired
only when the API started; `reindex` copied the post into the new index and CLI
search showed it. A kill during the first schema step left an index folder that
no pointer named, forever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indexer.reindex import reindex
from indexer.repair import RepairingCatalog
from indexer.takedowns import Takedowns
from migrations import open_live
from migrations.runner import MIGRATIONS
from search.embed.base import Embedder
from search.store.base import Store
from tests.factories import corpus


def test_an_index_opened_through_the_catalog_loses_recorded_takedowns(
        catalog: Any, filled_store: Store, tiny_embedder: Embedder, tmp_path: Path) -> None:
    takedowns = Takedowns(tmp_path)
    takedowns.add("flood-1", "crash before the delete")  # recorded; the point is still there
    assert filled_store.get(["flood-1"])
    store = open_live(RepairingCatalog(catalog, takedowns), tiny_embedder.info, create=False)
    assert store.get(["flood-1"]) == []
    assert store.count() == len(corpus()) - 1


def test_reindex_does_not_copy_a_post_whose_takedown_was_recorded(
        catalog: Any, filled_store: Store, tiny_embedder: Embedder, tmp_path: Path) -> None:
    takedowns = Takedowns(tmp_path)
    takedowns.add("zh-2")
    wrapped = RepairingCatalog(catalog, takedowns)
    _, _, count = reindex(wrapped, tiny_embedder, batch_size=5)
    assert count == len(corpus()) - 1
    assert open_live(wrapped, tiny_embedder.info, create=False).get(["zh-2"]) == []


def test_a_first_run_killed_in_its_first_schema_step_leaves_no_orphan(
        catalog: Any, tiny_embedder: Embedder) -> None:
    catalog.create("orphan-20240101T000000000000")  # a folder / collection, no manifest
    half = catalog.create("half-20240101T000000000001")
    MIGRATIONS[0].upgrade(half, tiny_embedder.info)  # step one ran, its manifest never written
    store = open_live(catalog, tiny_embedder.info, create=True)
    assert catalog.names() == [catalog.live_name()]
    assert store.count() == 0
