"""Totals, facets and the time histogram over every post that matches a query.

*A match* is `search.matching`'s: under the search's filters, phrases and
exclusions, a post holding every required term, or one of the closest posts by
meaning past the model's threshold. Counting runs in the engine on both back
ends, through one filter (`search.store.base.match_conditions`):

1. the dense half: one bounded search with a score threshold, leaving out posts
   the terms half already holds (`Store.similar`), at most `MAX_DENSE_MATCHES`;
2. `Store.count_matches`: "holds every required term, or is one of those
   points", exact, on the payload index;
3. with facets: `Store.facet` on `platform` and `lang` (each without its own
   filter, so a count says what choosing it would give: one more dense search
   per such filter in use) and on `created_day`, then `created_hour` when the
   story spans under `HOURLY_DAYS` days: the histogram is one facet call, not a
   count per bucket.

`total` is exact unless the dense half was cut; then it is a lower bound and
`total_exact` is false. A quoted phrase is counted by its words in any order
(Qdrant cannot check order); pages check the order, so a total can run above
what pages of a phrase query hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import msgspec
import numpy as np
import numpy.typing as npt

from search.contracts import MatchFilter, TermFilter
from search.matching import MAX_DENSE_MATCHES, match_kind
from search.models import Facets, Histogram, Hit, MatchFacets, SearchFilters
from search.query import post_terms
from search.store.base import Store, point_id

__all__ = ["HOURLY_DAYS", "MatchSet", "as_facets", "explain_matches", "histogram",
           "match_facets", "resolve"]

# Stories shorter than this many days get hourly buckets, longer ones daily.
HOURLY_DAYS = 3
# Facet limits: values per field (platforms and languages are few; days cover 50 years).
FACET_VALUES = 200
MAX_DAYS = 20_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MatchSet(msgspec.Struct, frozen=True):
    """One query's matches as a store filter, and whether the dense half was whole."""

    filter: MatchFilter
    exact: bool = True
    threshold: float | None = None  # None: no dense half


def resolve(store: Store, require: tuple[str, ...], dense: list[float] | None,
            threshold: float | None, filters: SearchFilters | None,
            terms: TermFilter | None) -> MatchSet:
    """The match filter for a query: its required terms plus the dense half's points.

    `dense` None or `threshold` None: no dense half (an unmeasured model, or a query
    the dense model cannot read).
    """
    match = MatchFilter(filters=filters, terms=terms, require=require)
    if dense is None or threshold is None:
        return MatchSet(match)
    close = store.similar(dense, match, threshold, MAX_DENSE_MATCHES + 1)
    ids = tuple(sorted(hit.point_id for hit in close[:MAX_DENSE_MATCHES]))
    return MatchSet(msgspec.structs.replace(match, point_ids=ids),
                    exact=len(close) <= MAX_DENSE_MATCHES, threshold=threshold)


def _sorted(counts: Mapping[str | int, int]) -> dict[str, int]:
    return dict(sorted(((str(k), n) for k, n in counts.items() if n),
                       key=lambda kv: (-kv[1], kv[0])))


def match_facets(store: Store, matches: MatchSet, wider: Mapping[str, MatchSet]) -> MatchFacets:
    """Matches per platform and language; `wider[key]` is the match set without `key`'s
    filter, where that filter is in use (`search.facets.widened`)."""
    out = {key: _sorted(store.facet(wider.get(key, matches).filter, key, FACET_VALUES))
           for key in ("platform", "lang")}
    return MatchFacets(platform=out["platform"], lang=out["lang"])


def histogram(store: Store, matches: MatchSet) -> Histogram:
    """Matches per UTC day over the story's span, or per hour when it spans under
    `HOURLY_DAYS` days; zero buckets included, so the counts draw a time line."""
    days = {int(k): n for k, n in store.facet(matches.filter, "created_day", MAX_DAYS).items()}
    if not days:
        return Histogram(unit="day", start=None, counts=[])
    first, last = min(days), max(days)
    if last - first < HOURLY_DAYS:
        hours = {int(k): n for k, n in
                 store.facet(matches.filter, "created_hour", 24 * (HOURLY_DAYS + 1)).items()}
        h0, h1 = min(hours), max(hours)
        return Histogram(unit="hour", start=_EPOCH + timedelta(hours=h0),
                         counts=[hours.get(h, 0) for h in range(h0, h1 + 1)])
    return Histogram(unit="day", start=_EPOCH + timedelta(days=first),
                     counts=[days.get(d, 0) for d in range(first, last + 1)])


def as_facets(store: Store, matches: MatchSet, counts: MatchFacets) -> Facets:
    """The older `facets` field for `latest`, which has no recall pool: the matches'
    platform and language counts and their UTC days."""
    days = store.facet(matches.filter, "created_day", MAX_DAYS)
    return Facets(platform=counts.platform, lang=counts.lang, day={
        (_EPOCH + timedelta(days=int(d))).date().isoformat(): n for d, n in sorted(
            days.items(), key=lambda kv: int(kv[0]))})


def explain_matches(store: Store, hits: list[Hit], dense: npt.NDArray[np.float32],
                    matches: MatchSet) -> list[Hit]:
    """Each hit's explain with why it matched: its terms hold every required key, its
    stored vector's cosine passes the threshold, both, or neither (a ranked result
    the total does not count)."""
    vectors = store.vectors([point_id(h.post.id) for h in hits]) if hits else {}
    out = []
    for hit in hits:
        stored = vectors.get(point_id(hit.post.id))
        similarity = (round(float(np.dot(np.asarray(stored[0], dtype=np.float32), dense)), 6)
                      if stored is not None else None)
        kind = match_kind(set(post_terms(hit.post.text)), matches.filter.require, similarity,
                          matches.threshold)
        out.append(msgspec.structs.replace(hit, explain=msgspec.structs.replace(
            hit.explain, match=kind, similarity=similarity, match_threshold=matches.threshold)))
    return out
