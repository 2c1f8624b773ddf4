"""Who writes through an alias on a Qdrant server: one lease point per API process.

Why: a `reindex` run by another process (the standalone CLI) copies the old collection
into a new one and moves the alias; writes an API makes to the old collection after the
copy are never carried over (only a rebuild run inside the API journals them, 0032).
Nothing in Qdrant says an API is writing, so each serving API keeps a record here,
renewed on a heartbeat (`server.writer_lease`), and the standalone rebuild reads them
first and refuses while one is fresh (`server.cli.index`).

Kept in Qdrant itself, beside the posts collections, as a collection
`<alias>-writers` (not `<alias>__...`: the catalog never lists it as a posts index),
so every process that reaches the server sees the same records without another
service. A point holds no vector, only its payload: host, pid, started_at,
heartbeat_ts (Unix seconds, wall clock: the processes may run on other hosts) and
the API's listen URL.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
from qdrant_client import QdrantClient
from qdrant_client import models as qm

__all__ = ["Lease", "WriterLeases"]


class Lease(msgspec.Struct, frozen=True):
    """One API process's record: who it is and when it last said it was alive."""

    lease_id: str
    host: str
    pid: int
    started_at: float
    heartbeat_ts: float
    url: str | None = None

    def age_s(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.heartbeat_ts)

    def fresh(self, ttl_s: float, now: float | None = None) -> bool:
        return self.age_s(now) <= ttl_s

    def describe(self, now: float | None = None) -> str:
        where = f" serving {self.url}" if self.url else ""
        return f"pid {self.pid} on {self.host}{where}, last heartbeat {self.age_s(now):.0f} s ago"

    @classmethod
    def mine(cls, url: str | None = None) -> Lease:
        """This process's lease, not yet written: a new id per start, so a restarted
        process with a recycled pid is never taken for the old one."""
        now = time.time()
        return cls(lease_id=str(uuid.uuid4()), host=socket.gethostname(), pid=os.getpid(),
                   started_at=now, heartbeat_ts=now, url=url)


class WriterLeases:
    """The `<alias>-writers` collection: write, renew, drop and read leases."""

    def __init__(self, client: QdrantClient, collection: str, call: Callable[..., Any]) -> None:
        self._client = client
        self._collection = collection
        self._call = call

    @property
    def collection(self) -> str:
        return self._collection

    def _ensure(self) -> None:
        if not self._call(self._client.collection_exists, self._collection):
            try:
                self._call(self._client.create_collection, self._collection, vectors_config={})
            except Exception:
                # Two APIs starting at once: the other one made it.
                if not self._call(self._client.collection_exists, self._collection):
                    raise

    def write(self, lease: Lease) -> None:
        """Claim or renew (the same point, its heartbeat moved): an upsert, idempotent."""
        self._ensure()
        payload = msgspec.to_builtins(lease)
        self._call(self._client.upsert, self._collection,
                   [qm.PointStruct(id=lease.lease_id, vector={}, payload=payload)], wait=True)

    def drop(self, lease_id: str) -> None:
        if self._call(self._client.collection_exists, self._collection):
            self._call(self._client.delete, self._collection,
                       qm.PointIdsList(points=[lease_id]), wait=True)

    def read(self) -> list[Lease]:
        """Every lease on record, fresh or not; a record that does not parse is skipped
        (written by a later version, or by hand)."""
        if not self._call(self._client.collection_exists, self._collection):
            return []
        out: list[Lease] = []
        offset: Any = None
        while True:
            records, offset = self._call(self._client.scroll, self._collection, limit=256,
                                         offset=offset, with_payload=True, with_vectors=False)
            for r in records:
                try:
                    out.append(msgspec.convert(r.payload or {}, Lease))
                except msgspec.ValidationError:
                    continue
            if offset is None:
                return sorted(out, key=lambda lease: lease.started_at)
