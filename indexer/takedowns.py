"""Takedowns: post ids removed on purpose, which no later ingest brings back.

A newsroom removes a post for a reason (a legal request, doxxing, a
retraction); re-indexing last month's export must not quietly restore it. So
`DELETE /v1/posts/{id}` records the id here *before* it deletes the point, and
every door that writes posts checks the list: `POST /v1/posts` refuses the
batch (409, naming the items), `trendsearch index` sends the record to the
rejects file. `reindex` copies the live index, where the post no longer is.
Lifting a takedown is a deliberate, separate act: `DELETE /v1/takedowns/{id}`.

The list is a JSON-lines log in the data folder (`takedowns.jsonl`), one event
per line, appended and fsynced: it doubles as the audit trail, and it lives
outside every index, so a new index (another model, a rebuilt schema) cannot
forget it. Readers pick up lines appended by another process (a Qdrant-server
deployment where API and indexer share the data folder) by watching its size.
A crash between recording and deleting leaves the point behind; the API
deletes recorded ids still in the index when it starts.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import msgspec

from search.errors import FieldError
from search.log import log

FILE_NAME = "takedowns.jsonl"


class TakedownEvent(msgspec.Struct, frozen=True, omit_defaults=True):
    id: str
    action: Literal["takedown", "lift"]
    at: str
    reason: str | None = None


class Takedown(msgspec.Struct, frozen=True, omit_defaults=True):
    id: str
    at: str
    reason: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Takedowns:
    """The current takedown set, replayed from the log and kept in step with it."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._lock = threading.Lock()
        self._active: dict[str, Takedown] = {}
        self._offset = 0
        self._decoder = msgspec.json.Decoder(TakedownEvent)

    def _refresh(self) -> None:
        """Apply lines appended since the last read (by us or another process)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            self._active, self._offset = {}, 0
            return
        if size == self._offset:
            return
        if size < self._offset:  # replaced or truncated by hand: start over
            self._active, self._offset = {}, 0
        with self.path.open("rb") as fh:
            fh.seek(self._offset)
            chunk = fh.read(size - self._offset)
        complete = chunk[:chunk.rfind(b"\n") + 1]  # a line still being written waits
        for number, line in enumerate(complete.splitlines(), 1):
            if not line.strip():
                continue
            try:
                event = self._decoder.decode(line)
            except msgspec.DecodeError as exc:
                log("takedowns.bad_line", file=str(self.path), offset=self._offset, line=number,
                    error=str(exc))
                continue
            if event.action == "takedown":
                self._active[event.id] = Takedown(id=event.id, at=event.at, reason=event.reason)
            else:
                self._active.pop(event.id, None)
        self._offset += len(complete)

    def _append(self, event: TakedownEvent) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = msgspec.json.encode(event) + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._refresh()

    def __contains__(self, post_id: object) -> bool:
        with self._lock:
            self._refresh()
            return post_id in self._active

    def get(self, post_id: str) -> Takedown | None:
        with self._lock:
            self._refresh()
            return self._active.get(post_id)

    def records(self) -> list[Takedown]:
        with self._lock:
            self._refresh()
            return sorted(self._active.values(), key=lambda t: (t.at, t.id))

    def add(self, post_id: str, reason: str | None = None) -> tuple[Takedown, bool]:
        """Record a takedown; `(record, False)` when the id was already taken down."""
        with self._lock:
            self._refresh()
            if post_id in self._active:
                return self._active[post_id], False
            self._append(TakedownEvent(id=post_id, action="takedown", at=_now(), reason=reason))
            log("takedown", id=post_id)
            return self._active[post_id], True

    def lift(self, post_id: str) -> Takedown | None:
        """Allow the id to be ingested again; the lifted record, or None if there was none."""
        with self._lock:
            self._refresh()
            record = self._active.get(post_id)
            if record is not None:
                self._append(TakedownEvent(id=post_id, action="lift", at=_now()))
                log("takedown.lift", id=post_id)
            return record

    def refusal(self, post_id: str, *, index: int | None = None) -> FieldError:
        record = self.get(post_id)
        when = f" at {record.at}" if record else ""
        return FieldError("id", f"post {post_id!r} was taken down{when}; lift the takedown "
                                f"(DELETE /v1/takedowns/{post_id}) to index it again", index=index)
