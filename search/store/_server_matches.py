"""A Qdrant server's reads over the posts that match a query: count, facet, newest, similar.

Kept apart from `server.py` (collections, writes, retries, recall) so each stays
readable; the filter logic itself is `search.store.conditions.match_conditions`,
shared with Qdrant Edge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from search.contracts import MatchFilter, ScoredId
from search.models import Post
from search.store.conditions import (
    filter_conditions,
    holds_all_terms,
    match_conditions,
    term_conditions,
)
from search.store.payload import FILTER_ONLY_FIELDS, from_payload


class ClientConditions:
    """The condition shapes of `search.store.conditions.ConditionFactory`, in qdrant-client's types."""

    def any_of(self, key: str, values: list[str]) -> Any:
        return qm.FieldCondition(key=key, match=qm.MatchAny(any=values))

    def all_of(self, conditions: list[Any]) -> Any:
        return qm.Filter(must=conditions)

    def datetime_range(self, key: str, gte: str | None, lte: str | None) -> Any:
        return qm.FieldCondition(key=key, range=qm.DatetimeRange(gte=gte, lte=lte))

    def int_range(self, key: str, gte: int | None, lte: int | None) -> Any:
        return qm.FieldCondition(key=key, range=qm.Range(gte=gte, lte=lte))

    def float_range(self, key: str, gte: float | None, lt: float | None,
                    lte: float | None) -> Any:
        return qm.FieldCondition(key=key, range=qm.Range(gte=gte, lt=lt, lte=lte))

    def has_id(self, point_ids: list[str]) -> Any:
        return qm.HasIdCondition(has_id=list(point_ids))


def match_filter(match: MatchFilter) -> qm.Filter:
    must, should, must_not = match_conditions(match, ClientConditions())
    return qm.Filter(must=must or None, should=should or None, must_not=must_not or None)


class ServerMatchReads:
    _client: QdrantClient
    _collection: str
    _call: Callable[..., Any]
    _model_check: Callable[[], None]  # `ServerStore`'s throttled model check (vector reads)

    def count_matches(self, match: MatchFilter) -> int:
        if match.empty:
            return 0
        result = self._call(self._client.count, self._collection,
                            count_filter=match_filter(match), exact=True)
        return int(result.count)

    def facet(self, match: MatchFilter, key: str, limit: int) -> dict[str | int, int]:
        if match.empty:
            return {}
        result = self._call(self._client.facet, self._collection, key,
                            facet_filter=match_filter(match), limit=limit, exact=True)
        return {h.value: int(h.count) for h in result.hits}

    def newest(self, match: MatchFilter, limit: int) -> list[tuple[float, Post]]:
        if match.empty:
            return []
        records, _ = self._call(
            self._client.scroll, self._collection, scroll_filter=match_filter(match),
            limit=limit, with_vectors=False,
            with_payload=qm.PayloadSelectorExclude(exclude=FILTER_ONLY_FIELDS),
            order_by=qm.OrderBy(key="created_ts", direction=qm.Direction.DESC))
        return [(float((r.payload or {})["created_ts"]), from_payload(r.payload or {}))
                for r in records]

    def match_times(self, match: MatchFilter, limit: int) -> list[tuple[str, float]]:
        if match.empty:
            return []
        records, _ = self._call(
            self._client.scroll, self._collection, scroll_filter=match_filter(match),
            limit=limit, with_vectors=False, with_payload=False,
            order_by=qm.OrderBy(key="created_ts", direction=qm.Direction.DESC))
        return [(str(r.id), float(r.order_value)) for r in records]

    def match_ids(self, match: MatchFilter, limit: int) -> list[str]:
        if match.empty:
            return []
        records, _ = self._call(
            self._client.scroll, self._collection, scroll_filter=match_filter(match),
            limit=limit, with_vectors=False, with_payload=False)
        return [str(r.id) for r in records]

    def holding(self, point_ids: Sequence[str], require: tuple[str, ...]) -> set[str]:
        if not point_ids or not require:
            return set()
        make = ClientConditions()
        records, _ = self._call(
            self._client.scroll, self._collection, limit=len(point_ids), with_payload=False,
            with_vectors=False, scroll_filter=qm.Filter(must=[
                make.has_id(list(point_ids)), *holds_all_terms(require, make)]))
        return {str(r.id) for r in records}

    def similar(self, dense: list[float], match: MatchFilter, min_score: float,
                limit: int) -> list[ScoredId]:
        self._model_check()  # a query vector of this process's model
        make = ClientConditions()
        must, must_not = term_conditions(match.terms, make)
        must = filter_conditions(match.filters, make) + must
        must_not += holds_all_terms(match.require, make)
        flt = (qm.Filter(must=must or None, must_not=must_not or None)
               if must or must_not else None)
        response = self._call(self._client.query_points, self._collection, query=list(dense),
                              using="dense", query_filter=flt, limit=limit,
                              score_threshold=min_score, with_payload=False)
        return [ScoredId(str(p.id), p.score) for p in response.points]
