"""Qdrant Edge: Qdrant's own engine in-process, the embedded default.

Edge has no collections or aliases: one shard per folder. So a catalog is a
folder of index folders plus a `LIVE` pointer file replaced with `os.replace`
(atomic on POSIX): readers see the old index or the new one, never a mix.

One process owns the data folder. Edge itself refuses a second opener with a
raw `WouldBlock` from its WAL; we take an `flock` first so the second process
gets a sentence that says who holds it and what to do instead.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import qdrant_edge as qe

from search.embed.base import Encoded, ModelInfo
from search.errors import IndexNotReady, StoreLocked
from search.models import Engagement, Post, SearchFilters, SparseVector
from search.store.base import (
    FieldKind,
    IndexManifest,
    RecallQuery,
    RecallResponse,
    ScoredId,
    engagement_patch,
    filter_conditions,
    from_payload,
    point_id,
    to_payload,
)

_KINDS: dict[FieldKind, Any] = {
    "keyword": qe.PayloadSchemaType.Keyword,
    "integer": qe.PayloadSchemaType.Integer,
    "datetime": qe.PayloadSchemaType.Datetime,
    "float": qe.PayloadSchemaType.Float,
}


class _EdgeConditions:
    def any_of(self, key: str, values: list[str]) -> Any:
        return qe.FieldCondition(key=key, match=qe.MatchAny(any=values))

    def datetime_range(self, key: str, gte: str | None, lte: str | None) -> Any:
        return qe.FieldCondition(key=key, range=qe.RangeDateTime(gte=gte, lte=lte))

    def int_range(self, key: str, gte: int | None, lte: int | None) -> Any:
        return qe.FieldCondition(key=key, range=qe.RangeFloat(
            gte=None if gte is None else float(gte), lte=None if lte is None else float(lte)))


def edge_filter(filters: SearchFilters | None) -> Any:
    conditions = filter_conditions(filters, _EdgeConditions())
    return qe.Filter(must=conditions) if conditions else None


def _sparse(vector: SparseVector) -> Any:
    return qe.SparseVector(indices=list(vector.indices), values=list(vector.values))


class EdgeStore:
    """One index: a shard folder and its manifest."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._shard: Any = None
        if (folder / "shard").exists():
            self._shard = self._load()

    @property
    def location(self) -> str:
        return str(self._folder)

    def _load(self) -> Any:
        try:
            return qe.EdgeShard.load(str(self._folder / "shard"))
        except Exception as exc:  # Edge raises a bare Exception for its lock
            if "WouldBlock" in str(exc):
                raise StoreLocked(
                    f"the index at {self._folder} is open in another process; stop it, or "
                    f"write through its API (POST /v1/posts)"
                ) from exc
            raise

    @property
    def shard(self) -> Any:
        if self._shard is None:
            raise IndexNotReady(f"no index at {self._folder}: run `trendsearch migrate`")
        return self._shard

    # -- schema -----------------------------------------------------------
    def manifest(self) -> IndexManifest:
        path = self._folder / "manifest.json"
        if not path.exists():
            raise IndexNotReady(f"no manifest at {path}: run `trendsearch migrate`")
        return msgspec.json.decode(path.read_bytes(), type=IndexManifest)

    def write_manifest(self, manifest: IndexManifest) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        tmp = self._folder / "manifest.json.tmp"
        tmp.write_bytes(msgspec.json.format(msgspec.json.encode(manifest)))
        os.replace(tmp, self._folder / "manifest.json")

    def create_collection(self, model: ModelInfo) -> None:
        config = qe.EdgeConfig(
            vectors={"dense": qe.EdgeVectorParams(size=model.dense_dim, distance=qe.Distance.Cosine)},
            sparse_vectors={"sparse": qe.EdgeSparseVectorParams(
                modifier=qe.Modifier.Idf if model.sparse_idf else None)},
        )
        self._shard = qe.EdgeShard.create(str(self._folder / "shard"), config)

    def create_payload_index(self, key: str, kind: FieldKind) -> None:
        self.shard.update(qe.UpdateOperation.create_field_index(key, _KINDS[kind]))

    # -- writes -----------------------------------------------------------
    def upsert(self, posts: Sequence[Post], encoded: Encoded) -> None:
        points = [
            qe.Point(
                id=point_id(post.id),
                vector={"dense": encoded.dense[i].tolist(), "sparse": _sparse(encoded.sparse[i])},
                payload=to_payload(post),
            )
            for i, post in enumerate(posts)
        ]
        if points:
            self.shard.update(qe.UpdateOperation.upsert_points(points))

    def update_engagement(self, post_id: str, update: Engagement) -> bool:
        pid = point_id(post_id)
        if not self.shard.retrieve([pid], False, False):
            return False
        self.shard.update(qe.UpdateOperation.set_payload([pid], engagement_patch(update)))
        return True

    def delete(self, post_ids: Sequence[str]) -> int:
        pids = [point_id(p) for p in post_ids]
        present = [r.id for r in self.shard.retrieve(pids, False, False)]
        if present:
            self.shard.update(qe.UpdateOperation.delete_points(present))
        return len(present)

    def flush(self) -> None:
        if self._shard is not None:
            self._shard.flush()

    # -- reads ------------------------------------------------------------
    def recall(self, query: RecallQuery) -> RecallResponse:
        flt = edge_filter(query.filters)
        dense = qe.Query.Nearest(list(query.dense), using="dense")
        sparse = qe.Query.Nearest(_sparse(query.sparse), using="sparse")
        fusion = qe.Fusion.Rrf(k=query.rrf_k) if query.fusion == "rrf" else qe.Fusion.Dbsf()
        n = query.prefetch_limit
        requests = [qe.QueryRequest(
            limit=query.limit, query=fusion, filter=flt, with_payload=True,
            prefetches=[qe.Prefetch(limit=n, query=dense, filter=flt),
                        qe.Prefetch(limit=n, query=sparse, filter=flt)],
        )]
        if query.signals:
            requests += [qe.QueryRequest(limit=n, query=dense, filter=flt, with_payload=False),
                         qe.QueryRequest(limit=n, query=sparse, filter=flt, with_payload=False)]
        fused, *signals = self.shard.query_batch(qe.QueryBatchRequest(requests))
        dense_hits, sparse_hits = signals or ([], [])
        return RecallResponse(
            fused=[(ScoredId(str(p.id), p.score), from_payload(p.payload)) for p in fused],
            dense=[ScoredId(str(p.id), p.score) for p in dense_hits],
            sparse=[ScoredId(str(p.id), p.score) for p in sparse_hits],
        )

    def get(self, post_ids: Sequence[str]) -> list[Post]:
        records = self.shard.retrieve([point_id(p) for p in post_ids], True, False)
        by_id = {from_payload(r.payload).id: from_payload(r.payload) for r in records}
        return [by_id[p] for p in post_ids if p in by_id]

    def count(self, filters: SearchFilters | None = None) -> int:
        return int(self.shard.count(qe.CountRequest(exact=True, filter=edge_filter(filters))))

    def scroll(self, batch_size: int = 256) -> Iterator[Post]:
        offset = None
        while True:
            records, offset = self.shard.scroll(qe.ScrollRequest(
                offset=offset, limit=batch_size, with_payload=True, with_vector=False))
            for record in records:
                yield from_payload(record.payload)
            if offset is None:
                return

    def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None


class EdgeCatalog:
    """A data folder of Edge indexes, one of them live, owned by one process."""

    def __init__(self, data_dir: Path) -> None:
        self._root = data_dir
        self._root.mkdir(parents=True, exist_ok=True)
        (self._root / "indexes").mkdir(exist_ok=True)
        self._lock_file = open(self._root / ".lock", "a+")  # noqa: SIM115 - held for our lifetime
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip() or "unknown"
            self._lock_file.close()
            raise StoreLocked(
                f"the embedded store at {data_dir} is in use by another trendsearch process "
                f"(pid {holder}); stop it first, send posts through its API (POST /v1/posts), "
                f"or run a Qdrant server and set QDRANT_URL"
            ) from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(str(os.getpid()))
        self._lock_file.flush()
        self._open: dict[str, EdgeStore] = {}

    @property
    def location(self) -> str:
        return str(self._root)

    def live_name(self) -> str | None:
        pointer = self._root / "LIVE"
        return pointer.read_text().strip() or None if pointer.exists() else None

    def names(self) -> list[str]:
        return sorted(p.name for p in (self._root / "indexes").iterdir() if p.is_dir())

    def open(self, name: str) -> EdgeStore:
        if name not in self._open:
            folder = self._root / "indexes" / name
            if not folder.exists():
                raise IndexNotReady(f"no index named {name} under {self._root}")
            self._open[name] = EdgeStore(folder)
        return self._open[name]

    def create(self, name: str) -> EdgeStore:
        folder = self._root / "indexes" / name
        folder.mkdir(parents=True, exist_ok=False)
        self._open[name] = EdgeStore(folder)
        return self._open[name]

    def activate(self, name: str) -> None:
        if name not in self.names():
            raise IndexNotReady(f"cannot activate {name}: no such index under {self._root}")
        tmp = self._root / "LIVE.tmp"
        tmp.write_text(name)
        os.replace(tmp, self._root / "LIVE")

    def drop(self, name: str) -> None:
        if name == self.live_name():
            raise IndexNotReady(f"refusing to drop the live index {name}")
        store = self._open.pop(name, None)
        if store is not None:
            store.close()
        shutil.rmtree(self._root / "indexes" / name, ignore_errors=True)

    def close(self) -> None:
        for store in self._open.values():
            store.flush()
            store.close()
        self._open.clear()
        if not self._lock_file.closed:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
