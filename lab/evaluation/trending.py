"""Replaying a stream into the throw-away index, the way production would have seen it.

Time-aware sets ask, for a query at `as_of`, for what a user could have been
shown then: only posts created before `as_of`, ranked with only the engagement
observable at `as_of`. The harness gets there by replaying, not by filtering:

- posts are ingested in creation order, and before a query time exactly those
  created strictly before it are in the index; so nothing later can be
  returned, and the index statistics (Qdrant's IDF, the BM25 reference) come
  from visible posts only, as the protocol asks;
- at each query time, in increasing order, the engagement table's counts for
  that time are applied through `search.engagement.apply_updates` (the bulk
  PATCH's code) as snapshots taken at that time (`at` = the query time, not the
  wall clock, or every post's history would say it was counted today). A visible post with no row at that time
  has 0 comments (the protocol: "missing = 0"), so a post that had a count at
  an earlier time and none now is set back to 0, not left at its old count.
  (In the public set counts only grow, so this never fires there; a held-out
  set may differ, and stale counts would leak.)

Sets without `as_of` have one moment, "everything", with the corpus's own counts.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import datetime

import msgspec

from indexer.run import write_batch
from lab.evaluation.beir import Doc
from search.embed.base import Embedder
from search.engagement import apply_updates
from search.models import Engagement
from search.store.base import Store


class ReplayStep(msgspec.Struct, frozen=True):
    """What one advance did: posts ingested, counts changed (reset = set back to 0)."""

    as_of: datetime | None
    visible: int
    ingested: int
    updated: int
    reset: int
    ignored: int  # rows for posts not visible (or not in the corpus): a data error, skipped


def engagement_changes(current: dict[str, int], target: dict[str, int]) -> dict[str, int]:
    """Updates that turn the counts the store holds (`current`) into `target`.

    Absent from `target` means 0: a count the store holds is reset rather than kept.
    """
    changes = {doc: n for doc, n in target.items() if current.get(doc, 0) != n}
    changes.update({doc: 0 for doc, n in current.items() if n and doc not in target})
    return changes


def moments(as_ofs: Sequence[datetime | None]) -> list[datetime | None]:
    """Distinct query times in replay order; queries without one run last, on everything."""
    dated = sorted({a for a in as_ofs if a is not None})
    return [*dated, *([None] if any(a is None for a in as_ofs) else [])]


class Replay:
    """Feeds `docs` (sorted by `created_at` for a time-aware set) into `store`, moment by moment."""

    def __init__(self, store: Store, embedder: Embedder, docs: Sequence[Doc],
                 engagement: dict[datetime, dict[str, int]] | None, *, batch_size: int = 256,
                 on_ingest: Callable[[int], None] | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.docs = docs
        self.engagement = engagement
        self.batch_size = batch_size
        self.on_ingest = on_ingest
        self.visible = 0
        self.comments: dict[str, int] = {}  # corpus id -> count the store now holds
        self.steps: list[ReplayStep] = []
        self._times = [d.post.created_at.timestamp() for d in docs]
        self._engine_id = {d.corpus_id: d.post.id for d in docs}
        self._position = {d.corpus_id: i for i, d in enumerate(docs)}
        self._sorted = all(a <= b for a, b in zip(self._times, self._times[1:], strict=False))
        self._last: datetime | None = None

    def advance(self, as_of: datetime | None) -> ReplayStep:
        """Make the store hold what existed (and the counts observable) just before `as_of`."""
        if as_of is not None:
            if not self._sorted:
                raise ValueError("a time-aware replay needs documents sorted by created_at")
            if self._last is not None and as_of < self._last:
                raise ValueError(f"replay goes forward only: {as_of} after {self._last}")
            self._last = as_of
        upto = len(self.docs) if as_of is None else bisect.bisect_left(self._times,
                                                                       as_of.timestamp())
        ingested = self._ingest(upto)
        updated = reset = ignored = 0
        if self.engagement is not None and as_of is not None:
            target = self.engagement.get(as_of, {})
            changes = engagement_changes(self.comments, target)
            # Every count observed at `as_of` is a snapshot taken then (not only the
            # changed ones): production receives counts as they are polled, and the
            # forecast's calibration needs a post's counts at a day even when flat.
            observed = {**target, **changes}
            items = []
            for doc, n in sorted(observed.items()):
                position = self._position.get(doc)
                if position is None or position >= self.visible:
                    ignored += 1
                    continue
                items.append((self._engine_id[doc], Engagement(comments=n, at=as_of)))
                updated += doc in changes
                reset += n == 0 and doc not in target
                if n:
                    self.comments[doc] = n
                else:
                    self.comments.pop(doc, None)
            if items:
                apply_updates(self.store, items, as_of.timestamp())
        step = ReplayStep(as_of=as_of, visible=self.visible, ingested=ingested,
                          updated=updated, reset=reset, ignored=ignored)
        self.steps.append(step)
        return step

    def _ingest(self, upto: int) -> int:
        start = self.visible
        for lo in range(start, upto, self.batch_size):
            batch = self.docs[lo:min(lo + self.batch_size, upto)]
            # Counts as read at each post's creation (`ingest_fields` stamps a post at
            # least at its created_at): not the wall clock, which is years after the stream.
            write_batch(self.store, self.embedder, [d.post for d in batch],
                        observed_at=min(d.post.created_at.timestamp() for d in batch))
            self.visible = lo + len(batch)
            if self.on_ingest is not None:
                self.on_ingest(len(batch))
        return self.visible - start
