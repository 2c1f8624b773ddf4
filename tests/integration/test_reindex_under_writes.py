"""A reindex inside the serving process loses no write made while it builds (issue 15).

Both back ends (the `catalog` fixture): the live index is held as the API holds it
(`open_live` -> `ServingStore`), writes go through it while `reindex` copies, and
after the switch the new index must hold every one of them: ingests, engagement
patches, takedowns.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from indexer.reindex import reindex
from migrations import open_live
from search.embed.base import Embedder
from search.models import Engagement, Post
from search.store.serving import ServingStore
from tests.factories import BASE_TIME, corpus, make_post


def _fill(catalog: Any, embedder: Embedder) -> ServingStore:
    served: ServingStore = open_live(catalog, embedder.info, create=True)  # type: ignore[assignment]
    posts = corpus()
    served.upsert(posts, embedder.encode_documents([p.text for p in posts]))
    served.flush()
    return served


def _ingest(served: ServingStore, embedder: Embedder, posts: list[Post]) -> None:
    # No flush per write: an Edge flush is an fsync (~0.9 s on the shared test disk).
    served.upsert(posts, embedder.encode_documents([p.text for p in posts]))


def test_ingest_patch_and_takedown_during_a_reindex_reach_the_new_index(
        catalog: Any, tiny_embedder: Embedder) -> None:
    served = _fill(catalog, tiny_embedder)
    old_name = catalog.live_name()
    ids = [p.id for p in corpus()]
    seen: dict[str, Any] = {}
    late = make_post(id="late-1", text="Flood barriers go up along the Bow river",
                     created_at=BASE_TIME)

    def write_meanwhile(stage: str, posts: int) -> None:
        if stage == "copy" and "copied" not in seen:
            # After the first batch: one post copied already and one not yet, of each kind.
            new = catalog.open(next(n for n in catalog.names() if n != old_name))
            copied = {p.id for p in new.get(ids)}
            seen["copied"] = copied
            before, after = sorted(copied), sorted(set(ids) - copied)
            seen["patched"] = [before[0], after[0]]
            seen["deleted"] = [before[1], after[1]]
            _ingest(served, tiny_embedder, [late])
            for pid in seen["patched"]:
                served.update_engagement(pid, Engagement(likes=4321, at=BASE_TIME))
            served.delete(seen["deleted"])
        elif stage == "replay" and "again" not in seen:
            seen["again"] = True  # a write during the catch-up pass is caught by the next one
            served.update_engagement("late-1", Engagement(likes=7, at=BASE_TIME + timedelta(hours=1)))

    old, new, copied = reindex(catalog, tiny_embedder, batch_size=5, served=served,
                               pause=threading.Lock(), progress=write_meanwhile)

    assert len(seen["copied"]) == 5 and seen["again"]
    assert catalog.live_name() == new and old == old_name and old not in catalog.names()
    assert served.manifest().name == new  # the held store answers from the new index
    target = catalog.open(new)
    assert target.count() == len(ids) + 1 - 2 == served.count()
    assert [p.likes for p in target.get(seen["patched"])] == [4321, 4321]
    assert target.get(seen["deleted"]) == []
    assert [p.likes for p in target.get(["late-1"])] == [7]
    history = target.payloads(["late-1"], ["history"])["late-1"]["history"]
    assert [snapshot[1] for snapshot in history] == [0, 7]  # [ts, likes, ...], as stored
    assert served.get(["late-1"])[0].text == late.text
    assert served.take_changes() == ([], {})  # closed with the rebuild: nothing more is recorded


def test_a_writer_thread_racing_a_reindex_loses_nothing(catalog: Any,
                                                        tiny_embedder: Embedder) -> None:
    """Writes from another thread, under the lock the API's writes hold, during the whole
    rebuild: the new index ends exactly as the writes left the old one."""
    served = _fill(catalog, tiny_embedder)
    write_lock = threading.Lock()
    started = threading.Event()
    written: list[str] = []
    before_switch = []

    def writer() -> None:
        started.wait(60)
        for n in range(30):
            post = make_post(id=f"race-{n}", text=f"river flood update number {n}",
                             created_at=BASE_TIME)
            with write_lock:
                before_switch.append(served.switches == 0)
                _ingest(served, tiny_embedder, [post])
                served.update_engagement(post.id, Engagement(likes=n, at=BASE_TIME))
                if n % 3 == 0:
                    served.delete([post.id])
            written.append(post.id)

    def slow_copy(stage: str, posts: int) -> None:
        started.set()
        if stage == "copy":
            time.sleep(0.1)  # room for the writer between batches

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        _, new, _ = reindex(catalog, tiny_embedder, batch_size=3, served=served, pause=write_lock,
                            progress=slow_copy)
    finally:
        started.set()
        thread.join()
    assert any(before_switch), "no write raced the rebuild"
    kept = [pid for pid in written if int(pid.split("-")[1]) % 3]
    target = catalog.open(new)
    assert target.count() == len(corpus()) + len(kept)
    assert {p.id: p.likes for p in target.get(kept)} == {pid: int(pid.split("-")[1]) for pid in kept}
    # Whatever the writer did after the switch went to the new index through the held store.
    assert served.count() == target.count()


def test_the_old_index_is_dropped_only_after_its_last_read(catalog: Any,
                                                           tiny_embedder: Embedder) -> None:
    served = _fill(catalog, tiny_embedder)
    old_name = catalog.live_name()
    reading = served.scroll(2)  # a read on the old index, still open
    assert next(reading).id
    done = threading.Event()
    result: dict[str, Any] = {}

    def run() -> None:
        result["names"] = reindex(catalog, tiny_embedder, batch_size=7, served=served)
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    # The switch happens, then the rebuild waits for the open read before dropping.
    for _ in range(600):
        if served.switches:
            break
        done.wait(0.05)
    assert served.switches == 1 and not done.wait(0.5)
    assert old_name in catalog.names()
    assert sum(1 for _ in reading) == len(corpus()) - 1  # the old read finishes whole
    thread.join(30)
    assert done.is_set() and old_name not in catalog.names()


def test_an_iterator_dropped_unread_holds_no_read(catalog: Any, tiny_embedder: Embedder) -> None:
    """A scroll made and dropped before its first item (or closed) ends its read: else the
    old index's read count never reaches 0 and a reindex keeps it for good."""
    served = _fill(catalog, tiny_embedder)
    unread = served.scroll(2)
    closed = served.scroll(2)
    assert next(closed).id
    closed.close()  # type: ignore[attr-defined]
    del unread
    retired = served.switch(served.current)
    assert served.drain(retired, timeout_s=1.0)


def test_a_kept_old_index_stays_whole_and_is_let_go(catalog: Any, tiny_embedder: Embedder) -> None:
    """`keep_old`: the old index stays (every post in it), the serving process answers from
    the new one, and it no longer holds the old one open (Edge: its shard is closed)."""
    served = _fill(catalog, tiny_embedder)
    old_name, new_name, _ = reindex(catalog, tiny_embedder, batch_size=7, served=served,
                                    keep_old=True)
    assert {old_name, new_name} <= set(catalog.names()) and catalog.live_name() == new_name
    assert served.count() == len(corpus())
    if hasattr(catalog, "_open"):  # Edge: the process let go of the kept shard
        assert old_name not in catalog._open
    assert catalog.open(old_name).count() == len(corpus())  # reopened whole


def test_engagement_writes_are_journaled_as_payload_only(catalog: Any,
                                                         tiny_embedder: Embedder) -> None:
    """An engagement write during a rebuild is replayed by copying the keys it set, not by
    re-embedding the post (a bulk patch of thousands must not hold the write lock long);
    a post also rewritten is rewritten whole."""
    from search.engagement import apply_updates

    served = _fill(catalog, tiny_embedder)
    first, second = (p.id for p in corpus()[:2])
    served.open_journal()
    apply_updates(served, [(first, Engagement(likes=7)), (second, Engagement(likes=9))],
                  time.time())
    _ingest(served, tiny_embedder, [make_post(id=second, text="rewritten in full")])
    rewrite, payload = served.take_changes()
    assert rewrite == [second]
    assert set(payload) == {first} and {"likes", "history"} <= payload[first]
    served.close_journal()


def test_a_failed_switch_hook_leaves_the_old_index_live(catalog: Any,
                                                      tiny_embedder: Embedder) -> None:
    """`on_switch` (a model change puts the new models in place there) failing undoes the
    switch: the old index is live and served again, the new one is dropped."""
    served = _fill(catalog, tiny_embedder)
    old_name = catalog.live_name()

    def fail() -> None:
        raise RuntimeError("the swap failed")

    with pytest.raises(RuntimeError, match="the swap failed"):
        reindex(catalog, tiny_embedder, batch_size=7, served=served, on_switch=fail)
    assert catalog.live_name() == old_name and catalog.names() == [old_name]
    assert served.manifest().name == old_name and served.count() == len(corpus())
    served.update_engagement(corpus()[0].id, Engagement(likes=5, at=BASE_TIME))
    assert catalog.open(old_name).get([corpus()[0].id])[0].likes == 5
