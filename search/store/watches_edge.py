"""The watch index on Qdrant Edge: one shard folder beside the posts indexes.

Why a shard of its own and not points in the posts index: the percolator asks
"which watches is this post near?", a search over watches; mixed into the posts
index, every search of posts would have to filter them out, and IDF statistics
would count queries as documents. The folder is named after the model, so a
process with another model builds its own (from the watches database) instead
of comparing vectors of two models.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from search.contracts import Encoded, ModelInfo
from search.models import SparseVector
from search.store.base import WatchHits, watch_point_id


def _sparse(vector: SparseVector) -> Any:
    return qe.SparseVector(indices=list(vector.indices), values=list(vector.values))


class EdgeWatchIndex:
    def __init__(self, folder: Path, model: ModelInfo) -> None:
        self._folder = folder
        shard = folder / "shard"
        if shard.exists():
            self._shard = qe.EdgeShard.load(str(shard))
        else:
            folder.mkdir(parents=True, exist_ok=True)
            # No IDF modifier: IDF over watch queries says nothing about posts; the
            # percolator weighs terms by their document frequency among posts itself.
            self._shard = qe.EdgeShard.create(str(shard), qe.EdgeConfig(
                vectors={"dense": qe.EdgeVectorParams(size=model.dense_dim,
                                                      distance=qe.Distance.Cosine)},
                sparse_vectors={"sparse": qe.EdgeSparseVectorParams()}))

    @property
    def location(self) -> str:
        return str(self._folder)

    def upsert(self, watch_ids: Sequence[str], encoded: Encoded) -> None:
        points = [qe.Point(id=watch_point_id(w), payload={"watch_id": w},
                           vector={"dense": encoded.dense[i].tolist(),
                                   "sparse": _sparse(encoded.sparse[i])})
                  for i, w in enumerate(watch_ids)]
        if points:
            self._shard.update(qe.UpdateOperation.upsert_points(points))
            self._shard.flush()

    def delete(self, watch_ids: Sequence[str]) -> None:
        if watch_ids:
            self._shard.update(qe.UpdateOperation.delete_points(
                [watch_point_id(w) for w in watch_ids]))
            self._shard.flush()

    def vectors(self) -> dict[str, tuple[list[float], SparseVector]]:
        out: dict[str, tuple[list[float], SparseVector]] = {}
        offset = None
        while True:
            records, offset = self._shard.scroll(qe.ScrollRequest(
                offset=offset, limit=1000, with_payload=True, with_vector=["dense", "sparse"]))
            for r in records:
                sparse = r.vector.get("sparse")
                out[r.payload["watch_id"]] = (
                    list(r.vector["dense"]),
                    SparseVector(indices=list(sparse.indices), values=list(sparse.values))
                    if sparse is not None else SparseVector(indices=[], values=[]))
            if offset is None:
                return out

    def nearest(self, encoded: Encoded, dense_limit: int, sparse_limit: int) -> WatchHits:
        n = len(encoded.sparse)
        requests = [qe.QueryRequest(limit=dense_limit, with_payload=True,
                                    query=qe.Query.Nearest(encoded.dense[i].tolist(), using="dense"))
                    for i in range(n)]
        has_terms = [i for i in range(n) if encoded.sparse[i].indices]
        requests += [qe.QueryRequest(limit=sparse_limit, with_payload=True,
                                     query=qe.Query.Nearest(_sparse(encoded.sparse[i]),
                                                            using="sparse"))
                     for i in has_terms]
        results = self._shard.query_batch(qe.QueryBatchRequest(requests)) if requests else []
        dense = [[(p.payload["watch_id"], p.score) for p in hits] for hits in results[:n]]
        sparse: list[list[tuple[str, float]]] = [[] for _ in range(n)]
        for i, hits in zip(has_terms, results[n:], strict=True):
            sparse[i] = [(p.payload["watch_id"], p.score) for p in hits]
        return WatchHits(dense=dense, sparse=sparse)

    def close(self) -> None:
        self._shard.flush()
        self._shard.close()
