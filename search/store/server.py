"""A Qdrant server or cluster through `qdrant-client`: the scale-out back end.

Each index is a collection `<alias>__<name>`; the alias `<alias>` names the
live one and is switched in one `update_collection_aliases` call, which the
server applies atomically. The manifest travels in the collection's metadata.

Every client call goes through `search.store.retry.Retry` (bounded, jittered
retries of transient failures, then `StoreUnavailable`), wrapped by
`search.store.server_layout.LaidOutCalls` (each read's consistency, each
write's ordering; shards and replicas at creation). The catalog (aliases,
collections) is in `search.store.server_catalog`. Tests run this code against qdrant-client's `:memory:`
local mode, which speaks the same API (no server binary exists here).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import msgspec
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from search.contracts import Encoded, IndexBuild, IndexManifest, ModelInfo, ScoredId, TermFilter
from search.errors import IndexNotReady, ModelMismatch
from search.models import Engagement, Post, SearchFilters, SparseVector
from search.store._server_matches import ClientConditions as _ClientConditions
from search.store._server_matches import ServerMatchReads
from search.store._server_windows import ServerWindowReads
from search.store.base import FieldKind, Signal, in_request_order
from search.store.conditions import filter_conditions, term_conditions
from search.store.payload import ENGAGEMENT_KEYS, MATURED_KEYS, NOT_IN_POST
from search.store.payload import from_payload, point_id, updated_engagement, with_history
from search.store.server_layout import LaidOutCalls, collection_config

T = TypeVar("T")
_META_KEY = "trendsearch"
_KINDS: dict[FieldKind, qm.PayloadSchemaType] = {
    "keyword": qm.PayloadSchemaType.KEYWORD,
    "integer": qm.PayloadSchemaType.INTEGER,
    "datetime": qm.PayloadSchemaType.DATETIME,
    "float": qm.PayloadSchemaType.FLOAT,
}




def client_filter(filters: SearchFilters | None, terms: TermFilter | None = None) -> qm.Filter | None:
    make = _ClientConditions()
    must, must_not = term_conditions(terms, make)
    must = filter_conditions(filters, make) + must
    return qm.Filter(must=must or None, must_not=must_not or None) if must or must_not else None


_PAYLOAD = qm.PayloadSelectorExclude(exclude=NOT_IN_POST)
# How stale a search's model check may be: one alias read per this many seconds, so a
# replica that did not make a model change stops searching within that long after it.
SEARCH_MODEL_CHECK_S = 2.0


def _sparse(vector: SparseVector) -> qm.SparseVector:
    return qm.SparseVector(indices=list(vector.indices), values=list(vector.values))


class ServerStore(ServerMatchReads, ServerWindowReads):
    """One collection on a Qdrant server (counting reads: `ServerMatchReads`)."""

    def __init__(self, client: QdrantClient, collection: str, call: LaidOutCalls,
                 behind: Callable[[], str] | None = None, model_id: str | None = None) -> None:
        """`collection` may be the live alias (`ServerCatalog.serving`): every point read and
        write then follows a reindex's switch; `behind()` names the collection the alias
        points at now, whose metadata holds the manifest."""
        self._client = client
        self._collection = collection
        self._call = call
        self._layout = call.layout
        self._behind = behind
        self._model_id = model_id
        self._checked: str | None = None  # the collection behind the alias whose model matched
        self._checked_at = 0.0  # when the alias was last read for that check
        self._mismatch: ModelMismatch | None = None  # what that check found, if it failed

    @property
    def location(self) -> str:
        return f"collection {self._collection}"

    def _check_model(self, max_age_s: float = 0.0) -> None:
        """Before a write through the alias (and, at most every `max_age_s`, a search): one
        alias read, and the manifest only when the alias points somewhere new (a reindex
        switched it, perhaps from another API replica to another model)."""
        if self._model_id is None or self._behind is None:
            return
        if max_age_s and time.monotonic() - self._checked_at < max_age_s:
            if self._mismatch is not None:  # found at the last check: no reads until it ages
                raise self._mismatch
            return
        collection = self._behind()
        self._mismatch = None
        if collection != self._checked:
            held = self.manifest().model.model_id
            if held != self._model_id:
                self._mismatch = ModelMismatch(held, self._model_id, self.location)
                self._checked_at = time.monotonic()
                raise self._mismatch
            self._checked = collection
        self._checked_at = time.monotonic()

    def _model_check(self) -> None:
        """The check before a read that compares this process's vectors with the index's
        (search, similar, neighbours, window vectors): at most one alias read per
        `SEARCH_MODEL_CHECK_S`."""
        self._check_model(SEARCH_MODEL_CHECK_S)

    def manifest(self) -> IndexManifest:
        collection = self._behind() if self._behind is not None else self._collection
        if not self._call(self._client.collection_exists, collection):
            raise IndexNotReady(f"{self.location} does not exist: run `trendsearch migrate`")
        info = self._call(self._client.get_collection, collection)
        meta = (info.config.metadata or {}).get(_META_KEY)
        if meta is None:
            raise IndexNotReady(f"{self.location} has no trendsearch manifest: run `trendsearch migrate`")
        return msgspec.convert(meta, IndexManifest)

    def write_manifest(self, manifest: IndexManifest) -> None:
        self._call(self._client.update_collection, self._collection,
                   metadata={_META_KEY: msgspec.to_builtins(manifest)})

    def create_collection(self, model: ModelInfo) -> None:
        self._call(self._client.create_collection, self._collection,
                   **collection_config(self._layout, model))

    def create_payload_index(self, key: str, kind: FieldKind) -> None:
        self._call(self._client.create_payload_index, self._collection, key, _KINDS[kind])

    def upsert(self, posts: Sequence[Post], encoded: Encoded,
               observed_at: float | None = None) -> None:
        self._check_model()
        previous = self._payloads_at([point_id(p.id) for p in posts], ["history"])
        payloads = with_history(posts, previous, observed_at)
        points = [
            qm.PointStruct(
                id=point_id(post.id),
                vector={"dense": encoded.dense[i].tolist(), "sparse": _sparse(encoded.sparse[i])},
                payload=payloads[i],
            )
            for i, post in enumerate(posts)
        ]
        if points:
            self._call(self._client.upsert, self._collection, points, wait=True)

    def update_engagement(self, post_id: str, update: Engagement, at: float | None = None) -> bool:
        pid = point_id(post_id)
        fields = updated_engagement(self._payloads_at([pid], ENGAGEMENT_KEYS).get(pid), update, at)
        if fields is None:
            return False
        self._call(self._client.set_payload, self._collection, fields, [pid], wait=True)
        return True

    def _payloads_at(self, pids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not pids:
            return {}
        records = self._call(self._client.retrieve, self._collection, list(pids),
                             with_payload=qm.PayloadSelectorInclude(include=list(keys)))
        return {str(r.id): dict(r.payload or {}) for r in records}

    def payloads(self, post_ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        found = self._payloads_at([point_id(p) for p in post_ids], [*keys, "id"])
        return {str(v.pop("id")): v for v in found.values() if "id" in v}

    def set_payload(self, fields_by_post: Mapping[str, Mapping[str, Any]]) -> None:
        operations: list[Any] = [
            qm.SetPayloadOperation(set_payload=qm.SetPayload(
                payload=dict(fields), points=[point_id(post_id)]))
            for post_id, fields in fields_by_post.items()
        ]
        if operations:
            self._call(self._client.batch_update_points, self._collection, operations, wait=True)

    def delete(self, post_ids: Sequence[str]) -> int:
        pids = [point_id(p) for p in post_ids]
        present = [r.id for r in self._call(self._client.retrieve, self._collection, pids)]
        if present:
            self._call(self._client.delete, self._collection,
                       qm.PointIdsList(points=present), wait=True)
        return len(present)

    def optimize(self) -> IndexBuild | None:
        return None  # the server's own optimizers index segments in the background

    def flush(self) -> None:
        """Writes use `wait=True`: the server has them durable when the call returns."""

    def search(self, signals: Sequence[Signal], filters: SearchFilters | None,
               terms: TermFilter | None, limit: int) -> list[list[ScoredId]]:
        if not signals:
            return []
        # Another replica may have moved the alias to another model's collection: this
        # process's query vectors would then be searched among vectors of another space.
        self._model_check()
        flt = client_filter(filters, terms)
        requests = [qm.QueryRequest(
            query=list(vector) if using == "dense" else _sparse(vector), using=using,
            filter=flt, limit=limit, with_payload=False)
            for using, vector in signals]
        responses = self._call(self._client.query_batch_points, self._collection, requests)
        return [[ScoredId(str(p.id), p.score) for p in r.points] for r in responses]

    def posts_at(self, point_ids: Sequence[str]) -> dict[str, Post]:
        records = self._call(self._client.retrieve, self._collection, list(point_ids),
                             with_payload=_PAYLOAD)
        return {str(r.id): from_payload(r.payload or {}) for r in records}

    def get(self, post_ids: Sequence[str]) -> list[Post]:
        return in_request_order(self.posts_at([point_id(p) for p in post_ids]), post_ids)

    def sparse_vectors(self, point_ids: Sequence[str]) -> dict[str, SparseVector]:
        records = self._call(self._client.retrieve, self._collection, list(point_ids),
                             with_payload=False, with_vectors=["sparse"])
        out = {}
        for r in records:
            sparse = (r.vector if isinstance(r.vector, dict) else {}).get("sparse")
            out[str(r.id)] = (SparseVector(indices=list(sparse.indices),  # type: ignore[union-attr]
                                           values=list(sparse.values))  # type: ignore[union-attr]
                              if sparse is not None else SparseVector(indices=[], values=[]))
        return out

    def vectors(self, point_ids: Sequence[str]) -> dict[str, tuple[list[float], SparseVector]]:
        records = self._call(self._client.retrieve, self._collection, list(point_ids),
                             with_payload=False, with_vectors=["dense", "sparse"])
        out = {}
        for r in records:
            named = r.vector if isinstance(r.vector, dict) else {}
            sparse = named.get("sparse")
            out[str(r.id)] = (list(named["dense"]),  # type: ignore[arg-type]
                              SparseVector(indices=list(sparse.indices), values=list(sparse.values))
                              if sparse is not None else SparseVector(indices=[], values=[]))
        return out

    def count(self, filters: SearchFilters | None = None) -> int:
        result = self._call(self._client.count, self._collection,
                            count_filter=client_filter(filters), exact=True)
        return int(result.count)

    def scroll(self, batch_size: int = 256) -> Iterator[Post]:
        offset: Any = None
        while True:
            records, offset = self._call(self._client.scroll, self._collection, limit=batch_size,
                                         offset=offset, with_payload=_PAYLOAD, with_vectors=False)
            for record in records:
                yield from_payload(record.payload or {})
            if offset is None:
                return

    def matured(self, since_ts: float, min_age_s: float,
                batch_size: int = 256) -> Iterator[dict[str, Any]]:
        flt = qm.Filter(must=[
            qm.FieldCondition(key="history_ts", range=qm.Range(gte=since_ts)),
            qm.FieldCondition(key="history_age", range=qm.Range(gte=min_age_s))])
        offset: Any = None
        while True:
            records, offset = self._call(
                self._client.scroll, self._collection, scroll_filter=flt, limit=batch_size,
                offset=offset, with_payload=qm.PayloadSelectorInclude(include=MATURED_KEYS),
                with_vectors=False)
            for r in records:
                yield dict(r.payload or {})
            if offset is None:
                return

    def neighbours(self, sparse: SparseVector, platform: str, min_age_s: float,
                   limit: int) -> list[tuple[str, float]]:
        if not sparse.indices:
            return []
        self._model_check()
        flt = qm.Filter(must=[
            qm.FieldCondition(key="platform", match=qm.MatchAny(any=[platform])),
            qm.FieldCondition(key="history_age", range=qm.Range(gte=min_age_s))])
        answer = self._call(self._client.query_points, self._collection, query=_sparse(sparse),
                            using="sparse", query_filter=flt, limit=limit,
                            with_payload=qm.PayloadSelectorInclude(include=["id"]))
        return [(str((h.payload or {})["id"]), float(h.score)) for h in answer.points]

    def close(self) -> None:
        """The client is the catalog's; nothing is held per collection."""
