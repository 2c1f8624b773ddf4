"""Trending's gate: which candidates are *about* the query, by the rule a watch counts posts with.

Why the watches' rule (`search.watches.relevance`) and not the match rule of `search.matching`:
the match rule's dense half is one cosine threshold per model (e5: 0.84, chosen on crisislex6),
and its lexical half asks for every required term. On `trending_reddit_public` that gate is
loose where it matters: a query's topic words are common on a forum ("covid on campus": any
covid word), and a fixed cosine means something else for every query. The watches' rule is
relative to the query itself: the dense evidence is a z of the post's cosine against the
query's cosines to recent posts that hold none of its words (median and 1.4826 x MAD), the
lexical evidence the IDF-weighted share of the query's words the post holds, in average query
terms. One definition of "counts for this query" then serves watches and trending alike, with
the bars chosen on the alert streams (decision 0026), not on the trending set.

Everything is read from the index (stored vectors; nothing re-embedded): one read of up to
`SAMPLE_POSTS` recent vectors per minute (shared by every query), one of the candidates' vectors.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from search.models import SparseVector
from search.store.base import Store
from search.store.payload import point_id
from search.watches.relevance import (
    LEVELS,
    MIN_SAMPLE,
    Calibration,
    RelevanceRule,
    calibrate,
    counts,
    idf,
)

# What the calibration reads, as a watch's periodic pass does (`search.watches.service`):
# the posts of the last two days, or, when they are too few, the newest of any age.
SAMPLE_HOURS = 48
SAMPLE_POSTS = 2000
SAMPLE_MIN_POSTS = 200
RULE: RelevanceRule = LEVELS["normal"]  # a watch's default level
_CACHED = 4  # minutes of samples kept (~3 MB each at 2,000 e5 posts)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class QueryCalibration(msgspec.Struct, frozen=True):
    """The query's dense calibration and its words' weights, from one recent sample."""

    dense: Calibration | None
    terms: list[int]  # the query's sparse indices: its words, as the index stores them
    weights: list[float]  # each word's IDF in the sample


class Sample(msgspec.Struct, frozen=True):
    """Recent posts as the calibration reads them: the same for every query of a moment."""

    dense: Any  # float32 (n, dim), unit rows
    words: list[frozenset[int]]  # each post's sparse indices


class Topical:
    """The gate. The recent sample is read once per minute of `as_of` and shared by every
    query of that minute (reading 2,000 stored vectors costs ~100 ms on Edge here; each
    query's calibration on it is one matrix-vector product)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._samples: OrderedDict[float, Sample] = OrderedDict()
        # The API's worker threads share one pipeline: one reader of a minute at a time.
        self._lock = threading.Lock()

    def on_topic(self, post_ids: Sequence[str], dense: npt.NDArray[np.float32],
                 sparse: SparseVector, as_of: datetime) -> list[bool] | None:
        """Whether each post counts for the query (`search.watches.relevance.counts`), or
        None when the index holds too few posts to say what is usual for the query (under
        `MIN_SAMPLE` before `as_of`): the caller then falls back on the match rule."""
        if not post_ids:
            return []
        cal = self.calibration(dense, sparse, as_of)
        if cal.dense is None or cal.dense.n < MIN_SAMPLE:
            return None
        stored = self.store.vectors([point_id(p) for p in post_ids])
        out = []
        for post_id in post_ids:
            vectors = stored.get(point_id(post_id))
            if vectors is None:
                out.append(False)
                continue
            cosine = float(np.dot(np.asarray(vectors[0], dtype=np.float32), dense))
            z = (cosine - cal.dense.median) / cal.dense.spread
            out.append(counts(z, lexical_terms(vectors[1], cal), RULE))
        return out

    def calibration(self, dense: npt.NDArray[np.float32], sparse: SparseVector,
                    as_of: datetime) -> QueryCalibration:
        sample = self.sample(as_of)
        terms = sorted({int(i) for i in sparse.indices})
        if not sample.words:
            return QueryCalibration(dense=None, terms=terms, weights=[1.0] * len(terms))
        holds = np.array([[t in held for t in terms] for held in sample.words],
                         dtype=bool).reshape(len(sample.words), len(terms))
        cosines = sample.dense @ np.asarray(dense, dtype=np.float32)
        # Posts holding any of the query's words are left out of the dense calibration
        # (as a watch's are): where the feed is about the query, they would make its
        # closeness look ordinary.
        exclude = holds.any(axis=1, keepdims=True)
        dense_cal = calibrate(cosines[:, None], as_of.timestamp(), exclude)[0]
        weights = [idf(int(holds[:, k].sum()), len(sample.words)) for k in range(len(terms))]
        return QueryCalibration(dense=dense_cal, terms=terms, weights=weights)

    def sample(self, as_of: datetime) -> Sample:
        """The posts of the `SAMPLE_HOURS` before `as_of` (its minute), or the newest of any
        age when those are too few; cached for the last few minutes asked."""
        minute = as_of.replace(second=0, microsecond=0)
        key = minute.timestamp()
        with self._lock:
            found = self._samples.get(key)
            if found is None:
                found = self._read(minute)
                self._samples[key] = found
                while len(self._samples) > _CACHED:
                    self._samples.popitem(last=False)
        return found

    def _read(self, until: datetime) -> Sample:
        read = self.store.window_vectors(until - timedelta(hours=SAMPLE_HOURS), until,
                                         SAMPLE_POSTS)
        if len(read.ids) < SAMPLE_MIN_POSTS:
            read = self.store.window_vectors(_EPOCH, until, SAMPLE_POSTS)
        if not read.ids:
            return Sample(dense=np.zeros((0, 0), dtype=np.float32), words=[])
        stored = self.store.sparse_vectors([point_id(p) for p in read.ids])
        empty = SparseVector(indices=[], values=[])
        return Sample(dense=np.asarray(read.dense, dtype=np.float32),
                      words=[frozenset(int(i) for i in stored.get(point_id(p), empty).indices)
                             for p in read.ids])


def lexical_terms(post: SparseVector, cal: QueryCalibration) -> float:
    """The share of the query's word weight the post holds, in average query terms."""
    total = sum(cal.weights)
    if not cal.terms or total <= 0:
        return 0.0
    held = set(int(i) for i in post.indices)
    share = sum(w for t, w in zip(cal.terms, cal.weights, strict=True) if t in held) / total
    return share * len(cal.terms)
