"""Trending's gate: which candidates are *about* the query, by the rule a watch counts posts with.

Why the watches' rule (`search.watches.relevance`) and not the match rule of `search.matching`:
the match rule's dense half is one cosine threshold per model (e5: 0.84, chosen on crisislex6),
and its lexical half asks for every required term. On `trending_reddit_public` that gate is
loose where it matters: a query's topic words are common on a forum ("covid on campus": any
covid word), and a fixed cosine means something else for every query. The watches' rule is
relative to the query itself: the dense evidence is a z of the post's cosine against the
query's cosines to recent posts that hold none of its words (median and 1.4826 x MAD), the
lexical evidence the share of the query's word weight the post holds (each word by its query
weight x IDF), in average query terms. One definition of "counts for this query" then serves
watches and trending alike, with the bars chosen on the alert streams (decision 0026), not on
the trending set.

Where it differs from a watch, and why: document frequencies come from the calibration's own
sample (2,000 recent posts, plus the watches' prior of 1,000 posts that hold no query word),
not from every post since start, which a search does not track; and the sample ignores the
request's filters, as a watch's calibration does (what is usual is read from the whole feed).

Everything is read from the index (stored vectors; nothing re-embedded): one read of up to
`CALIBRATION_POSTS` recent vectors per minute (shared by every query), one of the candidates'
vectors. Pages 2+ reuse page 1's calibration from the cursor (`QueryCalibration.pack`), so a
post's verdict cannot change between pages of one search.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from search.contracts import Encoded
from search.counting import MatchSet, on_topic
from search.cursor import Cursor
from search.models import SparseVector
from search.store.base import Store
from search.store.payload import point_id
from search.watches.relevance import (
    CALIBRATION_MIN_POSTS,
    CALIBRATION_POSTS,
    LEVELS,
    MIN_SAMPLE,
    Calibration,
    RelevanceRule,
    calibrate,
    counts,
    idf,
    word_share,
)

# What the calibration reads, as a watch's periodic pass does (`search.watches.service`):
# the posts of the last two days (a burst trigger's default baseline), or, when they are
# fewer than `CALIBRATION_MIN_POSTS`, the newest `CALIBRATION_POSTS` of any age.
SAMPLE_HOURS = 48
RULE: RelevanceRule = LEVELS["normal"]  # a watch's default level
_CACHED = 4  # minutes of samples kept (~3 MB each at 2,000 e5 posts)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class QueryCalibration(msgspec.Struct, frozen=True):
    """The query's dense calibration and its words' weights, from one recent sample."""

    dense: Calibration | None
    terms: list[int]  # the query's sparse indices: its words, as the index stores them
    weights: list[float]  # each word's query weight x IDF in the sample

    def pack(self) -> list[float] | None:
        """What a cursor carries: median, spread, sample size, then each word's weight."""
        if self.dense is None:
            return None
        return [self.dense.median, self.dense.spread, float(self.dense.n), *self.weights]

    @classmethod
    def unpack(cls, packed: Sequence[float], sparse: SparseVector) -> QueryCalibration | None:
        """Page 1's calibration back, for the same query (None: it does not fit the query)."""
        terms = _terms(sparse)
        if len(packed) != 3 + len(terms):
            return None
        dense = Calibration(median=packed[0], spread=packed[1], n=int(packed[2]), at_ts=0.0)
        return cls(dense=dense, terms=terms, weights=list(packed[3:]))


class TopicVerdict(msgspec.Struct, frozen=True):
    """One candidate's verdict and its evidence (None where the match rule decided)."""

    on_topic: bool
    rule: Literal["watch", "match"]
    z: float | None = None
    terms: float | None = None


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
        # The API's worker threads share one pipeline: each minute is read once, under its
        # own lock, so a slow read never holds up queries whose minute is already read.
        self._lock = threading.Lock()
        self._reading: dict[float, threading.Lock] = {}

    def gate(self, post_ids: list[str], encoded: Encoded, as_of: datetime,
             position: Cursor | None, matches: MatchSet, dense_reads_query: bool,
             ) -> tuple[list[TopicVerdict], list[float] | None]:
        """Trending's gate per candidate, and the calibration a cursor carries. The watches'
        rule needs the dense model to read the query (`dense_reads_query`: a MiniLM
        profile's Chinese query is noise to it) and enough posts to calibrate on; else the
        match rule decides. Pages 2+ decide as page 1 did, with its calibration."""
        dense, sparse = encoded.dense[0], encoded.sparse[0]
        cal: QueryCalibration | None = None
        if position is not None:
            cal = (QueryCalibration.unpack(position.gate, sparse)
                   if position.gate is not None else None)
        elif dense_reads_query:
            cal = self.calibration(dense, sparse, as_of)
        if cal is not None:
            return self.verdicts(post_ids, dense, cal), cal.pack()
        matched = on_topic(self.store, post_ids, dense, matches)
        return [TopicVerdict(on_topic=m, rule="match") for m in matched], None

    def verdicts(self, post_ids: Sequence[str], dense: npt.NDArray[np.float32],
                 cal: QueryCalibration) -> list[TopicVerdict]:
        """Whether each post counts for the query (`search.watches.relevance.counts`)."""
        assert cal.dense is not None
        stored = self.store.vectors([point_id(p) for p in post_ids]) if post_ids else {}
        out = []
        for post_id in post_ids:
            vectors = stored.get(point_id(post_id))
            if vectors is None:
                out.append(TopicVerdict(on_topic=False, rule="watch"))
                continue
            cosine = float(np.dot(np.asarray(vectors[0], dtype=np.float32), dense))
            z = round((cosine - cal.dense.median) / cal.dense.spread, 3)
            terms = round(lexical_terms(vectors[1], cal), 3)
            out.append(TopicVerdict(on_topic=counts(z, terms, RULE), rule="watch", z=z,
                                    terms=terms))
        return out

    def calibration(self, dense: npt.NDArray[np.float32], sparse: SparseVector,
                    as_of: datetime) -> QueryCalibration | None:
        """The query's calibration at `as_of`, or None when fewer than `MIN_SAMPLE` posts
        before it say what is usual (the caller then falls back on the match rule)."""
        sample = self.sample(as_of)
        terms = _terms(sparse)
        if len(sample.words) < MIN_SAMPLE:
            return None
        holds = np.array([[t in held for t in terms] for held in sample.words],
                         dtype=bool).reshape(len(sample.words), len(terms))
        cosines = sample.dense @ np.asarray(dense, dtype=np.float32)
        # Posts holding any of the query's words are left out of the dense calibration
        # (as a watch's are): where the feed is about the query, they would make its
        # closeness look ordinary.
        exclude = holds.any(axis=1, keepdims=True)
        dense_cal = calibrate(cosines[:, None], as_of.timestamp(), exclude)[0]
        value = dict(zip((int(i) for i in sparse.indices), sparse.values, strict=True))
        weights = [value[t] * idf(int(holds[:, k].sum()), len(sample.words))
                   for k, t in enumerate(terms)]
        return QueryCalibration(dense=dense_cal, terms=terms, weights=weights)

    def sample(self, as_of: datetime) -> Sample:
        """The posts of the `SAMPLE_HOURS` before `as_of` (its minute), or the newest of any
        age when those are too few; the last `_CACHED` minutes read are kept."""
        minute = as_of.replace(second=0, microsecond=0)
        key = minute.timestamp()
        with self._lock:
            found = self._samples.get(key)
            reading = self._reading.setdefault(key, threading.Lock())
        if found is not None:
            return found
        with reading:
            with self._lock:
                found = self._samples.get(key)
            if found is None:
                found = self._read(minute)
                with self._lock:
                    self._samples[key] = found
                    while len(self._samples) > _CACHED:
                        self._samples.popitem(last=False)
                    self._reading.pop(key, None)
        return found

    def _read(self, until: datetime) -> Sample:
        read = self.store.window_vectors(until - timedelta(hours=SAMPLE_HOURS), until,
                                         CALIBRATION_POSTS)
        if len(read.ids) < CALIBRATION_MIN_POSTS:
            read = self.store.window_vectors(_EPOCH, until, CALIBRATION_POSTS)
        if not read.ids:
            return Sample(dense=np.zeros((0, 0), dtype=np.float32), words=[])
        stored = self.store.sparse_vectors([point_id(p) for p in read.ids])
        empty = SparseVector(indices=[], values=[])
        return Sample(dense=np.asarray(read.dense, dtype=np.float32),
                      words=[frozenset(int(i) for i in stored.get(point_id(p), empty).indices)
                             for p in read.ids])


def lexical_terms(post: SparseVector, cal: QueryCalibration) -> float:
    """The share of the query's word weight the post holds, in average query terms."""
    held = {int(i) for i in post.indices}
    return word_share(dict(zip(cal.terms, cal.weights, strict=True)), held) * len(cal.terms)


def _terms(sparse: SparseVector) -> list[int]:
    return sorted({int(i) for i in sparse.indices})
