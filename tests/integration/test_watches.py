"""Watches on real engines: the percolator on both Qdrant back ends, the pass, restarts.

The tiny model's vectors are random but deterministic: a post whose text is the
query itself sits at cosine 1 from it, far above the watch's calibration, and
holds all its words; the factory corpus is the background.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from migrations import open_live
from search.embed.base import Embedder
from search.models import Post, SearchFilters
from search.store.edge_catalog import EdgeCatalog
from search.watches.db import WatchDB
from search.watches.ledger import Ledger
from search.watches.models import Triggers, WatchPatch, WatchSpec
from search.watches.percolate import Percolator
from search.watches.percolating import PercolatingStore
from search.watches.service import WatchService
from tests.factories import BASE_TIME, TinyLexical, corpus

QUERY = "Calgary flood waters rising downtown"


@pytest.fixture(scope="module")
def embedder(tiny_embedder: Embedder) -> Embedder:
    return TinyLexical(tiny_embedder)  # type: ignore[return-value]


class World:
    """One process's watches over one data folder; `reopen` is a restart."""

    def __init__(self, root: Path, embedder: Embedder, catalog: Any = None) -> None:
        self.root, self.embedder = root, embedder
        self.catalog = catalog if catalog is not None else EdgeCatalog(root / "edge")
        self.db = WatchDB(root / "watches.sqlite")
        inner = open_live(self.catalog, embedder.info, create=True)
        self.percolator = Percolator(self.catalog.watch_index(embedder.info), self.db, embedder)
        self.percolator.sync()
        self.store = PercolatingStore(inner, self.percolator)
        self.service = WatchService(self.db, self.percolator, self.store)

    def ingest(self, posts: list[Post]) -> None:
        self.store.upsert(posts, self.embedder.encode_documents([p.text for p in posts]))

    def close(self) -> None:
        self.percolator.index.close()
        self.db.close()
        self.catalog.close()


def background(hours: int, start: Any) -> list[Post]:
    texts = [p.text for p in corpus() if not p.id.startswith("flood")]
    return [Post(id=f"bg-{h}-{k}", text=texts[(h + k) % len(texts)], platform="twitter",
                 created_at=start + timedelta(hours=h, minutes=10 * k)) for h in range(hours)
            for k in range(3)]


def burst(tag: str, at: Any, n: int = 6) -> list[Post]:
    return [Post(id=f"{tag}-{i}", text=f"{QUERY} {word}", platform="twitter",
                 created_at=at - timedelta(minutes=5 + i))
            for i, word in enumerate(["now", "again", "badly", "tonight", "fast", "still"][:n])]


def test_the_percolator_honours_words_phrases_exclusions_and_filters(
        catalog: Any, embedder: Embedder, tmp_path: Path) -> None:
    world = World(tmp_path, embedder, catalog)
    try:
        world.service.create(WatchSpec(id="calgary", name="c", query="Calgary flood"))
        world.service.create(WatchSpec(id="phrase", name="p", query='"fertilizer plant"'))
        world.service.create(WatchSpec(id="no-fire", name="n", query="Texas explosion -firefighters"))
        world.service.create(WatchSpec(id="reddit", name="r", query="Calgary flood",
                                       filters=SearchFilters(platform=["reddit"])))
        matches = world.percolator.percolate(corpus(), embedder.encode_documents(
            [p.text for p in corpus()]))
        by_watch: dict[str, set[str]] = {}
        for m in matches:
            if m.lexical > 0:
                by_watch.setdefault(m.watch_id, set()).add(m.post_id)
        assert by_watch["calgary"] == {"flood-1", "flood-2", "flood-3"}
        assert by_watch["phrase"] == {"fire-1"}
        assert by_watch["no-fire"] == {"fire-1"}  # fire-2 names the firefighters
        assert by_watch["reddit"] == {"flood-3"}
        assert {m.watch_id for m in matches} <= {"calgary", "phrase", "no-fire", "reddit"}
        stored = world.db.matches("calgary", 0.0, 2e10)
        assert {m.post_id for m in stored if m.lexical > 0} == by_watch["calgary"]
    finally:
        world.close()


def test_a_burst_is_one_alert_and_a_restart_fires_nothing_twice(
        tmp_path: Path, embedder: Embedder) -> None:
    t0 = BASE_TIME - timedelta(hours=60)
    world = World(tmp_path, embedder)
    try:
        # Loose relevance: the tiny model's cosines say little; the words do the matching.
        world.service.create(WatchSpec(id="calgary", name="Calgary", query=QUERY,
                                       triggers=Triggers(relevance="loose")), now=t0)
        world.ingest(background(50, t0))
        first_at = t0 + timedelta(hours=50)
        world.ingest(burst("a", first_at))
        (alert,) = world.service.run_pass(first_at)
        assert alert.watch_id == "calgary" and alert.episode == 1 and alert.trigger == "burst"
        assert 4 <= alert.observed <= 6 and alert.expected == 0.0 and alert.z >= 4
        assert {p.id for p in alert.posts} <= {f"a-{i}" for i in range(6)}
        assert world.service.run_pass(first_at) == []  # the same pass again: nothing new
    finally:
        world.close()

    world = World(tmp_path, embedder)  # a restart
    try:
        later = first_at + timedelta(hours=1)
        world.ingest(burst("b", later))
        assert world.service.run_pass(later) == []  # the burst goes on: updated, not new
        (updated,) = Ledger(world.db).alerts("calgary")
        assert updated.id == alert.id and updated.revision == 2
        quiet_then = later + timedelta(hours=30)
        world.ingest(background(3, quiet_then - timedelta(hours=3)))
        world.ingest(burst("c", quiet_then))
        (again,) = world.service.run_pass(quiet_then)
        assert again.episode == 2 and again.id != alert.id
        assert [a.id for a in Ledger(world.db).alerts()] == [again.id, alert.id]
    finally:
        world.close()


def test_a_takedown_leaves_the_matches(tmp_path: Path, embedder: Embedder) -> None:
    world = World(tmp_path, embedder)
    try:
        world.service.create(WatchSpec(id="calgary", name="c", query=QUERY))
        world.ingest(burst("a", BASE_TIME))
        assert len(world.db.matches("calgary", 0.0, 2e10)) >= 6
        world.store.delete(["a-0"])
        assert "a-0" not in {m.post_id for m in world.db.matches("calgary", 0.0, 2e10)}
    finally:
        world.close()


def test_watches_created_elsewhere_are_followed(tmp_path: Path, embedder: Embedder) -> None:
    """The CLI writes the database only; the percolating process picks the watch up."""
    world = World(tmp_path, embedder)
    try:
        other = WatchService(WatchDB(tmp_path / "watches.sqlite"), None, None)
        other.create(WatchSpec(id="late", name="late", query=QUERY))
        world.ingest(burst("a", BASE_TIME, n=2))
        assert {m.post_id for m in world.db.matches("late", 0.0, 2e10)} == {"a-0", "a-1"}
        other.delete("late")
        world.ingest(burst("b", BASE_TIME, n=2))
        assert world.db.matches("late", 0.0, 2e10) == []
    finally:
        world.close()


def test_one_lease_holder_at_a_time(tmp_path: Path) -> None:
    ledger = Ledger(WatchDB(tmp_path / "w.sqlite"))
    assert ledger.acquire("scheduler:x", "a", 60, now=100.0)
    assert not ledger.acquire("scheduler:x", "b", 60, now=110.0)
    assert ledger.acquire("scheduler:x", "a", 60, now=150.0)  # renewed
    assert ledger.lease_holder("scheduler:x", now=200.0) == "a"
    assert ledger.acquire("scheduler:x", "b", 60, now=211.0)  # expired: taken over
    ledger.release("scheduler:x", "a")  # not the holder: nothing happens
    assert ledger.lease_holder("scheduler:x", now=212.0) == "b"


def test_a_new_watch_starts_with_the_matches_of_its_baseline(
        catalog: Any, embedder: Embedder, tmp_path: Path) -> None:
    world = World(tmp_path, embedder, catalog)
    try:
        world.ingest(corpus())  # posted before the watch existed
        world.service.create(WatchSpec(id="texas", name="t", query="Texas explosion"),
                             now=BASE_TIME)
        found = {m.post_id for m in world.db.matches("texas", 0.0, 2e10) if m.lexical > 0}
        assert found == {"fire-1", "fire-2"}
        # A changed query starts over, with the new query's matches.
        world.service.update("texas", msgspec.convert({"query": "Calgary flooding"}, WatchPatch),
                             now=BASE_TIME)
        found = {m.post_id for m in world.db.matches("texas", 0.0, 2e10) if m.lexical > 0}
        assert found == {"flood-1", "flood-2", "flood-3"}
    finally:
        world.close()


def test_window_vectors_are_the_newest_posts_ids_and_vectors(
        catalog: Any, embedder: Embedder, tmp_path: Path) -> None:
    """What calibration reads each pass, on both back ends alike."""
    store = open_live(catalog, embedder.info, create=True)
    posts = corpus()
    store.upsert(posts, embedder.encode_documents([p.text for p in posts]))
    store.flush()
    read = store.window_vectors(BASE_TIME - timedelta(hours=5), BASE_TIME, 3)
    newest = sorted(posts, key=lambda p: p.created_at, reverse=True)
    assert read.ids == [p.id for p in newest[:3]]
    assert read.dense.shape == (3, embedder.info.dense_dim)
