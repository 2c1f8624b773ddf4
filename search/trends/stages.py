"""The engine's checks after clustering: one story across passes, independent voices,
the neighbourhood's rhythm. Each takes the hot topics and returns those that stay.

Pure: numbers and posts in, topics out. The reasons for each rule are in its module
(`identity`, `evidence`, `rhythm`); here they are applied to the engine's topics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import msgspec
import numpy as np
import numpy.typing as npt

from search.trends import cluster, evidence, identity, rhythm, window
from search.trends.identity import Trace
from search.trends.models import TopicScore, TrendParams

if TYPE_CHECKING:
    from search.trends.engine import Corpus, History

Scored = tuple[npt.NDArray[np.int64], TopicScore, npt.NDArray[np.float32]]
Rescore = Callable[[npt.NDArray[np.int64]], TopicScore | None]
Linked = tuple[Scored, Trace | None]


def in_span(members: npt.NDArray[np.int64], buckets: npt.NDArray[np.int64],
            p: TrendParams) -> npt.NDArray[np.int64]:
    return members[buckets[members] < p.span_windows]


def centre_similarity(rows: cluster.Rows, buckets: npt.NDArray[np.int64],
                      members: npt.NDArray[np.int64], p: TrendParams) -> npt.NDArray[np.float32]:
    """Every post's similarity to the centroid of the topic's posts in the span."""
    centre = cluster.centroids(rows, [in_span(members, buckets, p)])
    return rows.similarity(centre).ravel()


def continue_stories(corpus: Corpus, rows: cluster.Rows, buckets: npt.NDArray[np.int64],
                     hot: Sequence[tuple[npt.NDArray[np.int64], TopicScore,
                                         npt.NDArray[np.float32]]],
                     previous: Sequence[Trace], rescore: Rescore,
                     p: TrendParams) -> tuple[list[Scored], list[Trace | None]]:
    """Topics that continue one previous story become one topic, linked to its trace."""
    if not previous or not hot:
        return list(hot), [None] * len(hot)
    read = frozenset(post.id for post in corpus.posts)
    ids = [frozenset(corpus.posts[i].id for i in members) for members, _s, _x in hot]
    links = identity.link(previous, ids, read)
    out: list[Scored] = []
    traces: list[Trace | None] = []
    for group in identity.stories(links):
        trace = previous[links[group[0]]] if links[group[0]] is not None else None  # type: ignore[index]
        if len(group) == 1:
            out.append(hot[group[0]])
            traces.append(trace)
            continue
        members = np.unique(np.concatenate([hot[i][0] for i in group]))
        score = rescore(members)
        if score is not None:
            out.append((members, score, centre_similarity(rows, buckets, members, p)))
            traces.append(trace)
    return out, traces


def cohesion(dense: npt.NDArray[np.float32]) -> float:
    """Mean pairwise cosine of unit rows (1.0 for fewer than two).

    Why pairwise and not member-to-centroid: the centroid contains each member, so its
    cosine to them rises as a topic shrinks (a pair always reads at least 0.7); the
    pairwise mean, from the rows' sum, reads the same for a thin story and a busy one.
    """
    n = len(dense)
    if n < 2:
        return 1.0
    total = dense.astype(np.float64).sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))


def against_background(hot: Sequence[Scored], linked: Sequence[Trace | None], rise: float,
                       p: TrendParams) -> tuple[list[Scored], list[Trace | None]]:
    """Topics still hot when their expected count rises with the unclaimed posts (`rise`,
    `size.background_rise`; the reason is there)."""
    out: list[Scored] = []
    traces: list[Trace | None] = []
    for (members, score, sims), trace in zip(hot, linked):
        expected = score.expected * rise
        z = window.burst_z(float(score.posts_in_span), expected, p.smoothing)
        if z >= p.min_z:
            out.append((members, msgspec.structs.replace(score, expected=round(expected, 3),
                                                         z=round(z, 3)), sims))
            traces.append(trace)
    return out, traces


def coherent(corpus: Corpus, buckets: npt.NDArray[np.int64], hot: Sequence[Linked],
             p: TrendParams) -> list[Linked]:
    """Topics whose span posts mean `min_cohesion` pairwise dense cosine (shrunk vectors).

    Why: at a loose clustering (`cluster_similarity` 0.25, which thin streams need to
    seed a story from its first posts) conversation joins on its common words ("thank,
    god, okay", "lol, yeah, know") through the term half of the similarity; its posts
    are about many things, so their meanings scatter, while a story's posts are about
    one. Size, the lead term's burst and voices do not separate the two (0030).
    """
    out = []
    for (members, score, sims), trace in hot:
        recent = in_span(members, buckets, p)
        value = cohesion(corpus.dense[recent])
        if value >= p.min_cohesion:
            score = msgspec.structs.replace(score, cohesion=round(value, 3))
            out.append(((members, score, sims), trace))
    return out


def enough_voices(corpus: Corpus, buckets: npt.NDArray[np.int64], hot: Sequence[Linked],
                  p: TrendParams, raw: npt.NDArray[np.float32] | None = None) -> list[Linked]:
    """Topics carried by `min_voices` distinct wordings (and authors, where known);
    near-copies judged on `raw` (the model's own vectors) where given (`voices_raw`)."""
    dense = corpus.dense if raw is None else raw
    out = []
    for (members, score, sims), trace in hot:
        recent = in_span(members, buckets, p)
        # Best-matching posts first: near-copies collapse into the post the topic is about.
        recent = recent[np.argsort(-sims[recent], kind="stable")]
        found = evidence.count([corpus.posts[i] for i in recent], dense[recent],
                               enough=max(p.min_voices, evidence.SHOWN))
        if evidence.sufficient(found, p.min_voices):
            score = msgspec.structs.replace(score, wordings=found.wordings, authors=found.authors)
            out.append(((members, score, sims), trace))
    return out


def lead_share(corpus: Corpus, buckets: npt.NDArray[np.int64], members: npt.NDArray[np.int64],
               terms: frozenset[str], p: TrendParams) -> float:
    """The share of a topic's span posts that use one of `terms`: its lead term
    (`min_lead_share`) or its label's words (`min_label_share`).

    Why: a story's posts name it ("sandy", "#yycflood"), so the word that bursts is in
    most of them. Conversation that a loose clustering (`cluster_similarity` 0.25-0.28)
    joins on meaning ("thank god you're safe", "lol yeah") bursts with the crowd that
    posts it, and its most bursting word is in a few of its posts: the topic is held
    together by no name. Size, the lead term's z and voices do not separate the two
    (0030). Measured on crisislex6_real at cluster 0.27: the lead term at 0.3, P@10
    0.886 -> 0.913; any label word at 0.8, 0.948 (the label counts a story's several names).
    """
    recent = in_span(members, buckets, p)
    if not len(recent):
        return 0.0
    return sum(not terms.isdisjoint(corpus.terms[i]) for i in recent) / len(recent)


def against_rhythm(rows: cluster.Rows, history_rows: cluster.Rows | None,
                   history: History | None, buckets: npt.NDArray[np.int64],
                   hot: Sequence[Linked], window_s: float, baseline_s: float,
                   p: TrendParams) -> list[Linked]:
    """Topics still hot against the highest of their expectations: the baseline's median
    window and their neighbourhood's median in the same span on previous days and weeks."""
    span_s = p.span_windows * window_s
    slots = rhythm.slots(span_s, p.rhythm_days, p.rhythm_weeks)
    counts: list[dict[int, float]] = [{} for _ in hot]
    if history_rows is not None and history is not None and slots and hot and len(history_rows):
        centres = cluster.centroids(rows, [in_span(m, buckets, p) for (m, _s, _x), _t in hot])
        counts = rhythm.neighbourhood_counts(history_rows.similarity(centres), history.offset_s,
                                             p.member_similarity)
    elif history is None:
        slots = []
    out = []
    for ((members, score, sims), trace), by_offset in zip(hot, counts):
        beat = rhythm.expectation(by_offset, slots)
        expected = max(score.expected, beat.expected)
        z = window.burst_z(float(score.posts_in_span), expected, p.smoothing)
        if z < p.min_z:
            continue
        score = msgspec.structs.replace(
            score, expected=round(expected, 3), z=round(z, 3),
            poisson_tail=round(window.poisson_tail(float(score.posts_in_span),
                                                   max(expected, p.smoothing)), 3),
            expected_window=score.expected, expected_daily=beat.daily,
            expected_weekly=beat.weekly,
            compared_with=rhythm.describe(score.expected, beat, span_s / 3600, baseline_s / 3600))
        out.append(((members, score, sims), trace))
    return out
