"""A Qdrant server's time-window reads: the newest posts of [since, until), with vectors.

Apart from `search.store.server` (as `_edge_windows` is from `edge`): trends and the
watches' calibration read windows their own way (ordered by time, one call, vectors
included), not as search does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from search.models import SearchFilters
from search.store._server_matches import ClientConditions
from search.store.base import (
    WindowPosts,
    WindowVectors,
    window_bounds,
    window_posts,
    window_vectors,
)
from search.store.conditions import filter_conditions
from search.store.payload import FILTER_ONLY_FIELDS, point_id

__all__ = ["ServerWindowReads"]


def _dense(vector: Any) -> list[float]:
    return list(vector["dense"]) if isinstance(vector, dict) else []


class ServerWindowReads:
    """`window_vectors` and `scroll_window` for `ServerStore`."""

    _client: QdrantClient
    _collection: str
    _call: Callable[..., Any]
    _model_check: Callable[[], None]

    def window_vectors(self, since: datetime, until: datetime, limit: int) -> WindowVectors:
        self._model_check()  # vectors compared with this process's query vectors
        lo, hi = window_bounds(since, until)
        records, _ = self._call(
            self._client.scroll, self._collection, limit=limit, with_vectors=["dense"],
            scroll_filter=qm.Filter(must=[qm.FieldCondition(key="created_ts",
                                                            range=qm.Range(gte=lo, lt=hi))]),
            with_payload=qm.PayloadSelectorInclude(include=["id"]),
            order_by=qm.OrderBy(key="created_ts", direction=qm.Direction.DESC))
        return window_vectors([((r.payload or {})["id"], _dense(r.vector)) for r in records])

    def scroll_window(self, since: datetime, until: datetime, filters: SearchFilters | None,
                      limit: int, post_ids: Sequence[str] | None = None) -> WindowPosts:
        lo, hi = window_bounds(since, until)
        conditions: list[Any] = filter_conditions(filters, ClientConditions())
        conditions.append(qm.FieldCondition(key="created_ts", range=qm.Range(gte=lo, lt=hi)))
        if post_ids is not None:
            conditions.append(qm.HasIdCondition(has_id=[point_id(p) for p in post_ids]))
        records, _ = self._call(
            self._client.scroll, self._collection, scroll_filter=qm.Filter(must=conditions),
            limit=limit, with_vectors=["dense"],
            with_payload=qm.PayloadSelectorExclude(exclude=FILTER_ONLY_FIELDS),
            order_by=qm.OrderBy(key="created_ts", direction=qm.Direction.DESC))
        return window_posts([(r.payload or {}, _dense(r.vector)) for r in records])
