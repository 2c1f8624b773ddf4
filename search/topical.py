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
`SAMPLE_POSTS` recent vectors per query and moment (cached), one of the candidates' vectors.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

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
_CACHED = 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class QueryCalibration(msgspec.Struct, frozen=True):
    """The query's dense calibration and its words' weights, from one recent sample."""

    dense: Calibration | None
    terms: list[int]  # the query's sparse indices: its words, as the index stores them
    weights: list[float]  # each word's IDF in the sample


class Topical:
    """The gate, with each query's calibration cached per moment (pages 2+ reuse page 1's)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: OrderedDict[tuple[bytes, bytes, float], QueryCalibration] = OrderedDict()

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
        key = (np.asarray(dense, dtype=np.float32).tobytes(),
               np.asarray(sparse.indices, dtype=np.int64).tobytes(), as_of.timestamp())
        found = self._cache.get(key)
        if found is None:
            found = self._calibrate(dense, sparse, as_of)
            self._cache[key] = found
            while len(self._cache) > _CACHED:
                self._cache.popitem(last=False)
        return found

    def _calibrate(self, dense: npt.NDArray[np.float32], sparse: SparseVector,
                   as_of: datetime) -> QueryCalibration:
        read = self.store.window_vectors(as_of - timedelta(hours=SAMPLE_HOURS), as_of,
                                         SAMPLE_POSTS)
        if len(read.ids) < SAMPLE_MIN_POSTS:
            read = self.store.window_vectors(_EPOCH, as_of, SAMPLE_POSTS)
        terms = sorted(set(int(i) for i in sparse.indices))
        if not read.ids:
            return QueryCalibration(dense=None, terms=terms, weights=[1.0] * len(terms))
        stored = self.store.sparse_vectors([point_id(p) for p in read.ids])
        holds = np.array([[t in held for t in terms] for held in (
            set(stored[point_id(p)].indices) if point_id(p) in stored else set()
            for p in read.ids)], dtype=bool).reshape(len(read.ids), len(terms))
        cosines = np.asarray(read.dense, dtype=np.float32) @ np.asarray(dense, dtype=np.float32)
        # Posts holding any of the query's words are left out of the dense calibration
        # (as a watch's are): where the feed is about the query, they would make its
        # closeness look ordinary.
        exclude = holds.any(axis=1, keepdims=True)
        dense_cal = calibrate(cosines[:, None], as_of.timestamp(), exclude)[0]
        weights = [idf(int(holds[:, k].sum()), len(read.ids)) for k in range(len(terms))]
        return QueryCalibration(dense=dense_cal, terms=terms, weights=weights)


def lexical_terms(post: SparseVector, cal: QueryCalibration) -> float:
    """The share of the query's word weight the post holds, in average query terms."""
    total = sum(cal.weights)
    if not cal.terms or total <= 0:
        return 0.0
    held = set(int(i) for i in post.indices)
    share = sum(w for t, w in zip(cal.terms, cal.weights, strict=True) if t in held) / total
    return share * len(cal.terms)
