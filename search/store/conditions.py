"""Our filters as Qdrant conditions, written once for both back ends.

`SearchFilters`, `TermFilter` and `MatchFilter` are translated here against a
small `ConditionFactory` that each back end implements with its own condition
types (`_edge_matches.EdgeConditions`, `_server_matches.ClientConditions`), so
Qdrant Edge and a Qdrant server cannot drift apart on what a filter admits.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from search.contracts import MatchFilter, TermFilter
from search.models import SearchFilters
from search.store.payload import rfc3339

C = TypeVar("C")


class ConditionFactory(Protocol[C]):
    """The condition shapes our filters need, in a back end's own types."""

    def any_of(self, key: str, values: list[str]) -> C: ...

    def all_of(self, conditions: list[C]) -> C: ...

    def datetime_range(self, key: str, gte: str | None, lte: str | None) -> C: ...

    def int_range(self, key: str, gte: int | None, lte: int | None) -> C: ...

    def float_range(self, key: str, gte: float | None, lt: float | None,
                    lte: float | None) -> C: ...

    def has_id(self, point_ids: list[str]) -> C: ...


def filter_conditions(filters: SearchFilters | None, make: ConditionFactory[C]) -> list[C]:
    """Translate `SearchFilters` into `must` conditions, once for both back ends."""
    if filters is None:
        return []
    out: list[C] = []
    for key in ("platform", "lang", "author"):
        values = getattr(filters, key)
        if values:
            out.append(make.any_of(key, list(values)))
    if filters.since or filters.until:
        out.append(make.datetime_range(
            "created_at",
            rfc3339(filters.since) if filters.since else None,
            rfc3339(filters.until) if filters.until else None,
        ))
    for key, value in (("likes", filters.min_likes), ("reposts", filters.min_reposts),
                       ("comments", filters.min_comments)):
        if value:
            out.append(make.int_range(key, value, None))
    if filters.has_image is not None:
        out.append(make.int_range("image_count", 1, None) if filters.has_image
                   else make.int_range("image_count", None, 0))
    return out


def term_conditions(terms: TermFilter | None, make: ConditionFactory[C]) -> tuple[list[C], list[C]]:
    """`must` and `must_not` conditions for a `TermFilter`, once for both back ends.

    One-key exclusions share a single MatchAny; a multi-key one is a nested
    filter, so `-"e bike"` drops posts with both words rather than either.
    """
    if terms is None:
        return [], []
    must = [make.any_of("terms", [key]) for key in terms.require]
    single = sorted({group[0] for group in terms.exclude if len(group) == 1})
    must_not = [make.any_of("terms", single)] if single else []
    must_not += [make.all_of([make.any_of("terms", [key]) for key in group])
                 for group in terms.exclude if len(group) > 1]
    return must, must_not


def match_conditions(match: MatchFilter, make: ConditionFactory[C]
                     ) -> tuple[list[C], list[C], list[C]]:
    """`must`, `should` (at least one) and `must_not` for a `MatchFilter`, once for both
    back ends: the filters and terms, then "holds every required key, or is one of the
    dense half's points". Callers check `match.empty` first (it matches nothing)."""
    must, must_not = term_conditions(match.terms, make)
    must = filter_conditions(match.filters, make) + must
    if match.before is not None or match.at is not None:
        must.append(make.float_range("created_ts", match.at, match.before, match.at))
    should = []
    if match.require:
        should.append(make.all_of([make.any_of("terms", [key]) for key in match.require]))
    if match.point_ids:
        should.append(make.has_id(list(match.point_ids)))
    return must, should, must_not


def holds_all_terms(require: tuple[str, ...], make: ConditionFactory[C]) -> list[C]:
    """Posts holding every required key, as one condition (or none): `must_not` in the
    dense half's search (the terms half counts those already), `must` for explain."""
    return [make.all_of([make.any_of("terms", [key]) for key in require])] if require else []
