"""Hot topics in what one call read: cluster the window, count against the baseline, explain.

Pure: the posts, their stored vectors and terms come in, `as_of` comes in,
topics go out; no store, no clock. `search.trends.service` reads the store and
caches; `eval-trends` replays a stream through the same service.

Steps, each in its own module:
1. bucket posts by age (`window`): bucket 0 is the window, then the baseline;
2. cluster the window's posts and merge clusters of one story (`cluster`);
3. every post read (window and baseline alike) belongs to its most similar
   topic when similar enough, so window and baseline are counted by one rule;
4. burst statistic per topic: window count against the baseline's median
   bucket (`window`); a topic needs `min_z` and a size relative to the posts
   no story claims (`size.min_size`: `min_share` of them, at least `min_posts`), in
   its span or, at that rate, in the newest window alone (`size.large_enough`);
5. growth over longer spans beside the span's size (`size.growing`): a story that
   doubles is found before it fills the span's bar;
6. one story, one entry across passes: topics holding one previous story's posts
   are one topic and keep its identity (`identity`);
7. independent voices: several wordings and authors (`evidence`);
8. the neighbourhood's own rhythm: the same span on previous days and weeks, read
   from the index's history (`rhythm`); the highest expectation is the one held to;
9. label by c-TF-IDF against the baseline (`naming`, `label`), representatives.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec
import numpy as np
import numpy.typing as npt

from search.models import Post
from search.rerank import Reranker
from search.trends import cluster, naming, stages, window
from search.trends.size import background_rise, min_size, size_rule
from search.trends.identity import Trace
from search.trends.models import Topic, TopicScore, TrendParams
from search.trends.naming import topic_id

__all__ = [
    "Corpus",
    "History",
    "Trace",
    "detect",
    "detect_traced",
    "topic_id",
]


class History(msgspec.Struct, frozen=True):
    """Posts of the earlier slots a topic's rhythm is read from (`rhythm.slots`): their
    dense vectors, label terms, and the slot (offset back from `as_of`, in seconds) each
    came from. Slots with no posts are simply absent: they count as zero."""

    dense: npt.NDArray[np.float32]
    terms: list[frozenset[str]]
    offset_s: npt.NDArray[np.int64]


class Corpus(msgspec.Struct, frozen=True):
    """What one call read, newest first: posts, their dense vectors, their label terms.

    `truncated` says the store held more posts in the span than were read: the
    oldest baseline buckets are then unknown rather than quiet.
    """

    posts: list[Post]
    ts: npt.NDArray[np.float64]
    dense: npt.NDArray[np.float32]
    terms: list[frozenset[str]]
    truncated: bool = False
    history: History | None = None


class _Seed(msgspec.Struct):
    members: npt.NDArray[np.int64]  # rows of the corpus in the window


def detect(corpus: Corpus, *, as_of: datetime, window_s: float, baseline_s: float,
           params: TrendParams, limit: int, reranker: Reranker | None = None,
           previous: Sequence[Trace] = ()) -> list[Topic]:
    """The hot topics as of `as_of`, best first (`detect_traced` without the traces)."""
    return detect_traced(corpus, as_of=as_of, window_s=window_s, baseline_s=baseline_s,
                         params=params, limit=limit, reranker=reranker, previous=previous)[0]


def detect_traced(corpus: Corpus, *, as_of: datetime, window_s: float, baseline_s: float,
                  params: TrendParams, limit: int, reranker: Reranker | None = None,
                  previous: Sequence[Trace] = ()) -> tuple[list[Topic], list[Trace]]:
    """The hot topics, and what the next pass needs to keep their identities: a trace of
    every topic that qualified (shown or past `limit`). `previous`: the last passes' traces."""
    p = params
    now = as_of.astimezone(UTC).timestamp()
    n_base = max(1, math.ceil(baseline_s / window_s))
    buckets = window.bucket_index(corpus.ts, now, window_s)
    in_window = np.flatnonzero((buckets >= 0) & (buckets < p.span_windows))[:p.max_cluster_posts]
    if len(in_window) < p.min_posts:
        return [], []
    known = _known_buckets(corpus, now, window_s, n_base)
    # Every similarity threshold below is on one cosine scale, whatever the model's own.
    raw = corpus.dense
    corpus = msgspec.structs.replace(corpus, dense=cluster.shrink_common(raw, p.dense_common))
    history = corpus.history
    lexical, history_lexical = cluster.lexical_rows(corpus.terms,
                                                    history.terms if history else ())
    rows = cluster.combine(corpus.dense, lexical, p.dense_weight)

    def rescore(members: npt.NDArray[np.int64]) -> TopicScore | None:
        return _score(corpus, members, buckets, n_base, known, window_s, p)

    hot, claimed = _topics(corpus, rows, buckets, in_window, rescore, p)
    hot, linked = stages.continue_stories(corpus, rows, buckets, hot, previous, rescore, p)
    need = min_size(buckets, claimed, known, p)
    if p.background_z:
        hot, linked = stages.against_background(
            hot, linked, background_rise(buckets, claimed, known, p), p)
    sized = []
    for (members, score, sims), trace in zip(hot, linked):
        rule = size_rule(window.bucket_counts(buckets[members], n_base + 1), need, p, window_s)
        if rule:
            sized.append(((members, msgspec.structs.replace(score, min_posts=need,
                                                            size_rule=rule), sims), trace))
    sized = stages.coherent(corpus, buckets, sized, p)
    sized = stages.enough_voices(corpus, buckets, sized, p, raw if p.voices_raw else None)
    hist_rows = None
    if history is not None and len(history.terms):
        hist_rows = cluster.combine(cluster.shrink_like(history.dense, raw, p.dense_common),
                                    history_lexical, p.dense_weight)
    sized = stages.against_rhythm(rows, hist_rows, history, buckets, sized, window_s,
                                  baseline_s, p)
    if not sized:
        return [], []
    hot = [h for h, _t in sized]
    labels = naming.labels(corpus, buckets, hot, p)
    lead = naming.lead_terms(corpus, buckets, n_base, known, labels, p)
    chosen: list[tuple[Scored, Trace | None, list[tuple[str, str]], tuple[str, float]]] = []
    for (h, t), lab, ld in zip(sized, labels, lead):
        if ld[1] < p.min_term_z:  # the cheap test first: the shares read every span post
            continue
        shares = _names_itself(corpus, buckets, h[0], lab, ld[0], p, continued=t is not None,
                               lead_z=ld[1])
        if shares is not None:
            members, score, sims = h
            chosen.append(((members, msgspec.structs.replace(
                score, label_share=shares[0], label_share_bar=shares[1]), sims), t, lab, ld))
    chosen.sort(key=lambda c: -c[0][1].z)
    topics, traces = [], []
    for rank, (h, trace, lab, ld) in enumerate(chosen):
        ident = trace.id if trace else topic_id([shown for _t, shown in lab])
        first = trace.first_seen if trace else as_of
        span_ids = frozenset(corpus.posts[i].id for i in h[0][buckets[h[0]] < p.span_windows])
        traces.append(Trace(id=ident, first_seen=first, post_ids=span_ids))
        if rank < limit:
            topics.append(naming.describe(corpus, buckets, h, lab, ld, n_base, now, window_s, p,
                                          reranker, topic_id_=ident, first_seen=first))
    return topics, traces


def _names_itself(corpus: Corpus, buckets: npt.NDArray[np.int64], members: npt.NDArray[np.int64],
                  label_: list[tuple[str, str]], lead: str, p: TrendParams,
                  continued: bool = False, lead_z: float = 0.0) -> tuple[float, float] | None:
    """`min_lead_share` of the span's posts use the lead term, and `min_label_share` one of
    the label's words (`stages.lead_share`; both off at 0): the label's share and the bar it
    was held to, or None when it falls short. On a topic's first pass (`continued` False: it
    continues no story shown before) whose lead term bursts at least `first_label_z` (`lead_z`),
    the label's bar is `first_label_share` where lower.

    Why a lower bar on the first pass: a story's first topic gathers its first posts, many
    of which do not yet use the names the story settles on (Alberta's first topic on
    crisislex6_overlap, "#abflood, alberta, calgary, #yycflood": 0.615 of its posts, held back
    an hour at 0.7), so it names itself less than the story will; from its second pass on it
    carries a story's identity and is held to the full bar, so chatter let through on its
    first pass is gone on the next (0030, session 17). Why only a name that bursts: the
    crowd's conversation that reaches a first-pass bar on crisislex6_forum ("thank, god,
    checking": 0.63-0.69) bursts with the crowd (lead z 10-14), a story's name from nothing
    (Alberta's "#abflood": z 44).
    """
    if p.min_lead_share and stages.lead_share(corpus, buckets, members, frozenset(
            t for t, shown in label_ if shown == lead) or frozenset([lead]), p) < p.min_lead_share:
        return None
    first = not continued and lead_z >= p.first_label_z
    bar = min(p.min_label_share, p.first_label_share) if first else p.min_label_share
    if not p.min_label_share:
        return 0.0, 0.0
    share = stages.lead_share(corpus, buckets, members, frozenset(t for t, _s in label_), p)
    return (round(share, 3), bar) if share >= bar else None


def _known_buckets(corpus: Corpus, now: float, window_s: float, n_base: int) -> int:
    """Baseline buckets the read covers; all of them unless the read was cut short."""
    if not corpus.truncated or not len(corpus.ts):
        return n_base
    covered = (now - float(corpus.ts.min())) / window_s - 1.0
    return max(0, min(n_base, int(math.floor(covered))))


Scored = stages.Scored


def _topics(corpus: Corpus, rows: cluster.Rows, buckets: npt.NDArray[np.int64],
            in_window: npt.NDArray[np.int64], rescore: stages.Rescore,
            p: TrendParams) -> tuple[list[Scored], npt.NDArray[np.bool_]]:
    """Hot topics at the `min_posts` floor, and which posts read some story claims."""
    labels = cluster.cluster(rows.take(in_window), p.cluster_similarity)
    seed_min = max(2, p.min_posts // 2)
    groups = [in_window[labels == c] for c in np.unique(labels)]
    groups = [g for g in groups if len(g) >= seed_min]
    if not groups:
        return [], np.zeros(len(buckets), dtype=bool)
    centres = cluster.centroids(rows, groups)
    merged = cluster.merge(centres, [len(g) for g in groups], p.merge_similarity)
    stories = [np.concatenate([groups[i] for i in m]) for m in merged]
    centres = cluster.centroids(rows, stories)
    sims = rows.similarity(centres)
    best = sims.argmax(axis=1)
    best_sim = sims[np.arange(len(best)), best]
    member = best_sim >= p.member_similarity
    hot: list[tuple[npt.NDArray[np.int64], TopicScore]] = []
    for c in range(len(stories)):
        members = np.flatnonzero(member & (best == c))
        score = rescore(members)
        if score is not None:
            hot.append((members, score))
    if len(hot) > 1:
        # Hot clusters of one story (its hashtags, its phrasings) become one topic.
        recent = [m[buckets[m] < p.span_windows] for m, _ in hot]
        joined = cluster.join_stories(
            cluster.dense_centroids(corpus.dense, recent),
            [Counter(t for i in r for t in corpus.terms[i]) for r in recent],
            [len(r) for r in recent], p.story_similarity, p.word_join_share)
        hot_all, hot = hot, []
        for group_ in joined:
            members = np.unique(np.concatenate([hot_all[i][0] for i in group_]))
            score = rescore(members)
            if score is not None:
                hot.append((members, score))
    return [(m, s, stages.centre_similarity(rows, buckets, m, p)) for m, s in hot], member


def _score(corpus: Corpus, members: npt.NDArray[np.int64], buckets: npt.NDArray[np.int64],
           n_base: int, known: int, window_s: float, p: TrendParams) -> TopicScore | None:
    """The topic's burst statistics, or None when it is not hot."""
    counts = window.bucket_counts(buckets[members], n_base + 1)
    span = p.span_windows
    observed = float(counts[:span].sum())
    if observed < p.min_posts:
        return None
    expected = span * window.expected_count(list(counts[span:]), max(0, known - span + 1),
                                            p.prior_per_bucket)
    z = window.burst_z(observed, expected, p.smoothing)
    if z < p.min_z:
        return None
    recent = [corpus.posts[i] for i in members if buckets[i] == 0]
    return TopicScore(
        posts_in_window=int(counts[0]), span_windows=span, posts_in_span=int(observed),
        expected=round(expected, 3), z=round(z, 3),
        poisson_tail=round(window.poisson_tail(observed, max(expected, p.smoothing)), 3),
        previous_window=int(counts[1]),
        growth=round(window.growth(float(counts[0]), float(counts[1])), 3),
        engagement_per_hour=_engagement_per_hour(recent, window_s),
        baseline_hours_known=round(known * window_s / 3600, 2))


def _engagement_per_hour(posts: list[Post], window_s: float) -> float | None:
    total = sum(p.likes + 2 * p.reposts + 2 * p.comments for p in posts)
    return round(total * 3600 / window_s, 3) if total else None
