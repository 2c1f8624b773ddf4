"""Facet counts (platform, language, day) for a search, as the filter panel needs them.

What is counted: the results a search can page through, i.e. the candidates
recalled for the query under its filters (phrases held, exclusions applied),
one per text when copies are collapsed, before paging. Hybrid recall has no
natural "matching set" (every post has some dense similarity), so the recall
pool is that set; its size is the response's `total_candidates`. In `latest`
mode the page also drops candidates below a relevance floor, so counts there
can run a little above what the pages hold.

Disjunctive where it matters for a UI: the `platform` counts are taken with
every filter except `platform`, and likewise for `lang`, so ticking Twitter
still shows how many Weibo results there would be. That costs one more recall
per such filter in use. `day` (UTC calendar day of `created_at`) counts under
all filters, time range included.

Why not Qdrant's facet API (`facet` in qdrant-client and in qdrant-edge-py
0.9): it counts a keyword index over everything a filter matches, not over a
ranked candidate list, so it would count the whole filtered collection for any
query; and there is no day field to facet on without a schema step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC

import msgspec

from search.models import Candidate, Facets, SearchFilters

# (candidates, their copy groups): one recall's answer.
Recalled = tuple[Sequence[Candidate], Sequence[int]]
DISJUNCTIVE = ("platform", "lang")


def widened(filters: SearchFilters | None) -> dict[str, SearchFilters]:
    """For each disjunctive facet whose filter is in use, the filters without it:
    the caller recalls under each and hands the answers to `facet_counts`."""
    if filters is None:
        return {}
    return {key: msgspec.structs.replace(filters, **{key: None})
            for key in DISJUNCTIVE if getattr(filters, key)}


def facet_counts(candidates: Sequence[Candidate], groups: Sequence[int], collapse: bool,
                 wider: Mapping[str, Recalled]) -> Facets:
    """Counts per value, most frequent first (days oldest first); `wider[key]` is the
    recall without `key`'s filter (see `widened`), where that filter is in use."""
    base = _distinct(candidates, groups, collapse)
    out: dict[str, dict[str, int]] = {}
    for key in DISJUNCTIVE:
        rows = base
        if key in wider:
            rows = _distinct(*wider[key], collapse)
        counts = Counter(_value(c, key) for c in rows)
        out[key] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    days = Counter(c.post.created_at.astimezone(UTC).date().isoformat() for c in base)
    return Facets(platform=out["platform"], lang=out["lang"], day=dict(sorted(days.items())))


def _distinct(candidates: Sequence[Candidate], groups: Sequence[int],
              collapse: bool) -> list[Candidate]:
    """One candidate per copy group (the group's first) when collapsing, else all."""
    if not collapse:
        return list(candidates)
    return [c for i, (c, g) in enumerate(zip(candidates, groups, strict=True)) if g == i]


def _value(candidate: Candidate, key: str) -> str:
    value = getattr(candidate.post, key)
    return str(value) if value else "und"
