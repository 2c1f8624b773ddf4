"""recall -> rerank -> boost, timed per stage, every score explained.

The pipeline owns ordering decisions only; each stage's arithmetic lives in
its own module (`recall.assemble`, `rerank.rerank_within_budget`, `boost`).
Modes differ only in the last step:

- `relevance`: cross-encoder order (recall order where the reranker did not reach);
- `trending`: relevance x time decay x engagement, relative to `as_of`;
- `latest`: the relevant candidates, newest first.

An explicit `as_of` also hides posts created after it, so a replayed past
moment sees only what existed then.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from search.boost import engagement_factor, time_decay, trending_score
from search.embed.base import Embedder
from search.log import log
from search.models import (
    AwareDatetime,
    Candidate,
    Explain,
    Fusion,
    Hit,
    Mode,
    SearchFilters,
    SearchResult,
)
from search.recall import assemble
from search.rerank import Reranker, rerank_within_budget
from search.store.base import RecallQuery, Store

MAX_LIMIT = 100
MAX_OFFSET = 900


class SearchParams(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Ranking knobs; defaults are what `POST /v1/search` ships with."""

    fusion: Fusion = "rrf"
    rrf_k: Annotated[int, Meta(ge=1)] = 60
    prefetch_limit: Annotated[int, Meta(ge=1, le=10_000)] = 200
    rerank_depth: Annotated[int, Meta(ge=0, le=1000)] = 50
    rerank_batch: Annotated[int, Meta(ge=1)] = 16
    rerank_budget_ms: Annotated[float, Meta(gt=0)] = 3000.0
    half_life_hours: Annotated[float, Meta(gt=0)] = 24.0
    engagement_weight: Annotated[float, Meta(ge=0)] = 0.1
    latest_min_relevance: Annotated[float, Meta(ge=0, le=1)] = 0.05


class SearchRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    query: Annotated[str, Meta(min_length=1, max_length=1000)]
    mode: Mode = "relevance"
    filters: SearchFilters | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT)] = 10
    offset: Annotated[int, Meta(ge=0, le=MAX_OFFSET)] = 0
    explain: bool = False
    as_of: AwareDatetime | None = None


def _visible_until(filters: SearchFilters | None, as_of: datetime) -> SearchFilters:
    """Posts created after an explicit `as_of` do not exist yet from its point of view.

    Only for an explicit `as_of`: the range filter turns Edge's dense search into a
    filtered scan (recall 8 -> 22 ms at 100k points), a price not worth paying to hide
    the odd post whose clock runs ahead of ours.
    """
    base = filters or SearchFilters()
    until = min(base.until, as_of) if base.until else as_of
    return msgspec.structs.replace(base, until=until)


class SearchPipeline:
    def __init__(self, store: Store, embedder: Embedder, reranker: Reranker | None,
                 params: SearchParams | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.reranker = reranker
        self.params = params or SearchParams()
        self.models = {
            "embedder": embedder.info.model_id,
            "reranker": reranker.model_id if reranker else "none",
        }

    def search(self, request: SearchRequest, now: datetime | None = None) -> SearchResult:
        p = self.params
        as_of = (request.as_of or now or datetime.now(UTC)).astimezone(UTC)
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now_ = time.perf_counter()
            timings[stage] = round((now_ - clock) * 1000, 3)
            clock = now_

        encoded = self.embedder.encode_queries([request.query])
        lap("embed")
        pool = max(p.rerank_depth, request.offset + request.limit)
        response = self.store.recall(RecallQuery(
            dense=encoded.dense[0].tolist(), sparse=encoded.sparse[0],
            filters=_visible_until(request.filters, as_of) if request.as_of else request.filters,
            fusion=p.fusion, rrf_k=p.rrf_k,
            prefetch_limit=max(p.prefetch_limit, pool), limit=pool, signals=request.explain,
        ))
        candidates = assemble(response)
        lap("recall")

        depth = min(p.rerank_depth, len(candidates))
        outcome = rerank_within_budget(
            self.reranker, request.query, [c.post.text for c in candidates[:depth]],
            batch_size=p.rerank_batch, budget_ms=p.rerank_budget_ms)
        lap("rerank")

        hits = self._order(request.mode, candidates, outcome.scores, outcome.note, as_of)
        lap("boost" if request.mode == "trending" else "order")
        page = hits[request.offset:request.offset + request.limit]
        log("search", mode=request.mode, candidates=len(candidates), reranked=len(outcome.scores),
            returned=len(page), **{f"{k}_ms": v for k, v in timings.items()})
        return SearchResult(hits=page, total_candidates=len(candidates), timings_ms=timings,
                            as_of=as_of)

    def _order(self, mode: Mode, candidates: list[Candidate], rerank_scores: list[float],
               rerank_note: str, as_of: datetime) -> list[Hit]:
        p = self.params
        top_fused = max((c.fused_score for c in candidates), default=1.0) or 1.0
        reranked = len(rerank_scores)
        rerank_rank = {i: r for r, i in enumerate(
            sorted(range(reranked), key=lambda i: -rerank_scores[i]), 1)}
        rows = []
        for i, cand in enumerate(candidates):
            rerank = rerank_scores[i] if i < reranked else None
            # Relevance on one scale: the cross-encoder's [0, 1] where it ran; otherwise
            # fused score relative to the best one, so unreranked tails sort below.
            relevance = rerank if rerank is not None else cand.fused_score / top_fused
            if reranked and rerank is None:
                relevance = min(relevance, min(rerank_scores)) * 0.999
            decay = engagement = None
            final = relevance
            if mode == "trending":
                age_s = (as_of - cand.post.created_at).total_seconds()
                decay = time_decay(age_s, p.half_life_hours * 3600)
                engagement = engagement_factor(cand.post.likes, cand.post.reposts,
                                               cand.post.comments, p.engagement_weight)
                final = trending_score(relevance, decay, engagement)
            rows.append((cand, rerank, rerank_rank.get(i), decay, engagement, relevance, final))

        if mode == "latest":
            keep = [r for r in rows if r[5] >= p.latest_min_relevance]
            keep.sort(key=lambda r: (-r[0].post.created_at.timestamp(), -r[6], r[0].post.id))
            rows = keep
        else:
            # Ties (common in RRF: ranks 7/55 and 55/7 fuse equally) break by fused score, then
            # post id, never by the order a back end happened to return: Edge and the server
            # break ties differently, and the same query must give the same page on both.
            rows.sort(key=lambda r: (-r[6], -r[0].fused_score, r[0].post.id))

        fusion = f"rrf(k={p.rrf_k})" if p.fusion == "rrf" else "dbsf"
        return [
            Hit(post=cand.post, score=round(final, 6), explain=Explain(
                mode=mode, fusion=fusion,
                dense_rank=cand.dense_rank, dense_score=cand.dense_score,
                sparse_rank=cand.sparse_rank, sparse_score=cand.sparse_score,
                fused_rank=cand.fused_rank, fused_score=cand.fused_score,
                rerank_score=rerank, rerank_rank=rr, rerank_note=rerank_note,
                decay=decay, engagement=engagement, final=final, models=self.models,
            ))
            for cand, rerank, rr, decay, engagement, _relevance, final in rows
        ]
