"""Engagement history: time-stamped snapshots of a post's counts, kept in its payload.

Counts used to be overwritten in place, so the index could not tell a post that is
gaining fast from one that peaked long ago. Every engagement update (a PATCH, the
bulk form, a re-ingest) now appends a snapshot `[ts, likes, reposts, comments]`
to the payload field `history`; nothing is re-embedded.

The list is bounded (`MAX_SNAPSHOTS`): past the bound, the interior snapshot whose
neighbours lie closest in time is dropped, never the first or the last. Frequent
updates thus thin out into roughly log-spaced points, and the early counts that a
forecast at a young age is calibrated on (`search.forecast`) survive a post that
is patched every minute for a week.

A snapshot may arrive late (a backfill), so it is inserted in time order; the
post's current counts are always those of its newest snapshot. One older than the
post, or later than now (beyond `CLOCK_SKEW_S`), is refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from search.models import Engagement

MAX_SNAPSHOTS = 48
CLOCK_SKEW_S = 300.0
# `history_ts`: the newest snapshot's time; `history_age`: its age (seconds after
# `created_at`). Both float-indexed (m0005) so the forecast's calibration reads only
# posts whose counts reach its horizon, and only those changed since its last read.
HISTORY_FIELDS = ("history", "history_ts", "history_age")
COUNTS = ("likes", "reposts", "comments")

Snapshot = list[float]  # [ts, likes, reposts, comments]; JSON-friendly as stored


def snapshot_problem(at_ts: float, created_ts: float, now_ts: float) -> str | None:
    """Why a snapshot taken at `at_ts` cannot be kept, or None."""
    if at_ts < created_ts:
        return "is before the post's `created_at`: a snapshot cannot predate its post"
    if at_ts > now_ts + CLOCK_SKEW_S:
        return "is in the future: send the moment the counts were read, at the latest now"
    return None


def total(snapshot: Sequence[float]) -> float:
    """Engagement of every kind together: platforms count different things (Reddit
    comments, Weibo reposts), so the forecast works on the sum, which fits each."""
    return float(sum(snapshot[1:4]))


def add(history: Sequence[Sequence[float]], snapshot: Sequence[float],
        limit: int = MAX_SNAPSHOTS) -> list[Snapshot]:
    """`history` with `snapshot` inserted in time order (replacing one at the same
    instant), thinned to `limit`. Pure: the input is not changed."""
    kept = [list(s) for s in history if s[0] != snapshot[0]]
    kept.append(list(snapshot))
    kept.sort(key=lambda s: s[0])
    while len(kept) > max(limit, 2):
        # The interior point whose neighbours are closest in time carries the least.
        drop = min(range(1, len(kept) - 1), key=lambda i: (kept[i + 1][0] - kept[i - 1][0], i))
        del kept[drop]
    return kept


def counts_at(history: Sequence[Sequence[float]], at_ts: float,
              fallback: Mapping[str, Any]) -> list[float]:
    """The counts known at `at_ts`: the newest snapshot at or before it, else `fallback`
    (the payload's counts, for a post stored before history existed)."""
    before = [s for s in history if s[0] <= at_ts]
    if before:
        return [float(v) for v in before[-1][1:4]]
    return [float(fallback.get(k) or 0) for k in COUNTS]


def history_fields(history: list[Snapshot], created_ts: float) -> dict[str, Any]:
    """The payload fields that follow from a history: the counts of its newest snapshot."""
    newest = history[-1]
    fields: dict[str, Any] = {k: int(v) for k, v in zip(COUNTS, newest[1:4], strict=True)}
    fields["history"] = history
    fields["history_ts"] = newest[0]
    fields["history_age"] = newest[0] - created_ts
    return fields


def apply_update(payload: Mapping[str, Any], update: Engagement, at_ts: float) -> dict[str, Any]:
    """The payload fields to set for `update` observed at `at_ts`: counts not sent are
    carried from the snapshot before it."""
    history = payload.get("history") or []
    counts = counts_at(history, at_ts, payload)
    for i, key in enumerate(COUNTS):
        value = getattr(update, key)
        if value is not None:
            counts[i] = float(value)
    return history_fields(add(history, [at_ts, *counts]), float(payload.get("created_ts") or 0.0))


def ingest_fields(previous: Mapping[str, Any] | None, counts: Sequence[int],
                  created_ts: float, at_ts: float) -> dict[str, Any]:
    """History for a post being (re-)ingested: the stored one plus its counts now.
    A post ingested before its own `created_at` (a clock ahead of ours) is stamped at
    `created_at`, so the first snapshot never predates the post."""
    history = (previous or {}).get("history") or []
    return history_fields(add(history, [max(at_ts, created_ts), *map(float, counts)]), created_ts)
