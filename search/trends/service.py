"""`TrendsService`: read the store, run the engine, cache the answer.

What one call reads is bounded: at most `max_posts` posts of [as_of - window -
baseline, as_of), newest first, with the dense vectors the index already holds
(nothing is embedded again). When the store holds more, the oldest baseline
buckets are unknown, and the answer says `truncated`.

With a `query`, the query's posts are recalled first (hybrid recall within the
same span, as `/v1/search` does it) and bursts are found among them only: "what
is hot about X".

Answers are cached per (parameters, as_of minute): `as_of` is rounded down to
the minute, so a page refreshed within a minute costs nothing, and an explicit
`as_of` on the minute (every replayed checkpoint) is exact.

Two more reads serve the engine's later rules. The same span on previous days and
weeks (`rhythm.slots`, at most `rhythm_posts` each): a topic is held to its
neighbourhood's own rhythm. And the traces of the last passes of the same kind of
call (`identity.Memory`): a story keeps its id from one pass to the next, so an
answer also depends on the passes before it (an `as_of` earlier than the last
pass starts afresh). With a `query`, no rhythm is read: its recall covers the
baseline only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import msgspec
import numpy as np

from search.contracts import SearchParams
from search.embed.base import Embedder, about_cosine
from search.log import StageClock, log
from search.models import Post, SearchFilters
from search.recall import RecallQuery, recall
from search.rerank import Reranker
from search.scope import fusion_knobs, query_coverage, recent_since, visible_until
from search.store.base import Store
from search.trends import engine, identity, label, rhythm
from search.trends.models import TrendParams, TrendsRequest, TrendsResult

CACHE_BUCKET_S = 60
CACHE_ENTRIES = 256
TERM_CACHE_ENTRIES = 400_000
QUERY_POSTS = 2000


class TrendsService:
    def __init__(self, store: Store, embedder: Embedder, reranker: Reranker | None,
                 params: TrendParams | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.reranker = reranker
        self.params = params or TrendParams()
        self._cache: OrderedDict[bytes, TrendsResult] = OrderedDict()
        self._terms: OrderedDict[tuple[str, int], frozenset[str]] = OrderedDict()
        self._lock = threading.Lock()
        self._memory: OrderedDict[bytes, identity.Memory] = OrderedDict()

    def trends(self, request: TrendsRequest, now: datetime | None = None) -> TrendsResult:
        moment = (request.as_of or now or datetime.now(UTC)).astimezone(UTC)
        as_of = datetime.fromtimestamp(
            moment.timestamp() // CACHE_BUCKET_S * CACHE_BUCKET_S, UTC)
        key = msgspec.json.encode(msgspec.structs.replace(request, as_of=as_of))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return msgspec.structs.replace(hit, cached=True)
        result = self._compute(request, as_of)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return result

    def _compute(self, request: TrendsRequest, as_of: datetime) -> TrendsResult:
        p = self.params
        clock = StageClock()
        lap = clock.lap

        since = as_of - request.window - request.baseline
        post_ids = None
        if request.query:
            post_ids = self._recall(request.query, request.filters, since, as_of)
            lap("recall")
        read = self.store.scroll_window(since, as_of, request.filters, p.max_posts + 1,
                                        post_ids=post_ids)
        truncated = len(read.posts) > p.max_posts
        posts = read.posts[:p.max_posts]
        lap("read")
        corpus = engine.Corpus(
            posts=posts, ts=np.asarray([q.created_at.timestamp() for q in posts], dtype=np.float64),
            dense=np.asarray(read.dense[:len(posts)], dtype=np.float32),
            terms=self._post_terms(posts), truncated=truncated)
        lap("terms")
        if not request.query:
            corpus = msgspec.structs.replace(corpus, history=self._history(request, as_of))
            lap("history")
        kind = msgspec.json.encode(msgspec.structs.replace(request, as_of=None))
        horizon = request.baseline.total_seconds()
        with self._lock:
            memory = self._memory.setdefault(kind, identity.Memory())
            self._memory.move_to_end(kind)
            while len(self._memory) > CACHE_ENTRIES:
                self._memory.popitem(last=False)
            previous = memory.previous(as_of.timestamp(), horizon)
        topics, traces = engine.detect_traced(
            corpus, as_of=as_of, window_s=request.window.total_seconds(),
            baseline_s=horizon, params=p, limit=request.limit, reranker=self.reranker,
            previous=previous)
        with self._lock:
            memory.remember(as_of.timestamp(), traces, horizon)
        lap("detect")
        log("trends", posts=len(posts), truncated=truncated, topics=len(topics),
            query=bool(request.query), **clock.fields())
        return TrendsResult(as_of=as_of, window_seconds=int(request.window.total_seconds()),
                            baseline_seconds=int(request.baseline.total_seconds()),
                            posts_read=len(posts), truncated=truncated, topics=topics,
                            timings_ms=clock.ms)

    def _history(self, request: TrendsRequest, as_of: datetime) -> engine.History | None:
        """The posts of the same span on previous days and weeks (`rhythm.slots`)."""
        p = self.params
        span = request.window * p.span_windows
        slots = rhythm.slots(span.total_seconds(), p.rhythm_days, p.rhythm_weeks)
        if not slots or not p.rhythm_posts:
            return None
        dense: list[np.ndarray] = []
        posts: list[Post] = []
        offsets: list[int] = []
        for offset in rhythm.offsets(slots):
            until = as_of - timedelta(seconds=offset)
            read = self.store.scroll_window(until - span, until, request.filters, p.rhythm_posts)
            posts.extend(read.posts)
            offsets.extend([offset] * len(read.posts))
            if len(read.posts):
                dense.append(np.asarray(read.dense[:len(read.posts)], dtype=np.float32))
        if not posts:
            return engine.History(dense=np.zeros((0, 1), dtype=np.float32), terms=[],
                                  offset_s=np.zeros(0, dtype=np.int64))
        return engine.History(dense=np.vstack(dense), terms=self._post_terms(posts),
                              offset_s=np.asarray(offsets, dtype=np.int64))

    def _recall(self, query: str, filters: SearchFilters | None, since: datetime,
                until: datetime) -> list[str]:
        """The query's posts in the span: hybrid recall, weighted as search weighs it
        (`SearchParams` defaults), without feedback or rerank."""
        span = recent_since(visible_until(filters, until), since)
        encoded = self.embedder.encode_queries([query])
        p = SearchParams()
        knobs = fusion_knobs(self.embedder.info, p)
        response = recall(self.store, RecallQuery(
            dense=encoded.dense[0].tolist(), sparse=encoded.sparse[0], filters=span,
            fusion="rrf", rrf_k=knobs.rrf_k, prefetch_limit=QUERY_POSTS, limit=QUERY_POSTS,
            weights=(p.dense_weight * query_coverage(encoded, p), knobs.sparse_weight),
            **knobs.per_hit()))
        # Dense recall always returns its whole limit, near or not; only posts that use a
        # query term, or are this close by meaning (a cosine that depends on the model),
        # are "about" the query.
        best = max((s.score for s in response.dense), default=0.0)
        cut = about_cosine(self.embedder.info.model_id, best)
        # Every lexical hit, even one the fusion's floor weighs 0: "about" asks whether a
        # post uses a query word at all, not how much that says about its rank.
        about = {s.point_id for s in response.sparse}
        about |= {s.point_id for s in response.dense if s.score >= cut}
        return [post.id for scored, post in response.fused if scored.point_id in about]

    def _post_terms(self, posts: list[Post]) -> list[frozenset[str]]:
        """Label terms per post, remembered by post id and text (tokenising is the slow part)."""
        out = []
        with self._lock:
            for post in posts:
                key = (post.id, hash(post.text))
                terms = self._terms.get(key)
                if terms is None:
                    terms = label.post_terms(post.text)
                    self._terms[key] = terms
                    if len(self._terms) > TERM_CACHE_ENTRIES:
                        self._terms.popitem(last=False)
                out.append(terms)
        return out
