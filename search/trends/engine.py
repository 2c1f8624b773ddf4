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
   no story claims (`min_size`: `min_share` of them, at least `min_posts`), in
   its span or, at that rate, in the newest window alone (`large_enough`);
5. label by c-TF-IDF against the baseline (`label`), representatives (`represent`).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec
import numpy as np
import numpy.typing as npt
from scipy import sparse as sp

from search.models import Post
from search.rerank import Reranker
from search.trends import cluster, label, represent, window
from search.trends.models import Topic, TopicScore, TrendParams


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


class _Seed(msgspec.Struct):
    members: npt.NDArray[np.int64]  # rows of the corpus in the window


def lexical_rows(terms: Sequence[frozenset[str]]) -> sp.csr_matrix:
    """Unit-length TF-IDF rows (binary term frequency, smoothed idf over the corpus)."""
    vocab: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    for doc in terms:
        for term in doc:
            indices.append(vocab.setdefault(term, len(vocab)))
        indptr.append(len(indices))
    n = len(terms)
    rows = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                         shape=(n, max(len(vocab), 1)))
    df = np.bincount(np.asarray(indices, dtype=np.int64), minlength=rows.shape[1])
    idf = np.log((1.0 + n) / (1.0 + df)).astype(np.float32) + 1.0
    rows = rows @ sp.diags(idf)
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(1.0 / np.maximum(norms, 1e-12)) @ rows, dtype=np.float32)


def detect(corpus: Corpus, *, as_of: datetime, window_s: float, baseline_s: float,
           params: TrendParams, limit: int, reranker: Reranker | None = None) -> list[Topic]:
    p = params
    now = as_of.astimezone(UTC).timestamp()
    n_base = max(1, math.ceil(baseline_s / window_s))
    buckets = window.bucket_index(corpus.ts, now, window_s)
    in_window = np.flatnonzero((buckets >= 0) & (buckets < p.span_windows))[:p.max_cluster_posts]
    if len(in_window) < p.min_posts:
        return []
    known = _known_buckets(corpus, now, window_s, n_base)
    # Every similarity threshold below is on one cosine scale, whatever the model's own.
    corpus = msgspec.structs.replace(corpus, dense=cluster.shrink_common(corpus.dense,
                                                                         p.dense_common))
    rows = cluster.combine(corpus.dense, lexical_rows(corpus.terms), p.dense_weight)
    hot, claimed = _topics(corpus, rows, buckets, in_window, n_base, known, window_s, p)
    need = min_size(buckets, claimed, known, p)
    hot = [(m, msgspec.structs.replace(s, min_posts=need), sims) for m, s, sims in hot
           if large_enough(window.bucket_counts(buckets[m], p.span_windows), need)]
    if not hot:
        return []
    labels = _labels(corpus, buckets, hot, p)
    lead = _lead_terms(corpus, buckets, n_base, known, labels, p)
    chosen = [(h, lab, ld) for h, lab, ld in zip(hot, labels, lead) if ld[1] >= p.min_term_z]
    chosen.sort(key=lambda c: -c[0][1].z)
    return [_describe(corpus, buckets, h, lab, ld, n_base, now, window_s, p, reranker)
            for h, lab, ld in chosen[:limit]]


def _known_buckets(corpus: Corpus, now: float, window_s: float, n_base: int) -> int:
    """Baseline buckets the read covers; all of them unless the read was cut short."""
    if not corpus.truncated or not len(corpus.ts):
        return n_base
    covered = (now - float(corpus.ts.min())) / window_s - 1.0
    return max(0, min(n_base, int(math.floor(covered))))


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
    """
    if not len(buckets):
        return p.min_posts
    covered = min(int(buckets.max()), known) + 1
    usual = float(np.median(window.bucket_counts(buckets[~claimed], covered)))
    # Less a hair: 0.1 * 3 * 30 is 9.000000000000002 in floating point, and needs 9 posts.
    return max(p.min_posts, math.ceil(p.min_share * p.span_windows * usual - 1e-9))


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


Scored = tuple[npt.NDArray[np.int64], TopicScore, npt.NDArray[np.float32]]


def _topics(corpus: Corpus, rows: cluster.Rows, buckets: npt.NDArray[np.int64],
            in_window: npt.NDArray[np.int64], n_base: int, known: int, window_s: float,
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
        score = _score(corpus, members, buckets, n_base, known, window_s, p)
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
            score = _score(corpus, members, buckets, n_base, known, window_s, p)
            if score is not None:
                hot.append((members, score))
    out = []
    for members, score in hot:
        centre = cluster.centroids(rows, [members[buckets[members] < p.span_windows]])
        out.append((members, score, rows.similarity(centre).ravel()))
    return out, member


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


def _labels(corpus: Corpus, buckets: npt.NDArray[np.int64], hot: list[Scored],
            p: TrendParams) -> list[list[tuple[str, str]]]:
    """Each topic's top terms by c-TF-IDF of its window posts against the baseline's
    posts that belong to no topic (a topic's own past is not its background)."""
    taken = np.zeros(len(corpus.posts), dtype=bool)
    classes: list[Counter[str]] = []
    sizes = []
    for members, _score, _sims in hot:
        recent = members[buckets[members] < p.span_windows]
        classes.append(Counter(t for i in recent for t in corpus.terms[i]))
        sizes.append(len(recent))
        taken[members] = True
    background: Counter[str] = Counter()
    rest = np.flatnonzero(~taken & (buckets > 0))
    for i in rest:
        background.update(corpus.terms[i])
    weights = label.class_tfidf(classes, sizes, background, len(rest))
    out = []
    for (members, _score, _sims), w, counts in zip(hot, weights, classes):
        recent = members[buckets[members] < p.span_windows]
        forms = label.surface_forms(corpus.posts[i].text for i in recent[:400])
        out.append(label.top_terms(w, forms, p.label_terms, counts))
    return out


def _lead_terms(corpus: Corpus, buckets: npt.NDArray[np.int64], n_base: int, known: int,
                labels: list[list[tuple[str, str]]], p: TrendParams) -> list[tuple[str, float]]:
    """Each label's most bursting term and its z over all posts read.

    Why: chatter ("thanks bro lol") clusters tightly and is new as a cluster every
    hour, but its words are everywhere in the baseline. A story brings words the
    baseline lacks ("boston", "#westtx"); a topic must have one in its label.
    """
    wanted = {t for terms in labels for t, _ in terms}
    rows: dict[str, list[int]] = {t: [] for t in wanted}
    for i, doc in enumerate(corpus.terms):
        for t in doc & wanted if wanted else ():
            rows[t].append(i)
    z: dict[str, float] = {}
    for t, idx in rows.items():
        counts = window.bucket_counts(buckets[np.asarray(idx, dtype=np.int64)], n_base + 1)
        span = p.span_windows
        expected = span * window.expected_count(list(counts[span:]), max(0, known - span + 1),
                                                p.prior_per_bucket)
        z[t] = window.burst_z(float(counts[:span].sum()), expected, p.smoothing)
    out = []
    for terms in labels:
        best = max(((shown, z[t]) for t, shown in terms), key=lambda x: x[1], default=("", 0.0))
        out.append((best[0], round(best[1], 3)))
    return out


def _describe(corpus: Corpus, buckets: npt.NDArray[np.int64], hot: Scored,
              terms: list[tuple[str, str]], lead: tuple[str, float], n_base: int, now: float,
              window_s: float, p: TrendParams, reranker: Reranker | None) -> Topic:
    members, score, sims = hot
    shown = [s for _t, s in terms]
    text = ", ".join(shown)
    # The span's posts, then the earlier ones (each once: the span's older windows are not
    # "earlier" again, or a post would stand as its own copy).
    in_span = buckets[members] < p.span_windows
    order = np.concatenate([members[in_span], members[~in_span]])
    reps, method = represent.choose(
        [corpus.posts[i] for i in order], [float(sims[i]) for i in order], corpus.dense[order],
        k=p.representatives, label=text, reranker=reranker,
        recent=[bool(buckets[i] < p.span_windows) for i in order])
    series = window.bucket_counts(buckets[members], n_base + 1)[::-1].astype(int).tolist()
    start = datetime.fromtimestamp(now - (n_base + 1) * window_s, UTC)
    explain = msgspec.structs.replace(score, lead_term=lead[0], lead_term_z=lead[1])
    return Topic(
        id=topic_id(shown), label=text, terms=shown, score=score.z, explain=explain,
        post_count=len(members), representatives=reps, representative_method=method,
        series=series, series_start=start, bucket_seconds=int(window_s))


def topic_id(terms: Sequence[str]) -> str:
    """Stable while a story's leading terms hold: the hash of its top three, sorted."""
    key = "|".join(sorted(t.lstrip("#") for t in terms[:3]))
    return "t-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
