"""How large a topic must be: relative to the background, with a newest-window rule and
a growth test (docs/decisions/0018-trends-size-rule.md, 0030-trends-on-unseen-streams.md).

Pure: bucket indexes and counts in, sizes out.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from search.trends import window
from search.trends.models import TrendParams


def min_size(buckets: npt.NDArray[np.int64], claimed: npt.NDArray[np.bool_], known: int,
             p: TrendParams) -> int:
    """Posts a topic needs in the span: `min_share` of what the background (posts read
    that no story of this window claims) usually brings in as many windows, and at
    least `min_posts`.

    Why relative: chatter forms bursting clusters in proportion to the background's
    volume (5-40 posts in 3 h at ~125 chatter posts an hour), while a thin stream's
    real story posts a few times an hour; one fixed size either floods the busy stream
    or delays the thin one. Why the background and not all posts: stories that overlap
    would raise each other's bar (all posts read: overlap stream delay 2.4-3.4 h).
    "Usually" is the median count per window since the oldest post read: windows
    before it (an index that just started, a quiet gap) say nothing about the volume.

    With `background_now`, "usually" is never less than the span's own unclaimed posts
    per window: when a crowd that was not there before starts posting (a crisis's
    bystanders arrive on a quiet forum), its chatter clusters in proportion to what it
    brings now, not to the quiet days before it (crisislex6_forum: chatter of 6-30 posts
    against a bar of 6, docs/decisions/0030-trends-on-unseen-streams.md).
    """
    if not len(buckets):
        return p.min_posts
    covered = min(int(buckets.max()), known) + 1
    counts = window.bucket_counts(buckets[~claimed], covered)
    usual = float(np.median(counts))
    if p.background_now:
        # The background of the span itself, when it brings more than usual (see above).
        usual = max(usual, float(counts[:p.span_windows].mean()))
    # Less a hair: 0.1 * 3 * 30 is 9.000000000000002 in floating point, and needs 9 posts.
    return max(p.min_posts, math.ceil(p.min_share * p.span_windows * usual - 1e-9))


def background_rise(buckets: npt.NDArray[np.int64], claimed: npt.NDArray[np.bool_], known: int,
                    p: TrendParams) -> float:
    """How many times its usual window the span's unclaimed posts bring per window (at
    least 1): the factor a topic's expected count is raised by with `background_z`.

    Why: a community's conversation ("thank god you're safe", "lol yeah") grows with the
    crowd that posts it, so when the crowd doubles its clusters double too and burst
    against their own quiet past; their share of what is posted does not change. A story's
    does. Unclaimed posts only, so a story does not raise its own expectation.
    """
    if not len(buckets):
        return 1.0
    covered = min(int(buckets.max()), known) + 1
    counts = window.bucket_counts(buckets[~claimed], covered)
    usual = float(np.median(counts))
    now = float(counts[:p.span_windows].mean())
    return max(1.0, now / usual) if usual > 0 else 1.0


def large_enough(recent: npt.NDArray[np.float64], need: int) -> bool:
    """Whether a topic is big enough: `need` posts in its span (`recent`: counts of the
    span's windows, newest first), or `need / span` in the newest window alone.

    Why the second way: `need` is what chatter brings in a whole span, while a story
    that broke within the hour has had one window to gather posts; holding it to the
    span's count delays it by up to a span (overlap stream: Alberta's first hour held
    42 posts against a 74-post span bar, found one checkpoint later). A topic passing
    this way is as dense as the bar, only newer; steady chatter that dense passes
    the span count anyway.
    """
    span = len(recent)
    return bool(recent.sum() >= need or recent[0] * span >= need)


def growing(counts: npt.NDArray[np.float64], need: int, span: int, doublings: int) -> int:
    """Windows of the stretch (2^`doublings` spans) over which a topic below the span's bar
    doubled and doubled again, when it has half the bar in its span; 0 when not.
    `counts`: the topic's posts per window, newest first.

    Doubling at every scale: the newer half of the stretch holds at least twice the
    older half, and so does the newer half's newer half, down to two spans.

    Why: a slow disaster (a wildfire, a flood that rises for days) posts a little more
    every hour and crosses a one-span bar late, though it has doubled and doubled again.
    Such a topic, with half the bar in its span, will hold the bar within the next span
    if it keeps growing: it is reported a span early, on that forecast. Why so strict:
    chatter about the news grows with the news; on crisislex6_sparse (LSA proxy) a
    looser test (the bar over 6-24 h, one doubling) admitted 14 topics, 10 of them chatter
    (P@10 0.974 -> 0.911). A steady thing that began 12 h ago "doubled" once (from
    nothing), not again.
    """
    if doublings < 1 or 2 * counts[:span].sum() < need:
        return 0
    length = span * 2 ** doublings
    if len(counts) < length:
        return 0
    halves = (span * 2 ** j for j in range(1, doublings + 1))
    doubled = all(counts[:h // 2].sum() >= 2 * counts[h // 2:h].sum() for h in halves)
    return length if doubled else 0


def size_rule(counts: npt.NDArray[np.float64], need: int, p: TrendParams, window_s: float) -> str:
    """How a topic (its posts per window, newest first) is large enough, or "" if not."""
    span = p.span_windows
    if counts[:span].sum() >= need:
        return "span"
    if large_enough(counts[:span], need):
        return "newest window"
    length = growing(counts, need, span, p.growth_doublings)
    return f"growth over {length * window_s / 3600:g} h" if length else ""
