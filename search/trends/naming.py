"""A hot topic's words, its lead term, its identity and its shown form.

Pure: the corpus, the buckets and the hot topics in; labels and `Topic`s out.
Split from `engine` so that the engine reads as the detection rules alone.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
import numpy as np
import numpy.typing as npt

from search.rerank import Reranker
from search.trends import label, represent, window
from search.trends.models import Topic, TopicScore, TrendParams

if TYPE_CHECKING:
    from search.trends.engine import Corpus

Scored = tuple[npt.NDArray[np.int64], TopicScore, npt.NDArray[np.float32]]


def labels(corpus: Corpus, buckets: npt.NDArray[np.int64], hot: Sequence[Scored],
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


def lead_terms(corpus: Corpus, buckets: npt.NDArray[np.int64], n_base: int, known: int,
               labels_: list[list[tuple[str, str]]], p: TrendParams) -> list[tuple[str, float]]:
    """Each label's most bursting term and its z over all posts read.

    Why: chatter ("thanks bro lol") clusters tightly and is new as a cluster every
    hour, but its words are everywhere in the baseline. A story brings words the
    baseline lacks ("boston", "#westtx"); a topic must have one in its label.
    """
    wanted = {t for terms in labels_ for t, _ in terms}
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
    for terms in labels_:
        best = max(((shown, z[t]) for t, shown in terms), key=lambda x: x[1], default=("", 0.0))
        out.append((best[0], round(best[1], 3)))
    return out


def describe(corpus: Corpus, buckets: npt.NDArray[np.int64], hot: Scored,
             terms: list[tuple[str, str]], lead: tuple[str, float], n_base: int, now: float,
             window_s: float, p: TrendParams, reranker: Reranker | None, *,
             topic_id_: str, first_seen: datetime) -> Topic:
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
        id=topic_id_, label=text, terms=shown, score=score.z, explain=explain,
        post_count=len(members), representatives=reps, representative_method=method,
        series=series, series_start=start, bucket_seconds=int(window_s), first_seen=first_seen)


def topic_id(terms: Sequence[str]) -> str:
    """A new story's identity: the hash of its top three terms, sorted. Later passes
    keep it while the story's posts do (`identity`), whatever its label becomes."""
    key = "|".join(sorted(t.lstrip("#") for t in terms[:3]))
    return "t-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
