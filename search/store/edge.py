"""Qdrant Edge: Qdrant's own engine in-process, the embedded default. One index.

Edge has no collections or aliases: one shard per folder, and `EdgeStore` is
one such folder. The folder of folders, the live pointer and the process lock
are `search.store.edge_catalog`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import qdrant_edge as qe

from search.contracts import Encoded, IndexBuild, IndexManifest, ModelInfo, ScoredId, TermFilter
from search.errors import IndexNotReady, StoreLocked
from search.models import Engagement, Post, SearchFilters, SparseVector
from search.store._edge_matches import EdgeConditions as _EdgeConditions
from search.store._edge_matches import EdgeMatchReads
from search.store._edge_windows import read_window, read_window_vectors
from search.store.edge_layout import EdgeLayout, dense_search_params, edge_config
from search.store.base import (
    FieldKind,
    Signal,
    WindowPosts,
    WindowVectors,
    in_request_order,
)
from search.store.conditions import filter_conditions, term_conditions
from search.store.payload import ENGAGEMENT_KEYS, MATURED_KEYS, NOT_IN_POST
from search.store.payload import from_payload, point_id, updated_engagement, with_history

_KINDS: dict[FieldKind, Any] = {
    "keyword": qe.PayloadSchemaType.Keyword,
    "integer": qe.PayloadSchemaType.Integer,
    "datetime": qe.PayloadSchemaType.Datetime,
    "float": qe.PayloadSchemaType.Float,
}


def edge_filter(filters: SearchFilters | None, terms: TermFilter | None = None,
                excluded_ids: set[Any] | None = None) -> Any:
    make = _EdgeConditions()
    must, must_not = term_conditions(terms, make)
    must = filter_conditions(filters, make) + must
    if excluded_ids:
        must_not.append(qe.HasIdCondition(excluded_ids))
    return qe.Filter(must=must or None, must_not=must_not or None) if must or must_not else None


# An excluded term makes Edge's brute-force search check every point's `terms`
# list: fused recall 7 -> 25-38 ms at 100k points. A term held by few posts is
# cheaper as their ids, read off the keyword index (161 posts: count 0.03 ms,
# ids 0.2 ms, recall 8.7 ms); at ~6,000 ids the id check costs as much as the list.
MAX_EXCLUDED_IDS = 1000


def _payload() -> Any:
    return qe.PayloadSelector.Exclude(NOT_IN_POST)


def _sparse(vector: SparseVector) -> Any:
    return qe.SparseVector(indices=list(vector.indices), values=list(vector.values))


def _from_sparse(vector: Any) -> SparseVector:
    if vector is None:  # a post with no terms has no sparse vector stored
        return SparseVector(indices=[], values=[])
    return SparseVector(indices=list(vector.indices), values=list(vector.values))


class EdgeStore(EdgeMatchReads):
    """One index: a shard folder and its manifest (counting reads: `EdgeMatchReads`)."""

    def __init__(self, folder: Path, layout: EdgeLayout | None = None) -> None:
        self._folder = folder
        self.layout = layout or EdgeLayout()
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
        self._shard = qe.EdgeShard.create(str(self._folder / "shard"),
                                          edge_config(self.layout, model))

    def create_payload_index(self, key: str, kind: FieldKind) -> None:
        self.shard.update(qe.UpdateOperation.create_field_index(key, _KINDS[kind]))

    # -- writes -----------------------------------------------------------
    def upsert(self, posts: Sequence[Post], encoded: Encoded,
               observed_at: float | None = None) -> None:
        previous = self._payloads_at([point_id(p.id) for p in posts], ["history"])
        payloads = with_history(posts, previous, observed_at)
        points = [
            qe.Point(
                id=point_id(post.id),
                vector={"dense": encoded.dense[i].tolist(), "sparse": _sparse(encoded.sparse[i])},
                payload=payloads[i],
            )
            for i, post in enumerate(posts)
        ]
        if points:
            self.shard.update(qe.UpdateOperation.upsert_points(points))

    def update_engagement(self, post_id: str, update: Engagement, at: float | None = None) -> bool:
        pid = point_id(post_id)
        fields = updated_engagement(self._payloads_at([pid], ENGAGEMENT_KEYS).get(pid), update, at)
        if fields is None:
            return False
        self.shard.update(qe.UpdateOperation.set_payload([pid], fields))
        return True

    def _payloads_at(self, pids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not pids:
            return {}
        records = self.shard.retrieve(list(pids), qe.PayloadSelector.Include(list(keys)), False)
        return {str(r.id): dict(r.payload or {}) for r in records}

    def payloads(self, post_ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        found = self._payloads_at([point_id(p) for p in post_ids], [*keys, "id"])
        return {str(v.pop("id")): v for v in found.values() if "id" in v}

    def set_payload(self, fields_by_post: Mapping[str, Mapping[str, Any]]) -> None:
        # Edge applies one operation per call; a payload differs per point.
        for post_id, fields in fields_by_post.items():
            self.shard.update(qe.UpdateOperation.set_payload([point_id(post_id)], dict(fields)))

    def delete(self, post_ids: Sequence[str]) -> int:
        pids = [point_id(p) for p in post_ids]
        present = [r.id for r in self.shard.retrieve(pids, False, False)]
        if present:
            self.shard.update(qe.UpdateOperation.delete_points(present))
        return len(present)

    def flush(self) -> None:
        if self._shard is not None:
            self._shard.flush()

    def optimize(self) -> IndexBuild:
        """Index the segments that outgrew the layout's threshold (HNSW, int8), blocking.

        qdrant-edge-py 0.9 holds the GIL while it builds: every thread of this process
        waits (decision 0031), so callers run it off the request path and say so.
        """
        started = time.perf_counter()
        changed = bool(self.shard.optimize())
        info = self.shard.info()
        return IndexBuild(changed=changed, seconds=time.perf_counter() - started,
                          segments=int(info.segments_count), points=int(info.points_count))

    # -- reads ------------------------------------------------------------
    def _rare_exclusions(self, terms: TermFilter | None) -> tuple[TermFilter | None, set[Any]]:
        """Exclusion groups held by at most `MAX_EXCLUDED_IDS` points, turned into ids."""
        if terms is None or not terms.exclude:
            return terms, set()
        make = _EdgeConditions()
        kept: list[tuple[str, ...]] = []
        ids: set[Any] = set()
        for group in terms.exclude:
            holders = qe.Filter(must=[make.any_of("terms", [key]) for key in group])
            n = int(self.shard.count(qe.CountRequest(exact=True, filter=holders)))
            if n > MAX_EXCLUDED_IDS:
                kept.append(group)
            elif n:
                records, _ = self.shard.scroll(qe.ScrollRequest(
                    limit=MAX_EXCLUDED_IDS + 1, filter=holders, with_payload=False,
                    with_vector=False))
                ids.update(r.id for r in records)
        return msgspec.structs.replace(terms, exclude=tuple(kept)), ids

    def search(self, signals: Sequence[Signal], filters: SearchFilters | None,
               terms: TermFilter | None, limit: int) -> list[list[ScoredId]]:
        if not signals:
            return []
        terms, excluded_ids = self._rare_exclusions(terms)
        flt = edge_filter(filters, terms, excluded_ids)
        requests = [qe.QueryRequest(
            limit=limit, filter=flt, with_payload=False,
            params=dense_search_params(self.layout, limit=limit) if using == "dense" else None,
            query=qe.Query.Nearest(list(vector) if using == "dense" else _sparse(vector),
                                   using=using))
            for using, vector in signals]
        return [[ScoredId(str(p.id), p.score) for p in hits]
                for hits in self.shard.query_batch(qe.QueryBatchRequest(requests))]

    def posts_at(self, point_ids: Sequence[str]) -> dict[str, Post]:
        records = self.shard.retrieve(list(point_ids), _payload(), False)
        return {str(r.id): from_payload(r.payload) for r in records}

    def get(self, post_ids: Sequence[str]) -> list[Post]:
        return in_request_order(self.posts_at([point_id(p) for p in post_ids]), post_ids)

    def vectors(self, point_ids: Sequence[str]) -> dict[str, tuple[list[float], SparseVector]]:
        records = self.shard.retrieve(list(point_ids), False, ["dense", "sparse"])
        return {str(r.id): (list(r.vector["dense"]), _from_sparse(r.vector.get("sparse")))
                for r in records}

    def sparse_vectors(self, point_ids: Sequence[str]) -> dict[str, SparseVector]:
        records = self.shard.retrieve(list(point_ids), False, ["sparse"])
        return {str(r.id): _from_sparse(r.vector.get("sparse")) for r in records}

    def count(self, filters: SearchFilters | None = None) -> int:
        return int(self.shard.count(qe.CountRequest(exact=True, filter=edge_filter(filters))))

    def scroll(self, batch_size: int = 256) -> Iterator[Post]:
        offset = None
        while True:
            records, offset = self.shard.scroll(qe.ScrollRequest(
                offset=offset, limit=batch_size, with_payload=_payload(), with_vector=False))
            for record in records:
                yield from_payload(record.payload)
            if offset is None:
                return

    def matured(self, since_ts: float, min_age_s: float,
                batch_size: int = 256) -> Iterator[dict[str, Any]]:
        flt = qe.Filter(must=[
            qe.FieldCondition(key="history_ts", range=qe.RangeFloat(gte=since_ts)),
            qe.FieldCondition(key="history_age", range=qe.RangeFloat(gte=min_age_s))])
        offset = None
        while True:
            records, offset = self.shard.scroll(qe.ScrollRequest(
                offset=offset, limit=batch_size, filter=flt,
                with_payload=qe.PayloadSelector.Include(MATURED_KEYS), with_vector=False))
            for r in records:
                yield dict(r.payload)
            if offset is None:
                return

    def neighbours(self, sparse: SparseVector, platform: str, min_age_s: float,
                   limit: int) -> list[tuple[str, float]]:
        if not sparse.indices:
            return []
        make = _EdgeConditions()
        flt = qe.Filter(must=[make.any_of("platform", [platform]), qe.FieldCondition(
            key="history_age", range=qe.RangeFloat(gte=min_age_s))])
        hits = self.shard.query(qe.QueryRequest(
            limit=limit, filter=flt, with_payload=qe.PayloadSelector.Include(["id"]),
            query=qe.Query.Nearest(_sparse(sparse), using="sparse")))
        return [(str(h.payload["id"]), float(h.score)) for h in hits]

    def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None

    def window_vectors(self, since: datetime, until: datetime, limit: int) -> WindowVectors:
        return read_window_vectors(self.shard, since, until, limit)

    def scroll_window(self, since: datetime, until: datetime, filters: SearchFilters | None,
                      limit: int, post_ids: Sequence[str] | None = None) -> WindowPosts:
        return read_window(self.shard, since, until, filters, limit, post_ids)
