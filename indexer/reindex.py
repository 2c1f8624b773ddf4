"""Rebuild the live index beside it, then switch, losing no write made meanwhile.

The posts come from the live index itself (payloads hold every post field,
and their engagement history is copied as stored), so no source files are needed.
Searches keep hitting the old index until `Catalog.activate` swaps the pointer
(Edge) or alias (server) in one step.

Run inside the serving process (`served`, the process's `ServingStore`), the API
keeps accepting writes during the build. They land in the old index and the
store journals their post ids; the rebuild then replays those ids, reading each
post's state from the old index *now* (present: copied with its history, its vectors
read from the old index when the model is the same, else re-embedded; absent: deleted,
so a takedown stays down). Reading the state rather
than the write makes a replay idempotent and order-free. Passes repeat while
writes keep coming; the last one runs under `pause` (the API's write lock), so
no write falls between it and the switch. Then the serving store moves to the
new index, and the old one is dropped once its last in-flight read ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from typing import Any

from indexer.run import write_batch
from indexer.upkeep import build_index
from migrations import migrate
from search.contracts import Encoded
from search.embed.base import Embedder
from search.errors import IndexNotReady
from search.history import HISTORY_FIELDS
from search.log import event, log
from search.models import Post
from search.store.base import Store, new_index_name, stored_encoded
from search.store.payload import point_id

__all__ = ["reindex"]

# Catch-up passes before the final one under the write lock: each pass replays what
# arrived during the previous one, until a pass is at most one batch (so the locked
# pass is about that long), or this many passes (writes outpacing the replay).
MAX_CATCH_UP_PASSES = 20


Copy = Callable[[Sequence[Post]], None]


def _copy(old: Store, new: Store, embedder: Embedder, reuse: bool,
          posts: Sequence[Post]) -> None:
    """Write `posts` into `new` as `old` holds them; `reuse`: the same model built `old`."""
    stored = _stored_vectors(old, posts) if reuse else None
    if stored is None:
        write_batch(new, embedder, posts)
    else:
        new.upsert(posts, stored)
    # Engagement history is not a post field: carried over as stored, not restarted.
    held = old.payloads([p.id for p in posts], list(HISTORY_FIELDS))
    new.set_payload({pid: fields for pid, fields in held.items() if fields.get("history")})


def _same_model(old: Store, embedder: Embedder) -> bool:
    """Whether the old index's vectors are what `embedder` would write: the model id names
    the dense weights and the sparse scheme together (BM25 settings and tokeniser
    included), so equal ids mean interchangeable vectors."""
    try:
        return old.manifest().model.model_id == embedder.info.model_id
    except IndexNotReady:
        return False


def _stored_vectors(old: Store, posts: Sequence[Post]) -> Encoded | None:
    """The posts' vectors as the old index holds them, or None if any is missing (the batch
    is then embedded). Why: a same-model rebuild (a schema step, a new layout, a clean copy)
    need not run the model again; e5 embeds ~70 posts/s here, a read of stored vectors is
    thousands a second."""
    ids = [point_id(p.id) for p in posts]
    found, encoded = stored_encoded(old, ids)
    return encoded if len(found) == len(ids) else None


def _replay(old: Store, new: Store, copy: Copy,
            changes: tuple[Sequence[str], Mapping[str, set[str]]], batch_size: int) -> int:
    """Bring the changed posts in `new` to their state in `old` now; how many were replayed.

    Posts rewritten (ingested, deleted) are re-read whole and re-embedded; posts whose
    payload alone was set (engagement) get those keys copied, their text unchanged: a
    bulk engagement patch of thousands of posts must not re-embed them under the lock.
    """
    post_ids, payload_only = changes
    by_keys: dict[tuple[str, ...], list[str]] = {}
    for pid, keys in payload_only.items():
        by_keys.setdefault(tuple(sorted(keys)), []).append(pid)
    for keys, ids in by_keys.items():
        held = old.payloads(ids, list(keys))
        present = new.payloads(list(held), [])  # a post the copy has not reached reads it whole
        if present:
            new.set_payload({pid: held[pid] for pid in present})
    for start in range(0, len(post_ids), batch_size):
        chunk = post_ids[start:start + batch_size]
        found = old.get(chunk)
        if found:
            copy(found)
        gone = sorted(set(chunk) - {p.id for p in found})
        if gone:
            new.delete(gone)
    return len(post_ids) + len(payload_only)


def reindex(catalog: Any, embedder: Embedder, *, batch_size: int = 64, keep_old: bool = False,
            served: Any = None, pause: AbstractContextManager[Any] | None = None,
            progress: Callable[[str, int], None] | None = None,
            on_switch: Callable[[], None] | None = None) -> tuple[str, str, int]:
    """Build, catch up, switch, drop; returns (old name, new name, posts copied).

    `served` is the running process's `ServingStore` (None for a standalone run:
    nothing else writes then); `pause` blocks the process's writes for the last
    pass and the switch; `progress(stage, posts)` is told each batch. `on_switch`
    runs inside `pause` right after the serving store moved: a model change puts
    the process's new models in place there (`server.switching`); if it fails, the
    old index is live and served again.
    """
    old_name = catalog.live_name()
    if old_name is None:
        raise IndexNotReady("nothing to reindex: no live index (run `trendsearch index` first)")
    old = catalog.open(old_name)
    new_name = new_index_name(embedder.info, datetime.now(UTC))
    new = catalog.create(new_name)
    tell = progress or (lambda stage, n: None)
    if served is not None:
        served.open_journal()
    try:
        migrate(new, embedder.info, new_name)
        copy = partial(_copy, old, new, embedder, _same_model(old, embedder))
        count = 0
        with event("reindex", source=old_name, target=new_name) as fields:
            posts = old.scroll(batch_size)
            while batch := list(islice(posts, batch_size)):
                copy(batch)
                count += len(batch)
                tell("copy", count)
            fields["posts"] = count
            replayed = _catch_up(old, new, copy, served, batch_size, tell)
            build_index(new, reason="reindex")  # served from its HNSW index from the first query
            new.flush()  # an Edge flush is an fsync: done before writes wait, not while
            # What arrived during the build and the flush, which can take minutes at scale:
            # replayed now, not in the locked pass.
            replayed += _catch_up(old, new, copy, served, batch_size, tell)
            with pause or nullcontext():
                paused = time.perf_counter()  # writes wait from here to the switch
                if served is not None:
                    replayed += _replay(old, new, copy, served.take_changes(), batch_size)
                    tell("replay", replayed)
                catalog.activate(new_name)
                retired = None
                try:
                    if served is not None:
                        retired = served.switch(catalog.serving(new_name, embedder.info.model_id))
                    if on_switch is not None:
                        on_switch()
                except BaseException:
                    catalog.activate(old_name)  # this process still serves the old one
                    if retired is not None:
                        served.switch(retired.store)
                    raise
                fields["paused_ms"] = round((time.perf_counter() - paused) * 1000, 1)
            fields["replayed"] = replayed
            try:  # the new index is live now: a failure here must not report the job failed
                new.flush()
            except Exception as exc:  # noqa: BLE001 - logged; Qdrant flushes on its own
                log("reindex.flush_failed", index=new_name, error=type(exc).__name__,
                    detail=str(exc)[:300])
            tell("switched", count)
    except BaseException:
        if served is not None:
            served.close_journal()
        if catalog.live_name() != new_name:
            catalog.drop(new_name)  # never live: nobody reads it, and a retry starts afresh
        raise
    if served is not None:
        served.close_journal()
    if not keep_old:
        try:
            _retire(catalog, served, retired, old_name)
        except Exception as exc:  # noqa: BLE001 - the switch is made: the job is done
            log("reindex.old_kept", index=old_name, error=type(exc).__name__,
                detail=str(exc)[:300], reason="dropping it failed after the switch; remove it "
                "by hand (its folder under DATA_DIR/edge/indexes, or its collection)")
    elif served is not None and served.drain(retired):
        # Kept on disk; the serving process no longer reads it, so its shard can close.
        catalog.release(old_name)
    return old_name, new_name, count


def _catch_up(old: Store, new: Store, copy: Copy, served: Any, batch_size: int,
              tell: Callable[[str, int], None]) -> int:
    """Replay the writes made during the copy, pass after pass, without stopping writes."""
    if served is None:
        return 0
    replayed = 0
    for _ in range(MAX_CATCH_UP_PASSES):
        changes = served.take_changes()
        if not changes[0] and not changes[1]:
            break
        replayed += _replay(old, new, copy, changes, batch_size)
        tell("replay", replayed)
        if len(changes[0]) <= batch_size:
            break  # the next pass (or the locked one) holds about what arrived meanwhile
    return replayed


def _retire(catalog: Any, served: Any, retired: Any, old_name: str) -> None:
    """Drop the old index once no call of this process reads it any more."""
    if served is not None and not served.drain(retired):
        log("reindex.old_kept", index=old_name,
            reason="a read on it did not end within 60 s; it is no longer live, remove it "
                   "by hand (its folder under DATA_DIR/edge/indexes, or its collection)")
        return
    catalog.drop(old_name)
