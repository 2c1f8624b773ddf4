"""Totals, facets and the time histogram over every post that matches a query.

*A match* is `search.matching`'s: under the search's filters, phrases and
exclusions, a post holding every required term, or one of the closest posts by
meaning past the model's threshold. Counting runs in the engine on both back
ends, through one filter (`search.store.conditions.match_conditions`):

1. the dense half: one bounded search with a score threshold, leaving out posts
   the terms half already holds (`Store.similar`), at most `MAX_DENSE_MATCHES`;
2. `Store.count_matches`: "holds every required term, or is one of those
   points", exact, on the payload index;
3. with facets, instead of (2): one pass over each half's matches, newest first,
   reading (point id, created_ts) from the payload index alone (`Store.match_times`:
   ~6 us a match, where reading stored payloads cost ~160 us and Qdrant's `facet`
   on `created_day` walks every day's posts, 47-52 s at 1M points): the exact
   count and the histogram (per day, or per hour when the story spans under
   `HOURLY_DAYS` days). Platform and language are Qdrant's `facet` over at most
   `FACET_SAMPLE` of those points, taken evenly along the time line; past that
   many the counts are scaled up and flagged (`exact` false, `sample`). Each
   platform or language filter in use costs one more pass without it, so a
   facet's count says what choosing it would give.

`total` is exact unless the dense half was cut; then it is a lower bound and
`total_exact` is false. Past `PASS_LIMIT` matches in a half the pass itself is
replaced by a sample (`Store.match_ids`: the first `FACET_SAMPLE` point ids,
uniform because point ids are hashes) and the histogram is scaled and flagged
too. A quoted phrase is counted by its words in any order (Qdrant cannot check
order); pages check the order, so a total can run above what pages of a phrase
query hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TypeVar

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
# Platforms and languages are few; a facet's limit only has to exceed them.
FACET_VALUES = 200
# Facets read at most this many points per half (~10 us a point for both fields at
# 100k). A share p estimated from n points has standard error sqrt(p (1 - p) / n): at
# most 1.6 points at 1,000 (measured against exact counts: decision 0025).
FACET_SAMPLE = 1_000
# One pass reads at most this many matches per half (~0.4 s on Edge at the 100k rate;
# on a Qdrant server one scroll of this many records, not measured); past it the half
# is sampled.
PASS_LIMIT = 50_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR = 3600.0
K = TypeVar("K", str, int)


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
    """Matches per platform, language, UTC day and UTC hour, and how they were counted.

    `total` is exact (both halves). `sample` is 0 when every match's platform and
    language were counted, else how many were read for them (the counts are then
    scaled estimates); `times_exact` is false when the histogram was scaled too."""

    platform: Counter[str]
    lang: Counter[str]
    days: Counter[int]
    hours: Counter[int]
    total: int = 0
    sample: int = 0
    times_exact: bool = True


def tally(store: Store, matches: MatchSet) -> Tally:
    """Count both halves: one pass of times each, platform and language from at most
    `FACET_SAMPLE` points of each."""
    platform: dict[str, float] = {}
    lang: dict[str, float] = {}
    days: dict[int, float] = {}
    hours: dict[int, float] = {}
    total = sampled = 0
    times_exact = True
    for half in (matches.terms_half, matches.dense_half):
        if half.empty:
            continue
        times = store.match_times(half, PASS_LIMIT + 1)
        if len(times) <= PASS_LIMIT:
            n = len(times)
            # Newest first, ties by id: the same sample on either back end.
            times.sort(key=lambda item: (-item[1], item[0]))
            step = max(1.0, n / FACET_SAMPLE)  # evenly along the time line
            picked = [times[int(i * step)][0] for i in range(min(n, FACET_SAMPLE))]
            _add_times(days, hours, (ts for _, ts in times), 1.0)
        else:  # too many to walk: a uniform sample for the histogram as well
            n = store.count_matches(half)
            picked = store.match_ids(half, FACET_SAMPLE)
            sample = store.match_times(MatchFilter(filters=None, point_ids=tuple(picked)),
                                       len(picked))
            _add_times(days, hours, (ts for _, ts in sample), n / max(len(sample), 1))
            times_exact = False
        total += n
        if not picked:
            continue
        scale = n / len(picked)
        if len(picked) < n:
            sampled += len(picked)
        ids = MatchFilter(filters=None, point_ids=tuple(picked))
        for field, counts in (("platform", platform), ("lang", lang)):
            for value, k in store.facet(ids, field, FACET_VALUES).items():
                counts[str(value)] = counts.get(str(value), 0.0) + k * scale
    return Tally(_rounded(platform), _rounded(lang), _rounded(days), _rounded(hours),
                 total=total, sample=sampled, times_exact=times_exact)


def _add_times(days: dict[int, float], hours: dict[int, float], stamps: Iterable[float],
               weight: float) -> None:
    """Each time into its UTC day and hour; `weight` 1 counts, a larger one scales."""
    for ts in stamps:
        hour = int(ts // _HOUR)
        days[hour // 24] = days.get(hour // 24, 0.0) + weight
        hours[hour] = hours.get(hour, 0.0) + weight


def _rounded(counts: Mapping[K, float]) -> Counter[K]:
    """Counts as whole numbers with the same sum, rounded (largest remainders first,
    ties by key), so a facet's or a histogram's counts add up to the posts they stand
    for; whole counts come back as they are, zeros dropped."""
    whole = {k: int(v) for k, v in counts.items()}
    short = round(sum(counts.values())) - sum(whole.values())
    for k in sorted(counts, key=lambda k: (whole[k] - counts[k], str(k)))[:max(short, 0)]:
        whole[k] += 1
    return Counter({k: v for k, v in whole.items() if v})


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(((k, n) for k, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0])))


def match_facets(base: Tally, wider: Mapping[str, Tally]) -> MatchFacets:
    """Matches per platform and language; `wider[key]` is the tally without `key`'s
    filter, where that filter is in use (`search.facets.widened`)."""
    platform, lang = wider.get("platform", base), wider.get("lang", base)
    sample = max(platform.sample, lang.sample)
    return MatchFacets(platform=_sorted(platform.platform), lang=_sorted(lang.lang),
                       exact=not sample, sample=sample)


def histogram(counts: Tally) -> Histogram:
    """Matches per UTC day over the story's span, or per hour when it spans under
    `HOURLY_DAYS` days; zero buckets included, so the counts draw a time line."""
    if not counts.days:
        return Histogram(unit="day", start=None, counts=[])
    first, last = min(counts.days), max(counts.days)
    if last - first < HOURLY_DAYS and counts.hours:
        h0, h1 = min(counts.hours), max(counts.hours)
        return Histogram(unit="hour", start=_EPOCH + timedelta(hours=h0),
                         counts=[counts.hours.get(h, 0) for h in range(h0, h1 + 1)],
                         exact=counts.times_exact)
    return Histogram(unit="day", start=_EPOCH + timedelta(days=first),
                     counts=[counts.days.get(d, 0) for d in range(first, last + 1)],
                     exact=counts.times_exact)


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
