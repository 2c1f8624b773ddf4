"""Qdrant Edge's time-window reads: the newest posts of [since, until), with vectors.

Apart from `search.store.edge` because trends and the watches' calibration read
windows their own way (ordered by time, one call, vectors included), not as search does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import qdrant_edge as qe

from search.models import SearchFilters
from search.store._edge_matches import EdgeConditions
from search.store.base import (
    WindowPosts,
    WindowVectors,
    window_bounds,
    window_posts,
    window_vectors,
)
from search.store.conditions import filter_conditions
from search.store.payload import FILTER_ONLY_FIELDS, point_id

__all__ = ["read_window", "read_window_vectors"]


def read_window(shard: Any, since: datetime, until: datetime, filters: SearchFilters | None,
                limit: int, post_ids: Sequence[str] | None = None) -> WindowPosts:
    lo, hi = window_bounds(since, until)
    conditions = filter_conditions(filters, EdgeConditions())
    conditions.append(qe.FieldCondition(key="created_ts", range=qe.RangeFloat(gte=lo, lt=hi)))
    if post_ids is not None:
        conditions.append(qe.HasIdCondition({point_id(p) for p in post_ids}))
    # One ordered call, no paging: Qdrant does not page an `order_by` scroll by offset.
    records, _ = shard.scroll(qe.ScrollRequest(
        limit=limit, filter=qe.Filter(must=conditions), with_vector=["dense"],
        with_payload=qe.PayloadSelector.Exclude(FILTER_ONLY_FIELDS),
        order_by=qe.OrderBy("created_ts", qe.Direction.Desc)))
    return window_posts([(r.payload, r.vector["dense"]) for r in records])


def read_window_vectors(shard: Any, since: datetime, until: datetime, limit: int) -> WindowVectors:
    lo, hi = window_bounds(since, until)
    records, _ = shard.scroll(qe.ScrollRequest(
        limit=limit, filter=qe.Filter(must=[qe.FieldCondition(
            key="created_ts", range=qe.RangeFloat(gte=lo, lt=hi))]),
        with_vector=["dense"], with_payload=qe.PayloadSelector.Include(["id"]),
        order_by=qe.OrderBy("created_ts", qe.Direction.Desc)))
    return window_vectors([(r.payload["id"], r.vector["dense"]) for r in records])

