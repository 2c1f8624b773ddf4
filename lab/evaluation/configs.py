"""The configurations compared, one function each: a query in, a ranked list of corpus ids out.

Every function returns `Ranked`: up to `DEPTH` corpus ids best first, the time it
took, and what else a reader of the results needs (a note, per-stage times).
The engine's own lists come from one `Store.search` call (the dense and sparse
lists), and each fusion from one `search.recall.recall` over those same lists
(the fusion and the payload read); they are computed once per query (`QueryRun`)
and shared, and each configuration is charged the time of the calls it needs.

- `bm25`: the reference BM25 (`evaluation.reference`), outside the engine;
- `sparse`, `dense`: one Qdrant signal alone;
- `hybrid-rrf`, `hybrid-dbsf`: both fused by `search.fusion`, nothing after it;
- `hybrid+rerank`: the shipped fusion, then the profile's cross-encoder over the
  shipped rerank depth (or, with no reranker, the same list, said in `note`);
- `shipped`: `POST /v1/search` in relevance mode with default settings, i.e.
  `SearchPipeline.search`, paged with limit 100 through `next_cursor` to 1000 posts;
- time-aware sets only: `recency` (BM25 x 12 h half-life decay, the public sets'
  reference) and `trending` (the pipeline in trending mode at the query's `as_of`).

Ties within a list break by post id, as the pipeline does, so a rerun (or a
cached run) gives the same list.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from lab.evaluation.reference import Bm25Reference, query_tokens, recency_weights, top_rows
from search.contracts import MAX_LIMIT, Encoded, ScoredId, SearchParams, SearchRequest
from search.embed.base import Embedder
from search.models import Fusion, Mode, SearchFilters
from search.pipeline import SearchPipeline
from search.recall import RecallQuery, recall
from search.rerank import Reranker, rerank_within_budget
from search.store.base import Store

DEPTH = 1000
NO_RERANKER = "no reranker in this profile: identical to hybrid-{fusion}"
SHARED_SIGNALS = ("timed as the one batch call that searches both signals, "
                  "plus query embedding")


class Ranked(msgspec.Struct):
    ids: list[str]
    ms: float
    note: str | None = None
    stages_ms: dict[str, float] | None = None  # summed over the query's requests
    requests: int = 0
    duplicates: int = 0  # ids seen again on a later page (paged configurations)


class Engine(msgspec.Struct):
    """What the configurations run against: the index at the current moment, and its models."""

    store: Store
    embedder: Embedder
    reranker: Reranker | None
    params: SearchParams
    pipeline: SearchPipeline
    corpus_of_post: dict[str, str]       # engine post id -> corpus id
    corpus_of_point: dict[str, str]      # Qdrant point id -> corpus id
    reference: Bm25Reference | None = None
    reference_ids: list[str] = []        # corpus id of each reference row
    reference_created: Any = None        # created_at timestamps of the reference rows


class QueryRun:
    """One query at one moment; shares embedding and recall calls among configurations."""

    def __init__(self, engine: Engine, text: str, as_of: datetime | None) -> None:
        self.engine = engine
        self.text = text
        self.as_of = as_of
        self._encoded: tuple[Encoded, float] | None = None
        self._lists: tuple[tuple[list[ScoredId], list[ScoredId]], float] | None = None
        self._fused: dict[str, tuple[list[tuple[str, str]], float]] = {}
        self._bm25: tuple[npt.NDArray[np.float32], float] | None = None

    @property
    def filters(self) -> SearchFilters | None:
        """Visibility as the pipeline applies it for an explicit `as_of` (belt and braces:
        the replay has not ingested later posts anyway)."""
        return SearchFilters(until=self.as_of) if self.as_of is not None else None

    def encoded(self) -> tuple[Encoded, float]:
        if self._encoded is None:
            started = time.perf_counter()
            encoded = self.engine.embedder.encode_queries([self.text])
            self._encoded = (encoded, _ms(started))
        return self._encoded

    def _query(self, fusion: Fusion) -> RecallQuery:
        encoded, _ = self.encoded()
        p = self.engine.params
        return RecallQuery(dense=encoded.dense[0].tolist(), sparse=encoded.sparse[0],
                           filters=self.filters, fusion=fusion, rrf_k=p.rrf_k,
                           prefetch_limit=DEPTH, limit=DEPTH)

    def _searched(self) -> tuple[tuple[list[ScoredId], list[ScoredId]], float]:
        if self._lists is None:
            query = self._query("rrf")
            started = time.perf_counter()
            dense, sparse = self.engine.store.search(
                [("dense", query.dense), ("sparse", query.sparse)], query.filters, None, DEPTH)
            self._lists = ((dense, sparse), _ms(started))
        return self._lists

    def signals(self) -> tuple[list[str], list[str], float]:
        """Dense and sparse lists (corpus ids) from one call, and its time."""
        (dense, sparse), ms = self._searched()
        return self._ordered(dense), self._ordered(sparse), ms

    def fused(self, fusion: Fusion) -> tuple[list[tuple[str, str]], float]:
        """(corpus id, text) in fused order, and its time: the signal search plus the
        fusion and payload read."""
        if fusion not in self._fused:
            lists, search_ms = self._searched()
            started = time.perf_counter()
            response = recall(self.engine.store, self._query(fusion), lists)
            ms = search_ms + _ms(started)
            rows = sorted(response.fused, key=lambda r: (-r[0].score, r[1].id))
            corpus = self.engine.corpus_of_post
            self._fused[fusion] = ([(corpus[post.id], post.text) for _, post in rows], ms)
        return self._fused[fusion]

    def bm25(self) -> tuple[npt.NDArray[np.float32], float]:
        """Reference BM25 scores for every visible document, and their time."""
        if self._bm25 is None:
            reference = self.engine.reference
            started = time.perf_counter()
            scores = (reference.scores(query_tokens(self.text)) if reference is not None
                      else np.zeros(0, dtype=np.float32))
            self._bm25 = (scores, _ms(started))
        return self._bm25

    def _ordered(self, hits: list[ScoredId]) -> list[str]:
        corpus = self.engine.corpus_of_point
        return [corpus[h.point_id] for h in sorted(hits, key=lambda h: (-h.score,
                                                                          corpus[h.point_id]))]


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# -- the configurations ----------------------------------------------------------
def bm25(q: QueryRun) -> Ranked:
    scores, ms = q.bm25()
    started = time.perf_counter()
    rows = top_rows(scores, DEPTH)
    ids = q.engine.reference_ids
    return Ranked(ids=[ids[r] for r in rows], ms=ms + _ms(started))


def sparse(q: QueryRun) -> Ranked:
    _, embed_ms = q.encoded()
    _, ids, ms = q.signals()
    return Ranked(ids=ids, ms=embed_ms + ms, note=SHARED_SIGNALS)


def dense(q: QueryRun) -> Ranked:
    _, embed_ms = q.encoded()
    ids, _, ms = q.signals()
    return Ranked(ids=ids, ms=embed_ms + ms, note=SHARED_SIGNALS)


def _hybrid(q: QueryRun, fusion: Fusion) -> Ranked:
    _, embed_ms = q.encoded()
    rows, ms = q.fused(fusion)
    return Ranked(ids=[cid for cid, _ in rows], ms=embed_ms + ms)


def hybrid_rrf(q: QueryRun) -> Ranked:
    return _hybrid(q, "rrf")


def hybrid_dbsf(q: QueryRun) -> Ranked:
    return _hybrid(q, "dbsf")


def hybrid_rerank(q: QueryRun) -> Ranked:
    """The shipped fusion's list, its top `rerank_depth` reordered by the cross-encoder."""
    p = q.engine.params
    base = _hybrid(q, p.fusion)
    if q.engine.reranker is None:
        return Ranked(ids=base.ids, ms=base.ms, note=NO_RERANKER.format(fusion=p.fusion))
    rows, _ = q.fused(p.fusion)
    depth = min(p.rerank_depth, len(rows))
    started = time.perf_counter()
    outcome = rerank_within_budget(q.engine.reranker, q.text, [text for _, text in rows[:depth]],
                                   batch_size=p.rerank_batch, budget_ms=p.rerank_budget_ms)
    done = len(outcome.scores)
    order = sorted(range(done), key=lambda i: (-outcome.scores[i], rows[i][0]))
    ids = [rows[i][0] for i in order] + [cid for cid, _ in rows[done:]]
    note = None if done == depth else outcome.note
    return Ranked(ids=ids, ms=base.ms + _ms(started), note=note)


def _paged(q: QueryRun, mode: Mode) -> Ranked:
    """What a client paging through `POST /v1/search` gets: limit 100, following
    `next_cursor` until 1000 posts (a collapsed card counts its copies, which the
    client can expand). Each page is a separate request, as over HTTP; an id a
    later page repeats is kept at its first rank and counted in `duplicates`.
    """
    ids: list[str] = []
    seen: set[str] = set()
    stages: dict[str, float] = {}
    requests = duplicates = 0
    started = time.perf_counter()
    corpus = q.engine.corpus_of_post
    cursor: str | None = None
    while len(ids) < DEPTH:
        result = q.engine.pipeline.search(SearchRequest(
            query=q.text, mode=mode, limit=MAX_LIMIT, cursor=cursor, as_of=q.as_of))
        requests += 1
        for stage, ms in result.timings_ms.items():
            stages[stage] = stages.get(stage, 0.0) + ms
        for hit in result.hits:
            # A collapsed card stands for its copies too: the client can expand them.
            for post_id in (hit.post.id, *hit.duplicate_ids):
                cid = corpus.get(post_id)
                if cid is None:
                    continue
                if cid in seen:
                    duplicates += 1
                    continue
                seen.add(cid)
                ids.append(cid)
        cursor = result.next_cursor
        if cursor is None:
            break
    return Ranked(ids=ids, ms=_ms(started), stages_ms=stages, requests=requests,
                  duplicates=duplicates)


def shipped(q: QueryRun) -> Ranked:
    return _paged(q, "relevance")


def trending(q: QueryRun) -> Ranked:
    return _paged(q, "trending")


def recency(q: QueryRun) -> Ranked:
    """BM25 x 0.5 ** (age_h / 12) at the query's `as_of`, over the visible documents."""
    scores, ms = q.bm25()
    started = time.perf_counter()
    as_of = q.as_of
    if as_of is None or q.engine.reference_created is None:
        raise ValueError("recency needs a query with as_of")
    weighted = scores * recency_weights(q.engine.reference_created, as_of.timestamp())
    rows = top_rows(weighted, DEPTH)
    ids = q.engine.reference_ids
    return Ranked(ids=[ids[r] for r in rows], ms=ms + _ms(started))


Config = Callable[[QueryRun], Ranked]

CONFIGS: dict[str, Config] = {
    "bm25": bm25,
    "sparse": sparse,
    "dense": dense,
    "hybrid-rrf": hybrid_rrf,
    "hybrid-dbsf": hybrid_dbsf,
    "hybrid+rerank": hybrid_rerank,
    "shipped": shipped,
}
TIME_CONFIGS: dict[str, Config] = {
    "recency": recency,
    "trending": trending,
}


def configs_for(time_aware: bool) -> dict[str, Config]:
    return {**CONFIGS, **(TIME_CONFIGS if time_aware else {})}
