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

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import msgspec
import numpy as np
import numpy.typing as npt

from search.contracts import MatchFilter, TermFilter
from search.matching import MAX_DENSE_MATCHES, match_kind
from search.models import Facets, Histogram, Hit, MatchFacets, SearchFilters
from search.store.base import Store
from search.store.payload import point_id

__all__ = ["HOURLY_DAYS", "MatchSet", "Tally", "as_facets", "explain_matches", "histogram",
           "match_facets", "on_topic", "resolve", "tally"]

# Stories shorter than this many days get hourly buckets, longer ones daily.
HOURLY_DAYS = 3
# Facet limits: values per field (platforms and languages are few; days cover 50 years).
FACET_VALUES = 200
MAX_DAYS = 20_000
# A half of at most this many posts is counted by reading three small fields of each
# (~11 us a post on Edge at 100k points); a bigger one by Qdrant's `facet`. Its cost
# grows with the index, not with the matches: a day facet under a query's filter took
# 50-900 ms at 100k points and 47-52 s at 1M (28k matches, `trendsearch bench`,
# decision 0025), where reading 28k posts' fields would cost ~0.4 s at the 100k
# rate (not yet measured at 1M). So read up to 100k matches; past that the facet's
# cost is still paid (said in 0025).
SCAN_LIMIT = 100_000
_FIELDS = ("platform", "lang", "created_hour")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MatchSet(msgspec.Struct, frozen=True):
    """One query's matches as a store filter, and whether the dense half was whole."""

    filter: MatchFilter
    exact: bool = True
    threshold: float | None = None  # None: no dense half

    @property
    def terms_half(self) -> MatchFilter:
        return msgspec.structs.replace(self.filter, point_ids=())

    @property
    def dense_half(self) -> MatchFilter:
        """The dense half's points alone: they were found under the search's filters."""
        return MatchFilter(filters=None, point_ids=self.filter.point_ids)


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


class Tally(msgspec.Struct):
    """Matches per platform, language, UTC day and (when known) UTC hour."""

    platform: Counter[str]
    lang: Counter[str]
    days: Counter[int]
    hours: Counter[int] | None


def tally(store: Store, matches: MatchSet, terms_total: int | None = None) -> Tally:
    """Counts per value over both halves: read their few fields when a half holds at most
    `SCAN_LIMIT` posts, else ask Qdrant's `facet` (exact)."""
    out = Tally(Counter(), Counter(), Counter(), Counter())
    size = store.count_matches(matches.terms_half) if terms_total is None else terms_total
    for half, n in ((matches.terms_half, size), (matches.dense_half, len(matches.filter.point_ids))):
        if half.empty or not n:
            continue
        if n <= SCAN_LIMIT:
            for row in store.field_values(half, _FIELDS, n):
                out.platform[str(row["platform"])] += 1
                if row.get("lang"):
                    out.lang[str(row["lang"])] += 1
                hour = int(row["created_hour"])
                out.days[hour // 24] += 1
                if out.hours is not None:
                    out.hours[hour] += 1
            continue
        out.platform.update({str(k): v for k, v in store.facet(half, "platform", FACET_VALUES).items()})
        out.lang.update({str(k): v for k, v in store.facet(half, "lang", FACET_VALUES).items()})
        out.days.update({int(k): v for k, v in store.facet(half, "created_day", MAX_DAYS).items()})
        if out.days and max(out.days) - min(out.days) < HOURLY_DAYS:
            hours = store.facet(half, "created_hour", 24 * (HOURLY_DAYS + 1))
            if out.hours is not None:
                out.hours.update({int(k): v for k, v in hours.items()})
        else:
            out.hours = None  # not needed: the span is long enough for days
    return out


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(((k, n) for k, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0])))


def match_facets(base: Tally, wider: Mapping[str, Tally]) -> MatchFacets:
    """Matches per platform and language; `wider[key]` is the tally without `key`'s
    filter, where that filter is in use (`search.facets.widened`)."""
    return MatchFacets(platform=_sorted(wider.get("platform", base).platform),
                       lang=_sorted(wider.get("lang", base).lang))


def histogram(counts: Tally) -> Histogram:
    """Matches per UTC day over the story's span, or per hour when it spans under
    `HOURLY_DAYS` days; zero buckets included, so the counts draw a time line."""
    if not counts.days:
        return Histogram(unit="day", start=None, counts=[])
    first, last = min(counts.days), max(counts.days)
    if last - first < HOURLY_DAYS and counts.hours:
        h0, h1 = min(counts.hours), max(counts.hours)
        return Histogram(unit="hour", start=_EPOCH + timedelta(hours=h0),
                         counts=[counts.hours.get(h, 0) for h in range(h0, h1 + 1)])
    return Histogram(unit="day", start=_EPOCH + timedelta(days=first),
                     counts=[counts.days.get(d, 0) for d in range(first, last + 1)])


def as_facets(counts: MatchFacets, base: Tally) -> Facets:
    """The older `facets` field for `latest`, which has no recall pool: the matches'
    platform and language counts and their UTC days."""
    return Facets(platform=counts.platform, lang=counts.lang, day={
        (_EPOCH + timedelta(days=d)).date().isoformat(): n for d, n in sorted(base.days.items())})


def on_topic(store: Store, post_ids: list[str], dense: npt.NDArray[np.float32],
             matches: MatchSet) -> list[bool]:
    """Whether each post matches the query (the rule `explain` reports): trending's gate
    where the index is too small for `search.topical` to calibrate on.
    Read per post (stored terms and vector), not from the counted dense half, which
    stops at the `MAX_DENSE_MATCHES` closest posts of the whole index."""
    ids = [point_id(p) for p in post_ids]
    vectors = store.vectors(ids) if ids else {}
    holding = store.holding(ids, matches.filter.require) if ids else set()
    require = matches.filter.require
    out = []
    for pid in ids:
        stored = vectors.get(pid)
        # Rounded as `explain_matches` rounds it: the gate and explain agree.
        similarity = (round(float(np.dot(np.asarray(stored[0], dtype=np.float32), dense)), 6)
                      if stored is not None else None)
        out.append(match_kind(require if pid in holding else (), require, similarity,
                              matches.threshold) is not None)
    return out


def explain_matches(store: Store, hits: list[Hit], dense: npt.NDArray[np.float32],
                    matches: MatchSet) -> list[Hit]:
    """Each hit's explain with why it matched: its terms hold every required key, its
    stored vector's cosine passes the threshold, both, or neither (a ranked result
    the total does not count)."""
    ids = [point_id(h.post.id) for h in hits]
    vectors = store.vectors(ids) if hits else {}
    holding = store.holding(ids, matches.filter.require)
    require = matches.filter.require
    out = []
    for hit, pid in zip(hits, ids, strict=True):
        stored = vectors.get(pid)
        similarity = (round(float(np.dot(np.asarray(stored[0], dtype=np.float32), dense)), 6)
                      if stored is not None else None)
        kind = match_kind(require if pid in holding else (), require, similarity,
                          matches.threshold)
        out.append(msgspec.structs.replace(hit, explain=msgspec.structs.replace(
            hit.explain, match=kind, similarity=similarity, match_threshold=matches.threshold)))
    return out
