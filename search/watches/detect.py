"""The burst trigger, pure: a watch's matches in, whether it is hot (and why) out.

1. Each match gets its evidence (`relevance`): the dense z against the watch's
   calibration and the lexical share; loosely related posts do not count.
2. Counting posts per window back from `now`, copies of one text once, and
   each post only for the watches it is nearest to (`Match.behind`): the
   newest window is *observed*; the median window of the baseline is
   *expected* (the median, not the mean, so a story that ran for a few of the
   baseline's hours does not raise the bar for the next one). Windows in which
   nothing at all arrived (before the first post, a feed that was down, a
   collection that starts after weeks of silence) are unknown, not quiet: they
   are left out, and with fewer than `min_known_windows` known a burst is not
   judged (a feed's first hour says nothing about what is usual).
3. Hot = at least `min_posts` (more on a busy feed: `traffic_share` of its usual
   window), a Poisson z of at least `min_z`, and the top
   posts *grounded*: at least half of the posts that would be shown hold more
   than one average query term's weight (roughly two of its words). Why: stories
   of one kind move together in meaning and share a word (every disaster is
   near "earthquake and tsunami in Japan"; the Alberta floods are "flooding",
   but not "in Queensland"; a hurricane closes schools, which is not "shooting
   at a school"). A desk that asked for two things expects posts that name
   both, and precision is judged on the posts shown. Counting stays looser (one
   word and a close meaning), so the burst is measured on all of the story.

Episodes (`episode_active`): once a watch fired, its burst goes on while the
window stays above the baseline it fired against (frozen at that moment, since
the story soon fills the rolling one); after `quiet_hours` without that, a new
burst is a new alert.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import msgspec
import numpy as np

from search.watches import relevance
from search.watches.models import BurstTrigger, Match
from search.watches.relevance import Calibration, RelevanceRule

__all__ = ["Burst", "DetectParams", "Evidence", "assess", "episode_active", "evidence"]


class DetectParams(msgspec.Struct, frozen=True):
    """Knobs not offered per watch; defaults chosen by `eval-alerts` (decision 0026)."""

    # A top post is grounded when it holds more than one average query term's weight
    # (`relevance`: roughly two of the query's words, IDF-weighted) ...
    ground_terms: float = 1.2
    # ... and a burst fires when this share of its top posts are grounded.
    ground_share: float = 0.5
    # Posts shown with an alert (and judged for grounding).
    top_posts: int = 10
    # A running episode stays open while its window's z against the frozen baseline holds this.
    active_z: float = 2.0
    # A post counts only for the watches it is nearest to (`Match.behind` at most this): with
    # several watches, a post about one story does not swell a look-alike's count.
    max_behind: float = 0.0
    # Baseline windows with traffic needed before a burst can be judged at all.
    min_known_windows: int = 3
    # A burst needs this share of the feed's usual posts per window (its median window
    # with traffic), and `BurstTrigger.min_posts` at least: a busy feed brings
    # coincidences of a few posts every hour, a thin one does not.
    traffic_share: float = 0.05
    # ... of the busier of the usual window and the newest one: coincidences come with the
    # posts arriving now (a quiet forum flooded by another story's posts).
    traffic_now: bool = False
    # A query term is *moving* when the window's posts holding it stand this Poisson z above
    # its own baseline median (the bar a running episode must hold: clearly above usual).
    # Shown posts are ranked, and grounded, by the moving terms they hold (`moving_terms`).
    term_z: float = 2.0
    # Rank and ground the shown posts on moving terms (off: on all of the query's terms).
    rank_moving: bool = True


class Evidence(msgspec.Struct, frozen=True):
    post_id: str
    created_ts: float
    dense: float
    z: float
    lexical: float
    copy: int
    score: float
    terms: float = 0.0
    # Which of the query's terms the post holds (`Match.terms_mask`).
    mask: int = 0
    # The share of `terms` in moving terms (`moving_terms`); -1: not judged (no weights).
    moving: float = -1.0


class Burst(msgspec.Struct, frozen=True):
    observed: int
    expected: float
    z: float
    top: list[Evidence]
    grounded: float
    known_windows: int
    # Posts the window needed: `min_posts`, or more on a busy feed.
    needed: int = 0

    def hot(self, trigger: BurstTrigger, params: DetectParams) -> bool:
        return (self.observed >= max(trigger.min_posts, self.needed)
                and self.z >= trigger.min_z and self.grounded >= params.ground_share)


def evidence(matches: Sequence[Match], calibration: Calibration | None,
             rule: RelevanceRule, dense_trusted: bool = True,
             query_terms: int = 1, max_behind: float = 0.0) -> list[Evidence]:
    """The matches that count for the watch, with their evidence; `terms` in average
    query terms (`relevance`)."""
    out = []
    for m in matches:
        if m.behind > max_behind:
            continue
        z = relevance.z_score(m.dense, calibration) if dense_trusted else 0.0
        if relevance.counts(z, m.lexical * query_terms, rule):
            out.append(Evidence(post_id=m.post_id, created_ts=m.created_ts, dense=m.dense, z=z,
                                lexical=m.lexical, copy=m.copy,
                                score=relevance.score(z, m.lexical * query_terms),
                                terms=m.lexical * query_terms, mask=m.terms_mask))
    return out


def burst_z(observed: float, expected: float) -> float:
    """(observed - expected) / sqrt(expected + 1): a Poisson z, finite with no history."""
    return (observed - expected) / math.sqrt(max(expected, 0.0) + 1.0)


def assess(counted: Sequence[Evidence], *, now_ts: float, trigger: BurstTrigger,
           traffic: Mapping[int, int] | None, params: DetectParams,
           slot_s: float = 600.0, weights: Sequence[float] | None = None) -> Burst:
    """The newest window against the baseline, for evidence already filtered by `evidence`.

    `traffic`: posts ingested per slot (`slot_s` seconds, slot = ts // slot_s); baseline
    windows without any are unknown (None: every window is known). `weights`: each query
    term's weight (`Percolator.term_weights`, in `Evidence.mask` bit order); with them the
    shown posts are ranked and grounded by the terms that are moving (`moving_terms`).
    """
    window = trigger.window_minutes * 60.0
    n_base = max(1, int(trigger.baseline_hours * 3600 // window))
    per_bucket: dict[int, set[int]] = {}
    recent: list[Evidence] = []
    for e in counted:
        age = now_ts - e.created_ts
        if age < 0:
            continue
        bucket = int(age // window)
        if bucket > n_base:
            continue
        per_bucket.setdefault(bucket, set()).add(e.copy)
        if bucket == 0:
            recent.append(e)
    volume = {} if traffic is None else _volume(traffic, now_ts, window, n_base, slot_s)
    current = volume.pop(0, 0)
    known_windows = list(range(1, n_base + 1)) if traffic is None else sorted(volume)
    base = [len(per_bucket.get(b, ())) for b in known_windows]
    expected = float(np.median(base)) if base else 0.0
    observed = len(per_bucket.get(0, ()))
    z = burst_z(observed, expected) if len(base) >= params.min_known_windows else float("-inf")
    if weights and params.rank_moving:
        moving = moving_terms(counted, now_ts=now_ts, window=window,
                              known=known_windows, n_terms=len(weights),
                              term_z=params.term_z)
        recent = [_on_moving(e, moving, weights) for e in recent]
    top = best_distinct(recent, params.top_posts)
    grounded = (sum(_grounded(e, params) for e in top) / len(top)) if top else 0.0
    usual = float(np.median(list(volume.values()))) if volume else 0.0
    if params.traffic_now:
        usual = max(usual, float(current))
    needed = max(trigger.min_posts, math.ceil(params.traffic_share * usual - 1e-9))
    return Burst(observed=observed, expected=expected, z=round(z, 3) if z > -1e9 else -1e9,
                 top=top, grounded=round(grounded, 3), known_windows=len(base), needed=needed)


def _volume(traffic: Mapping[int, int], now_ts: float, window: float, n_base: int,
            slot_s: float) -> dict[int, int]:
    """Posts per window (0 = the newest, 1 = the one before), for windows with any."""
    out: dict[int, int] = {}
    for slot, posts in traffic.items():
        age = now_ts - (slot + 0.5) * slot_s
        bucket = int(age // window) if age >= 0 else -1
        if posts > 0 and 0 <= bucket <= n_base:
            out[bucket] = out.get(bucket, 0) + posts
    return out


def moving_terms(counted: Sequence[Evidence], *, now_ts: float, window: float,
                 known: Sequence[int], n_terms: int, term_z: float) -> set[int]:
    """The query terms (bit numbers) arriving clearly faster than usual in the newest window.

    Why: a query's rarest words are not always the story's. "hurricane hitting New York and
    New Jersey": check-ins "I'm at ... (New York, NY)" hold its rarest words every hour of
    the year, while "hurricane", the word that moves when the storm comes, is common by
    then. Each term is counted like the burst itself (distinct texts of the watch's counted
    posts, per window, against its median over the known baseline windows); a term held by
    at least 2 texts of the window and `term_z` above its own baseline is moving.
    """
    windows: dict[int, list[set[int]]] = {}
    for e in counted:
        age = now_ts - e.created_ts
        if age < 0 or not e.mask:
            continue
        bucket = int(age // window)
        sets = windows.setdefault(bucket, [set() for _ in range(n_terms)])
        for k in range(n_terms):
            if e.mask >> k & 1:
                sets[k].add(e.copy)
    empty: list[set[int]] = [set() for _ in range(n_terms)]
    out = set()
    for k in range(n_terms):
        observed = len(windows.get(0, empty)[k])
        base = [len(windows.get(b, empty)[k]) for b in known]
        expected = float(np.median(base)) if base else 0.0
        if observed >= 2 and burst_z(observed, expected) >= term_z:
            out.add(k)
    return out


def _grounded(e: Evidence, params: DetectParams) -> bool:
    """Names the story in the desk's words (more than one average query term), and, where
    terms are judged, with a word that is moving now."""
    return e.terms >= params.ground_terms and (e.moving < 0 or e.moving > 0)


def _on_moving(e: Evidence, moving: set[int], weights: Sequence[float]) -> Evidence:
    """The evidence as shown: its moving terms (same unit as `terms`, average query terms)
    and its score on those."""
    total = sum(weights)
    held = sum(w for k, w in enumerate(weights) if k in moving and e.mask >> k & 1)
    terms = held / total * len(weights) if total > 0 else 0.0
    return msgspec.structs.replace(e, moving=terms, score=relevance.score(e.z, terms))


def best_distinct(items: Sequence[Evidence], k: int) -> list[Evidence]:
    """The best `k` by score, one per copy group (ties: newer first, then id)."""
    seen: set[int] = set()
    out = []
    for e in sorted(items, key=lambda e: (-e.score, -e.created_ts, e.post_id)):
        if e.copy in seen:
            continue
        seen.add(e.copy)
        out.append(e)
        if len(out) == k:
            break
    return out


def episode_active(burst: Burst, frozen_expected: float, params: DetectParams) -> bool:
    """Whether a running episode goes on: the window still well above the baseline it
    fired against."""
    return burst.observed >= 2 and burst_z(burst.observed, frozen_expected) >= params.active_z
