"""The watch index on a Qdrant server: a collection `<alias>-watches--<model>` beside the
posts collections (not `<alias>__...`, so the catalog never lists it as a posts index).

Every call goes through the posts catalog's bounded retries (`Retry`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from search.contracts import Encoded, ModelInfo
from search.models import SparseVector
from search.store.base import WatchHits, watch_point_id
from search.store.retry import Retry


def _sparse(vector: SparseVector) -> qm.SparseVector:
    return qm.SparseVector(indices=list(vector.indices), values=list(vector.values))


class ServerWatchIndex:
    def __init__(self, client: QdrantClient, collection: str, model: ModelInfo,
                 retry: Retry) -> None:
        self._client = client
        self._collection = collection
        self._call = retry
        if not self._call(client.collection_exists, collection):
            self._call(client.create_collection, collection,
                       vectors_config={"dense": qm.VectorParams(size=model.dense_dim,
                                                                distance=qm.Distance.COSINE)},
                       sparse_vectors_config={"sparse": qm.SparseVectorParams()})

    @property
    def location(self) -> str:
        return f"collection {self._collection}"

    def upsert(self, watch_ids: Sequence[str], encoded: Encoded) -> None:
        points = [qm.PointStruct(id=watch_point_id(w), payload={"watch_id": w},
                                 vector={"dense": encoded.dense[i].tolist(),
                                         "sparse": _sparse(encoded.sparse[i])})
                  for i, w in enumerate(watch_ids)]
        if points:
            self._call(self._client.upsert, self._collection, points, wait=True)

    def delete(self, watch_ids: Sequence[str]) -> None:
        if watch_ids:
            self._call(self._client.delete, self._collection,
                       qm.PointIdsList(points=[watch_point_id(w) for w in watch_ids]), wait=True)

    def vectors(self) -> dict[str, tuple[list[float], SparseVector]]:
        out: dict[str, tuple[list[float], SparseVector]] = {}
        offset: Any = None
        while True:
            records, offset = self._call(self._client.scroll, self._collection, limit=1000,
                                         offset=offset, with_payload=True,
                                         with_vectors=["dense", "sparse"])
            for r in records:
                named: Any = r.vector if isinstance(r.vector, dict) else {}
                sparse = named.get("sparse")
                out[(r.payload or {})["watch_id"]] = (
                    list(named["dense"]),
                    SparseVector(indices=list(sparse.indices), values=list(sparse.values))
                    if sparse is not None else SparseVector(indices=[], values=[]))
            if offset is None:
                return out

    def nearest(self, encoded: Encoded, dense_limit: int, sparse_limit: int) -> WatchHits:
        n = len(encoded.sparse)
        has_terms = [i for i in range(n) if encoded.sparse[i].indices]
        requests = [qm.QueryRequest(query=encoded.dense[i].tolist(), using="dense",
                                    limit=dense_limit, with_payload=True) for i in range(n)]
        requests += [qm.QueryRequest(query=_sparse(encoded.sparse[i]), using="sparse",
                                     limit=sparse_limit, with_payload=True) for i in has_terms]
        responses = (self._call(self._client.query_batch_points, self._collection, requests)
                     if requests else [])
        dense = [[((p.payload or {})["watch_id"], p.score) for p in r.points]
                 for r in responses[:n]]
        sparse: list[list[tuple[str, float]]] = [[] for _ in range(n)]
        for i, r in zip(has_terms, responses[n:], strict=True):
            sparse[i] = [((p.payload or {})["watch_id"], p.score) for p in r.points]
        return WatchHits(dense=dense, sparse=sparse)

    def close(self) -> None:
        """The client belongs to the posts catalog."""
