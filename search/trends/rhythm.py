"""What is normal for a topic's neighbourhood at this hour: its own daily and weekly rhythm.

Pure: slot offsets, counts and medians; the caller reads the posts.

Why: a community has a calendar. A college forum talks about essays every evening
and about test scores every score-release morning; against the 48 h baseline's
median window (which mixes the night's lows into the evening's highs) each
evening's essay threads burst. What separates that from news is that the same
words and the same embedding region were this busy at this time of day on most
of the previous days, or at this time of the week on most of the previous weeks.
So a topic is also compared with its neighbourhood's count in the same span
shifted back by whole days and whole weeks, read from the index's own history:
the posts of those slots that are as close to the topic's centroid as its own
members must be (`member_similarity`). No stop list; nothing is learnt beyond
what the index holds.

Why the median over several cycles and not the previous day: a real story that
started yesterday (a slow disaster in its second day) has one busy slot among
seven; the median ignores it, while "the same hour most days" is the community's
habit. Slots before the index's first post read as zero: an index that just
started has no rhythm to hold a story to, as before this rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
import numpy.typing as npt

DAY_S = 86_400
WEEK_S = 7 * DAY_S


class Slot(msgspec.Struct, frozen=True):
    """One earlier copy of the span: `offset_s` back from `as_of`, of `period_s` rhythm."""

    offset_s: int
    period_s: int


def slots(span_s: float, days: int, weeks: int) -> list[Slot]:
    """The earlier spans a topic is compared with, each offset once (the 7th day is the
    1st week; it counts for both rhythms).

    A rhythm applies only to spans at most half its period: a 3-day span has no
    "same time yesterday" (the shifted span would overlap the span itself).
    """
    out: dict[int, list[int]] = {}
    for period, cycles in ((DAY_S, days), (WEEK_S, weeks)):
        if span_s * 2 > period:
            continue
        for k in range(1, cycles + 1):
            out.setdefault(period * k, []).append(period)
    return [Slot(offset_s=off, period_s=period) for off, periods in sorted(out.items())
            for period in periods]


def offsets(all_slots: Sequence[Slot]) -> list[int]:
    """Distinct offsets to read, oldest last."""
    return sorted({s.offset_s for s in all_slots})


class Rhythm(msgspec.Struct, frozen=True):
    """A topic's expected span count by its daily and weekly rhythm (None: no such slots)."""

    daily: float | None
    weekly: float | None
    days: int
    weeks: int

    @property
    def expected(self) -> float:
        return max(self.daily or 0.0, self.weekly or 0.0)


def expectation(counts_by_offset: dict[int, float], all_slots: Sequence[Slot]) -> Rhythm:
    """Median count of the neighbourhood's posts over each rhythm's earlier slots."""
    daily = [counts_by_offset.get(s.offset_s, 0.0) for s in all_slots if s.period_s == DAY_S]
    weekly = [counts_by_offset.get(s.offset_s, 0.0) for s in all_slots if s.period_s == WEEK_S]
    return Rhythm(daily=float(np.median(daily)) if daily else None,
                  weekly=float(np.median(weekly)) if weekly else None,
                  days=len(daily), weeks=len(weekly))


def neighbourhood_counts(similarity: npt.NDArray[np.float32], post_offsets: npt.NDArray[np.int64],
                         threshold: float) -> list[dict[int, float]]:
    """Per topic (column of `similarity`, history posts x topics), its history posts at
    least `threshold` similar, counted per slot offset."""
    out = []
    for c in range(similarity.shape[1]):
        near = post_offsets[similarity[:, c] >= threshold]
        values, counts = np.unique(near, return_counts=True)
        out.append({int(v): float(n) for v, n in zip(values, counts)})
    return out


def describe(window_expected: float, rhythm: Rhythm, span_h: float, baseline_h: float) -> str:
    """One sentence for the explanation: which baseline the topic was held to."""
    parts = [f"{window_expected:g} posts per {span_h:g} h (median window of the {baseline_h:g} h baseline)"]
    if rhythm.daily is not None:
        parts.append(f"{rhythm.daily:g} (median of the same {span_h:g} h on the {rhythm.days} "
                     f"previous days)")
    if rhythm.weekly is not None:
        parts.append(f"{rhythm.weekly:g} (median of the same {span_h:g} h on the {rhythm.weeks} "
                     f"previous weeks)")
    return "expected the highest of: " + "; ".join(parts)
