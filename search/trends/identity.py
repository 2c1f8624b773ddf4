"""One story, one identity from one pass to the next.

Pure: the previous pass's traces and this pass's topics' post ids in, links out.

Why posts and not labels: a story's label drifts as it unfolds ("explosion,
marathon" becomes "suspect, boylston"), and a hash of the label (the old topic
id) changed with it, so the page and the watches could not follow a story. Its
posts do not drift: the posts a pass showed as one story are still, mostly,
that story's posts an hour later. A topic of this pass takes the identity of
the previous topic whose posts it holds most of, when it holds at least
`LINK_SHARE` of them; two topics of this pass that hold one previous story
between them are that one story told two ways, and become one entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

# A topic continues a previous one when it holds this share of that one's posts (those
# still in what this pass read), at least `MIN_SHARED` of them. A third: a story's
# posts are still its posts an hour later (continuations hold most), while a topic
# that took a few of another's posts by centroid similarity holds a handful.
LINK_SHARE = 1 / 3
MIN_SHARED = 3


class Trace(msgspec.Struct, frozen=True):
    """What a pass remembers of a topic: its identity and its posts in the span."""

    id: str
    first_seen: datetime
    post_ids: frozenset[str]


def link(previous: Sequence[Trace], current: Sequence[frozenset[str]],
         read: frozenset[str] | None = None) -> list[int | None]:
    """For each current topic (its posts' ids), the index of the previous trace it
    continues, or None.

    `read`, when given, is every post id this pass read: a previous post that fell
    out of the read (past the baseline) cannot be held, and does not count against
    the share.
    """
    out: list[int | None] = []
    for ids in current:
        best, best_share = None, 0.0
        for j, trace in enumerate(previous):
            known = trace.post_ids if read is None else trace.post_ids & read
            shared = len(ids & known)
            if shared < MIN_SHARED:
                continue
            share = shared / len(known)
            if share > best_share:
                best, best_share = j, share
        out.append(best if best_share >= LINK_SHARE else None)
    return out


def stories(links: Sequence[int | None]) -> list[list[int]]:
    """Groups of current topics that are one story: those continuing the same previous
    trace (a story the last pass showed as one entry, now told two ways). A topic
    continuing none is its own group. Groups come in the order of their first topic."""
    groups: dict[tuple[str, int], list[int]] = {}
    for i, j in enumerate(links):
        groups.setdefault(("prev", j) if j is not None else ("new", i), []).append(i)
    return list(groups.values())


class Memory:
    """The traces of recent passes of one kind of call, for the next pass to continue.

    A trace is kept while its story was seen within `horizon_s` (the baseline: a
    story quiet longer than that is over, and its posts have left the read), and a
    pass only continues traces of earlier passes: replaying the past (`as_of` before
    the last pass) starts afresh rather than borrowing identities from the future.
    Not thread-safe; the owner locks.
    """

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self._seen: dict[str, tuple[float, Trace]] = {}

    def previous(self, as_of: float, horizon_s: float) -> list[Trace]:
        return [trace for seen, trace in self._seen.values() if as_of - horizon_s <= seen < as_of]

    def remember(self, as_of: float, traces: Sequence[Trace], horizon_s: float) -> None:
        for trace in traces:
            self._seen[trace.id] = (as_of, trace)
        stale = [k for k, (seen, _t) in self._seen.items() if seen < as_of - horizon_s]
        for key in stale:
            del self._seen[key]
        while len(self._seen) > self.limit:
            oldest = min(self._seen, key=lambda k: self._seen[k][0])
            del self._seen[oldest]
