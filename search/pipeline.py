"""recall -> rerank -> boost, timed per stage, every score explained.

The pipeline owns ordering decisions only; each stage's arithmetic lives in
its own module (`recall.assemble`, `rerank.rerank_within_budget`, `boost`).
Modes differ only in the last step:

- `relevance`: cross-encoder order (recall order where the reranker did not reach);
- `trending`: relevance x time decay x engagement, relative to `as_of`;
- `latest`: the relevant candidates, newest first.

An explicit `as_of` also hides posts created after it, so a replayed past
moment sees only what existed then.

The query is parsed first (`search.query`): exact phrases and -exclusions go to
Qdrant as filters on the `terms` field, phrase order is checked here. Copies of
one text (`search.dedup`) are reranked once and, unless `collapse` is off, shown
once. Both can leave fewer results than a page needs, so recall grows its pool
(x4, up to `MAX_POOL`) until the page is full or the index has no more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated

import msgspec
from msgspec import Meta

from search import feedback
from search import cursor as cursors
from search.boost import engagement_factor, time_decay, trending_score
from search.bounds import instant_problem
from search.dedup import collapse, group, signature
from search.embed.base import Embedder, Encoded
from search.facets import facet_counts
from search.errors import FieldError
from search.log import StageClock, log
from search.models import (
    AwareDatetime,
    Candidate,
    Explain,
    Fusion,
    Hit,
    Mode,
    ParsedQuery,
    SearchFilters,
    SearchResult,
)
from search.query import parse_query, phrase_matcher, term_keys
from search.recall import RecallQuery, Searched, assemble, recall
from search.rerank import Reranker, rerank_within_budget
from search.store.base import Store, TermFilter

MAX_LIMIT = 100
MAX_OFFSET = 900
# Recall pool bound when phrases or collapsing thin the candidates out: 2x the
# deepest page, so a deep page of heavily copied text still fills.
MAX_POOL = cursors.MAX_POOL  # = 2 * (MAX_OFFSET + MAX_LIMIT)
POOL_GROWTH = cursors.GROWTH
# Recall reads a few past the page: RRF ties are common (ranks 7/55 and 55/7 fuse
# equally); the fusion orders them by point id, the page by post id, so the pool's
# edge is cut here, past the fusion's own cut.
POOL_SLACK = 10
# Signatures are pure and the same posts come back query after query (~30 us each).
_signature = lru_cache(maxsize=2**16)(signature)


class SearchParams(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Ranking knobs; defaults are what `POST /v1/search` ships with."""

    fusion: Fusion = "rrf"
    rrf_k: Annotated[int, Meta(ge=1)] = 60
    # RRF weights: dense_weight is multiplied by the dense model's coverage of the
    # query (an English-only model gives no evidence on Chinese queries).
    dense_weight: Annotated[float, Meta(ge=0)] = 1.0
    sparse_weight: Annotated[float, Meta(ge=0)] = 0.3
    prefetch_limit: Annotated[int, Meta(ge=1, le=10_000)] = 200
    # Pseudo-relevance feedback (search.feedback): 0 posts turns it off.
    feedback_posts: Annotated[int, Meta(ge=0, le=100)] = 10
    feedback_terms: Annotated[int, Meta(ge=0, le=100)] = 10
    feedback_dense: Annotated[float, Meta(ge=0)] = 1.0
    feedback_sparse: Annotated[float, Meta(ge=0)] = 0.5
    # Below this share of known word pieces the dense vector is noise (an English-only
    # model reading Chinese): the dense list gets weight 0 and there is no feedback,
    # whose first-pass top would be lexical only and whose query words already match.
    min_coverage: Annotated[float, Meta(ge=0, le=1)] = 0.5
    rerank_depth: Annotated[int, Meta(ge=0, le=1000)] = 50
    rerank_batch: Annotated[int, Meta(ge=1)] = 16
    rerank_budget_ms: Annotated[float, Meta(gt=0)] = 3000.0
    half_life_hours: Annotated[float, Meta(gt=0)] = 36.0
    # Trending recalls only posts of the last `trending_horizon_hours` (0: no bound): a
    # post many half-lives old cannot trend, and the pool is better spent on recent ones.
    trending_horizon_hours: Annotated[float, Meta(ge=0)] = 72.0
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
    collapse: bool = True
    # The previous page's `next_cursor` (`search.cursor`); replaces `offset`.
    cursor: Annotated[str, Meta(min_length=1, max_length=512)] | None = None
    facets: bool = False

    def __post_init__(self) -> None:
        if self.as_of is not None and (problem := instant_problem(self.as_of)):
            raise ValueError(f"`as_of`: {problem}")  # `search.bounds`: later arithmetic overflows


def term_filter(query: ParsedQuery) -> TermFilter | None:
    """The exact-match part of a query, as keys of the `terms` payload field."""
    if not query.phrases and not query.excluded:
        return None
    require = [key for phrase in query.phrases for key in term_keys(phrase)]
    return TermFilter(require=tuple(dict.fromkeys(require)),
                      exclude=tuple(tuple(term_keys(term)) for term in query.excluded))


def visible_until(filters: SearchFilters | None, as_of: datetime) -> SearchFilters:
    """Posts created after an explicit `as_of` do not exist yet from its point of view.

    Only for an explicit `as_of`: the range filter turns Edge's dense search into a
    filtered scan (recall 8 -> 22 ms at 100k points), a price not worth paying to hide
    the odd post whose clock runs ahead of ours.
    """
    base = filters or SearchFilters()
    until = min(base.until, as_of) if base.until else as_of
    return msgspec.structs.replace(base, until=until)


def query_coverage(encoded: Encoded, p: SearchParams) -> float:
    """The dense model's coverage of the query, 0 below `min_coverage`: the dense list's
    RRF weight is `dense_weight` times this, so an English-only model reading Chinese
    adds no noise (and its search is skipped)."""
    coverage = encoded.coverage[0] if encoded.coverage else 1.0
    return coverage if coverage >= p.min_coverage else 0.0


def describe_fusion(query: RecallQuery, fed_back: bool, p: SearchParams) -> str:
    """How recall fused its lists, for explain: weights as applied to this query."""
    if query.fusion == "dbsf":
        return "dbsf"
    dense, sparse = query.weights
    text = f"rrf(k={query.rrf_k}, dense {dense:.2f}, sparse {sparse:.2f})"
    if fed_back:
        fd, fs = query.feedback_weights
        text = (f"rrf(k={query.rrf_k}) of {text} and feedback from the top {p.feedback_posts} "
                f"posts (+{p.feedback_terms} terms): rrf(k={query.rrf_k}, dense {fd:.2f}, "
                f"sparse {fs:.2f})")
    return text


def recent_since(filters: SearchFilters | None, since: datetime) -> SearchFilters:
    """The trending horizon, narrowed further by the caller's own `since`."""
    base = filters or SearchFilters()
    return msgspec.structs.replace(base, since=max(base.since, since) if base.since else since)


def _open_cursor(request: SearchRequest, print_: bytes) -> cursors.Cursor | None:
    if request.cursor is None:
        return None
    if request.offset:
        raise FieldError("offset", "give `offset` or `cursor`, not both: the cursor knows its place")
    return cursors.decode(request.cursor, print_)


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
        query = parse_query(request.query)
        print_ = cursors.fingerprint(request.query, request.mode, request.filters,
                                     request.collapse, request.as_of)
        position = _open_cursor(request, print_)
        if position is not None:  # page 2+: page 1's moment, so the same posts in the same order
            request = msgspec.structs.replace(request, as_of=position.as_of)
        as_of = (request.as_of or now or datetime.now(UTC)).astimezone(UTC)
        clock = StageClock()
        lap = clock.lap

        encoded = self.embedder.encode_queries([query.text])
        lap("embed")
        fixed = position.pool if position else None
        candidates, groups, pool, more, fusion = self._recall(request, query, encoded, as_of,
                                                              fixed)
        if not candidates and request.mode == "trending" and self.params.trending_horizon_hours > 0:
            # Nothing recent on the topic (an archive, a quiet story): rank what there is,
            # decayed, rather than answer with nothing.
            candidates, groups, pool, more, fusion = self._recall(request, query, encoded,
                                                                  as_of, fixed, horizon=False)
        lap("recall")
        rerank, note = self._rerank(query.text, candidates, groups)
        lap("rerank")
        hits = self._order(request.mode, candidates, rerank, note, as_of, fusion)
        if request.collapse:
            hits = collapse(hits, {c.post.id: g for c, g in zip(candidates, groups, strict=True)})
        lap("boost" if request.mode == "trending" else "order")
        start, page, following = cursors.paginate(
            hits, request.offset, request.limit, position, pool, more, as_of, print_,
            shown=lambda tier: {c.post.id for c in self._recall(request, query, encoded, as_of,
                                                                tier)[0]})
        facets = facet_counts(
            candidates, groups, request.collapse, request.filters,
            lambda f: self._recall(msgspec.structs.replace(request, filters=f), query, encoded,
                                   as_of, pool)[:2]) if request.facets else None
        if facets:
            lap("facets")
        log("search", mode=request.mode, candidates=len(candidates), pool=pool,
            reranked=sum(s is not None for s in rerank), results=len(hits), returned=len(page),
            phrases=len(query.phrases), excluded=len(query.excluded),
            **clock.fields())
        return SearchResult(hits=page, total_candidates=len(candidates), timings_ms=clock.ms,
                            as_of=as_of, query=query, offset=start, next_cursor=following,
                            facets=facets)

    def _recall(self, request: SearchRequest, query: ParsedQuery, encoded: Encoded,
                as_of: datetime, fixed: int | None = None, horizon: bool = True,
                ) -> tuple[list[Candidate], list[int], int, bool, str]:
        """Candidates that hold every phrase in order, their copy groups, the pool used,
        whether the index may hold more than the pool, and how recall fused (for explain).

        The pool starts at the rerank depth, or just past the page's end, and grows
        only when phrases or copies leave too few distinct results for the page.
        A cursor fixes it (`fixed`): one candidate set per tier of pages.
        """
        p = self.params
        need = request.offset + request.limit + 1  # one past the page: is there a next one?
        pool = fixed or max(p.rerank_depth, need + POOL_SLACK)
        holds_phrases = phrase_matcher(query.phrases)
        terms = term_filter(query)
        filters = visible_until(request.filters, as_of) if request.as_of else request.filters
        if horizon and request.mode == "trending" and p.trending_horizon_hours > 0:
            filters = recent_since(filters, as_of - timedelta(hours=p.trending_horizon_hours))
        coverage = query_coverage(encoded, p)
        first = RecallQuery(
            dense=encoded.dense[0].tolist(), sparse=encoded.sparse[0], filters=filters,
            fusion=p.fusion, rrf_k=p.rrf_k, prefetch_limit=p.prefetch_limit, limit=pool,
            terms=terms,
            weights=(p.dense_weight * coverage, p.sparse_weight),
        )
        second, searched = self._feedback(first, encoded, coverage, holds_phrases)
        while True:
            size = {"limit": pool + POOL_SLACK,
                    "prefetch_limit": max(p.prefetch_limit, pool + POOL_SLACK)}
            reuse = searched if size["prefetch_limit"] == first.prefetch_limit else None
            response = recall(self.store, msgspec.structs.replace(second or first, **size), reuse)
            # The pool's edge is cut here, ties by post id, not by the back end: facets and
            # trending/latest pages read the whole pool, so its membership must not depend on
            # which store answered.
            recalled = [msgspec.structs.replace(c, fused_rank=rank) for rank, c in enumerate(
                sorted(assemble(response), key=lambda c: (-c.fused_score, c.post.id))[:pool], 1)]
            candidates = [c for c in recalled if holds_phrases(c.post.text)]
            groups = group([_signature(c.post.text) for c in candidates])
            found = len(set(groups)) if request.collapse else len(candidates)
            more = len(response.fused) > pool or not response.complete
            if fixed or found >= need or not more or pool >= MAX_POOL:
                return candidates, groups, pool, more, describe_fusion(
                    second or first, second is not None, p)
            pool = min(pool * POOL_GROWTH, MAX_POOL)

    def _feedback(self, first: RecallQuery, encoded: Encoded, coverage: float,
                  holds_phrases: Callable[[str], bool],
                  ) -> tuple[RecallQuery | None, Searched | None]:
        """The second recall's query, built from the first recall's top posts
        (`search.feedback`), or None when feedback is off or found nothing; and the
        first pass's own lists, which the second recall reuses at the same depth."""
        p = self.params
        if p.feedback_posts == 0 or p.fusion != "rrf" or coverage < p.min_coverage:
            return None, None
        response = recall(self.store, msgspec.structs.replace(
            first, limit=p.feedback_posts + POOL_SLACK))
        searched = (response.dense, response.sparse)
        top = [h.point_id for h, post in sorted(response.fused, key=lambda r: (-r[0].score, r[1].id))
               if holds_phrases(post.text)][:p.feedback_posts]
        if not top:
            return None, searched
        stored = self.store.vectors(top)
        vectors = [stored[i] for i in top if i in stored]
        dense = feedback.dense_query(encoded.dense[0], coverage, [d for d, _ in vectors],
                                     p.feedback_dense)
        sparse = feedback.sparse_query(encoded.sparse[0], [s for _, s in vectors],
                                       terms=p.feedback_terms, weight=p.feedback_sparse)
        # The moved dense query is made of posts: full dense weight.
        return msgspec.structs.replace(first, feedback=(dense, sparse),
                                       feedback_weights=(p.dense_weight, p.sparse_weight)), searched

    def _rerank(self, text: str, candidates: list[Candidate],
                groups: list[int]) -> tuple[list[float | None], str]:
        """Cross-encoder scores per candidate (None past the depth or the budget).

        Each distinct text is read once, the group's best-recalled copy standing
        for the rest: ten retweets cost one pair, and the depth reaches ten texts.
        """
        p = self.params
        firsts = [i for i, g in enumerate(groups) if g == i][:p.rerank_depth]
        outcome = rerank_within_budget(
            self.reranker, text, [candidates[i].post.text for i in firsts],
            batch_size=p.rerank_batch, budget_ms=p.rerank_budget_ms)
        by_group = {firsts[j]: score for j, score in enumerate(outcome.scores)}
        return [by_group.get(g) for g in groups], outcome.note

    def _order(self, mode: Mode, candidates: list[Candidate], rerank_scores: list[float | None],
               rerank_note: str, as_of: datetime, fusion: str) -> list[Hit]:
        p = self.params
        top_fused = max((c.fused_score for c in candidates), default=1.0) or 1.0
        scored = sorted((-s, i) for i, s in enumerate(rerank_scores) if s is not None)
        rerank_rank = {i: r for r, (_, i) in enumerate(scored, 1)}
        floor = -scored[-1][0] if scored else None
        rows = []
        for i, cand in enumerate(candidates):
            rerank = rerank_scores[i]
            # Relevance on one scale: the cross-encoder's [0, 1] where it ran; otherwise
            # fused score relative to the best one, so unreranked tails sort below.
            relevance = rerank if rerank is not None else cand.fused_score / top_fused
            if floor is not None and rerank is None:
                relevance = min(relevance, floor) * 0.999
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
