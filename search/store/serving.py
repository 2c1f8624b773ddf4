"""The live index as a serving process holds it: switchable in one step, with a journal.

Why a wrapper: everything in the process (the pipeline, the watches' percolating
store, the forecaster, the index upkeep) holds one store object, built once at
start-up. A reindex run *inside* the process (`POST /v1/admin/reindex`) must move
all of them to the new index at once, without a restart, and must not close the
old Edge shard under a read that is still running on it. So:

- `switch(new)` replaces the target in one assignment; calls that began before it
  finish on the old one, calls after it go to the new one.
- every call is counted against the target it started on; `drain(old)` waits for
  the old target's last call (a `scroll` or `matured` iterator counts until it is
  exhausted or closed), and only then may the catalog close and drop it.
- while a rebuild is open (`open_journal`), every write names the post ids it
  touched (ingest, engagement, payload, delete). The rebuild replays those ids
  from the live index before the switch (`indexer.reindex`). The journal is in
  memory on purpose: the rebuild runs in this process and dies with it, and an
  abandoned rebuild's index is never switched to, so nothing durable is needed.

On a Qdrant server the target is the alias-bound `ServerStore` (the alias moves,
not this object); `switch` then counts a new generation so `drain` still waits
for the calls begun before the alias moved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from search.contracts import Encoded
from search.history import COUNTS, HISTORY_FIELDS
from search.models import Engagement, Post

__all__ = ["ServingStore"]

class _HeldIterator:
    """An iterator over a store's items that counts as a read until it ends.

    Not a generator: a generator closed (or collected) before its first `next`
    never runs its `finally`, so an iterator made and dropped unread would hold
    its index's read count forever and a reindex could never drop that index.
    """

    def __init__(self, items: Iterator[Any], leave: Callable[[], None]) -> None:
        self._items = items
        self._leave: Callable[[], None] | None = leave

    def __iter__(self) -> _HeldIterator:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._items)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        leave, self._leave = self._leave, None
        if leave is not None:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()
            leave()

    def __del__(self) -> None:
        self.close()


class _Target:
    """One store and the calls in flight on it."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.calls = 0


class ServingStore:
    """The live index of a serving process (see the module's docstring)."""

    def __init__(self, store: Any) -> None:
        self._target = _Target(store)
        self._cond = threading.Condition()
        # Post id -> None (rewrite it: an ingest, a delete) or the payload keys set on it
        # (an engagement write: only those are copied, no re-embedding). None: no rebuild.
        self._journal: dict[str, set[str] | None] | None = None
        self.switches = 0

    # -- the target and its readers -------------------------------------------
    @property
    def current(self) -> Any:
        return self._target.store

    def _enter(self) -> _Target:
        with self._cond:
            target = self._target
            target.calls += 1
            return target

    def _leave(self, target: _Target) -> None:
        with self._cond:
            target.calls -= 1
            if target.calls == 0:
                self._cond.notify_all()

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        target = self._enter()
        iterating = False
        try:
            result = getattr(target.store, name)(*args, **kwargs)
            if isinstance(result, Iterator):
                iterating = True
                return self._held(target, result)
            return result
        finally:
            if not iterating:
                self._leave(target)

    def _held(self, target: _Target, items: Iterator[Any]) -> Iterator[Any]:
        """An iterator keeps its index open until it is exhausted, closed or collected."""
        return _HeldIterator(items, lambda: self._leave(target))

    def switch(self, store: Any) -> Any:
        """Serve `store` from the next call on; returns the handle `drain` takes."""
        with self._cond:
            old = self._target
            self._target = _Target(store)
            self.switches += 1
        return old

    def drain(self, old: Any, timeout_s: float = 60.0) -> bool:
        """Wait until no call runs on the switched-out target; False if `timeout_s` passed."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while old.calls > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    # -- the journal of writes during a rebuild --------------------------------
    def open_journal(self) -> None:
        with self._cond:
            self._journal = {}

    def take_changes(self) -> tuple[list[str], dict[str, set[str]]]:
        """Since the last take: the post ids to rewrite, sorted (replays are
        deterministic), and the others' payload keys set (engagement writes)."""
        with self._cond:
            if self._journal is None:
                return [], {}
            taken, self._journal = self._journal, {}
        rewrite = sorted(pid for pid, keys in taken.items() if keys is None)
        return rewrite, {pid: keys for pid, keys in sorted(taken.items()) if keys is not None}

    def close_journal(self) -> None:
        with self._cond:
            self._journal = None

    def _record(self, post_ids: Iterator[str] | Sequence[str]) -> None:
        with self._cond:
            if self._journal is not None:
                self._journal.update(dict.fromkeys(post_ids))

    def _record_payload(self, fields_by_post: Mapping[str, Mapping[str, Any]]) -> None:
        with self._cond:
            if self._journal is None:
                return
            for post_id, fields in fields_by_post.items():
                if post_id in self._journal and self._journal[post_id] is None:
                    continue  # rewritten whole anyway
                self._journal[post_id] = (self._journal.get(post_id) or set()) | set(fields)

    # -- writes: applied to the current target, then recorded -----------------
    # Recorded after the write (even a failed one, which may have half-landed): a replay
    # that took the id reads the index after the write, never before it.
    def upsert(self, posts: Sequence[Post], encoded: Encoded,
               observed_at: float | None = None) -> None:
        try:
            self._call("upsert", posts, encoded, observed_at)
        finally:
            self._record([p.id for p in posts])

    def update_engagement(self, post_id: str, update: Engagement, at: float | None = None) -> bool:
        try:
            return bool(self._call("update_engagement", post_id, update, at))
        finally:  # counts and history only: replayed by copying them, not re-embedding
            self._record_payload({post_id: dict.fromkeys((*COUNTS, *HISTORY_FIELDS))})

    def set_payload(self, fields_by_post: Mapping[str, Mapping[str, Any]]) -> None:
        try:
            self._call("set_payload", fields_by_post)
        finally:
            self._record_payload(fields_by_post)

    def delete(self, post_ids: Sequence[str]) -> int:
        try:
            return int(self._call("delete", post_ids))
        finally:
            self._record(list(post_ids))

    # -- everything else: the current target's, counted ------------------------
    @property
    def location(self) -> str:
        return str(self._target.store.location)

    def __getattr__(self, attr: str) -> Any:
        # Only reached for names this class lacks: private names are nobody else's business
        # (and its own, set in __init__, must not recurse while they are being set).
        if attr.startswith("_"):
            raise AttributeError(attr)
        value = getattr(self._target.store, attr)
        if not callable(value):
            return value
        method: Callable[..., Any] = lambda *args, **kwargs: self._call(attr, *args, **kwargs)  # noqa: E731
        return method
