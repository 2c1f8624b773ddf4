"""recall -> rerank -> boost, timed per stage, every score explained.

The pipeline owns ordering decisions only; each stage's arithmetic lives in
its own module (`recall.assemble`, `rerank.rerank_within_budget`, `boost`).
Modes differ only in the last step:

- `relevance`: cross-encoder order (recall order where the reranker did not reach);
- `trending`: relevance x time decay x engagement, relative to `as_of`, the posts
  that count for the query first (`search.topical`: the watches' rule; `search.ordering`);
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

import msgspec

from search import counting, feedback, latest
from search import cursor as cursors
from search.contracts import Encoded, SearchParams, SearchRequest
from search.dedup import collapse, group, signature
from search.embed.base import Embedder
from search.errors import FieldError
from search.explanation import describe_fusion, explained_hit
from search.facets import facet_counts, widened
from search.log import StageClock, log
from search.matching import dense_threshold, required_terms
from search.models import (
    Candidate,
    Facets,
    Hit,
    Mode,
    ParsedQuery,
    SearchResult,
)
from search.ordering import OrderParams, Typical, order
from search.query import parse_query, phrase_matcher, term_filter
from search.reads import Reads
from search.recall import RecallQuery, assemble, recall
from search.rerank import Reranker, rerank_within_budget
from search.scope import fusion_knobs, query_coverage, recent_since, visible_until
from search.store.base import Store
from search.topical import Topical, TopicVerdict

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
        self._order_params = OrderParams(
            half_life_hours=self.params.half_life_hours,
            engagement_weight=self.params.engagement_weight,
            latest_min_relevance=self.params.latest_min_relevance)
        self._knobs = fusion_knobs(embedder.info, self.params)
        # The cosine past which a post matches by meaning (`search.matching`).
        self.dense_match = (self.params.dense_match if self.params.dense_match is not None
                            else dense_threshold(embedder.info.model_id))
        # Trending's "typical count at this age": the forecaster's calibration, set by
        # whoever holds one (`server.services`, the eval's replay); None: raw counts.
        self.typical: Typical | None = None
        # Trending's gate: the watches' rule, calibrated per query and moment.
        self.topical = Topical(store)
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
        matches = self._matches(request, query, encoded, as_of)
        lap("match")
        if request.mode == "latest":
            start, page, following, read, facets = self._latest(request, query, encoded, matches,
                                                                as_of, position, print_)
            lap("latest")
        else:
            start, page, following, read, facets = self._ranked(request, query, encoded,
                                                                as_of, position, print_, lap,
                                                                matches)
        if request.explain and request.mode != "latest":  # latest pages know already
            page = counting.explain_matches(self.store, page, encoded.dense[0], matches)
        match_facets = histogram = None
        if request.facets:  # the facets' pass counts too: no separate count
            base = counting.tally(self.store, matches)
            total = base.total
            match_facets = counting.match_facets(base, {
                key: counting.tally(self.store, self._matches(
                    msgspec.structs.replace(request, filters=wider), query, encoded, as_of))
                for key, wider in widened(request.filters).items()})
            histogram = counting.histogram(base)
            if request.mode == "latest":  # no recall pool: the old field counts the matches
                facets = counting.as_facets(match_facets, base)
            lap("facets")
        else:
            total = self.store.count_matches(matches.terms_half) + len(matches.filter.point_ids)
            lap("count")
        log("search", mode=request.mode, candidates=read, total=total, returned=len(page),
            phrases=len(query.phrases), excluded=len(query.excluded), **clock.fields())
        return SearchResult(hits=page, total_candidates=read, timings_ms=clock.ms, as_of=as_of,
                            query=query, offset=start, next_cursor=following, facets=facets,
                            total=total, total_exact=matches.exact, match_facets=match_facets,
                            histogram=histogram)

    def _ranked(self, request: SearchRequest, query: ParsedQuery, encoded: Encoded,
                as_of: datetime, position: cursors.Cursor | None, print_: bytes,
                lap: Callable[[str], None], matches: counting.MatchSet,
                ) -> tuple[int, list[Hit], str | None, int, Facets | None]:
        """Relevance and trending: recall, rerank, order, collapse, page (and the recall
        pool's facets, when asked)."""
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
        gate, packed = (self.topical.gate(
            [c.post.id for c in candidates], encoded, as_of, position, matches,
            query_coverage(encoded, self.params) > 0)
            if request.mode == "trending" and self.params.trending_gate else (None, None))
        hits = self._order(request.mode, candidates, rerank, note, as_of, fusion, gate)
        if request.collapse:
            hits = collapse(hits, {c.post.id: g for c, g in zip(candidates, groups, strict=True)})
        lap("boost" if request.mode == "trending" else "order")
        shown = (position.shown_pool if position else 0)
        seen = ({c.post.id for c in self._recall(request, query, encoded, as_of, shown)[0]}
                if shown else set())
        start, page, following = cursors.paginate(
            hits, request.offset, request.limit, position, pool, more, as_of, print_, seen,
            packed)
        facets = facet_counts(candidates, groups, request.collapse, {
            key: self._recall(msgspec.structs.replace(request, filters=wider), query, encoded,
                              as_of, pool)[:2]
            for key, wider in widened(request.filters).items()}) if request.facets else None
        return start, page, following, len(candidates), facets

    def _matches(self, request: SearchRequest, query: ParsedQuery, encoded: Encoded,
                 as_of: datetime) -> counting.MatchSet:
        """The query's matches under the request's filters (`search.matching`): what
        totals, facets, the histogram and `latest` count."""
        threshold = self.dense_match if query_coverage(encoded, self.params) > 0 else None
        filters = visible_until(request.filters, as_of) if request.as_of else request.filters
        return counting.resolve(self.store, required_terms(query), encoded.dense[0].tolist(),
                                threshold, filters, term_filter(query))

    def _latest(self, request: SearchRequest, query: ParsedQuery, encoded: Encoded,
                matches: counting.MatchSet, as_of: datetime, position: cursors.Cursor | None, print_: bytes,
                ) -> tuple[int, list[Hit], str | None, int, Facets | None]:
        """The newest matches (`search.latest`), one page, and the cursor after it."""
        after = (position.last_ts, position.last_id) if position else None
        done = position.offset if position else 0
        read = latest.read_page(self.store, matches.filter, after,
                                0 if position else request.offset, request.limit,
                                phrase_matcher(query.phrases), request.collapse)
        start = done + read.skipped
        page = [latest.hit(members, start + i + 1, self.models)
                for i, members in enumerate(read.results)]
        # The score of a time-ordered result: its cosine to the query (explain says why
        # it matched either way).
        page = [msgspec.structs.replace(h, score=h.explain.similarity or 0.0,
                                        explain=msgspec.structs.replace(
                                            h.explain, final=h.explain.similarity or 0.0))
                for h in counting.explain_matches(self.store, page, encoded.dense[0], matches)]
        following = None
        if read.after is not None:
            following = cursors.encode(cursors.Cursor(
                cursors.VERSION, cursors.micros(as_of), print_, 0, 0, start + len(page),
                read.after[1], read.after[0]))
        return start, page, following, read.read, None

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
        knobs = self._knobs
        first = RecallQuery(
            dense=encoded.dense[0].tolist(), sparse=encoded.sparse[0], filters=filters,
            fusion=p.fusion, rrf_k=knobs.rrf_k, prefetch_limit=p.prefetch_limit, limit=pool,
            terms=terms,
            weights=(p.dense_weight * coverage, knobs.sparse_weight),
            **knobs.per_hit(),
        )
        reads = Reads(self.store)  # each lift and post read once, whichever pass reads it
        second, searched = feedback.second_query(self.store, first, encoded.dense[0], coverage,
                                                 holds_phrases, p, self._knobs, POOL_SLACK, reads)
        while True:
            size = {"limit": pool + POOL_SLACK,
                    "prefetch_limit": max(p.prefetch_limit, pool + POOL_SLACK)}
            reuse = searched if size["prefetch_limit"] == first.prefetch_limit else None
            response = recall(self.store, msgspec.structs.replace(second or first, **size), reuse,
                              reads)
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
               rerank_note: str, as_of: datetime, fusion: str,
               gate: list[TopicVerdict] | None = None) -> list[Hit]:
        """`search.ordering` decides; this wraps its parts into explained hits."""
        parts = order(mode, candidates, rerank_scores, as_of, self._order_params, self.typical,
                      [v.on_topic for v in gate] if gate is not None else None)
        return [
            Hit(post=candidates[s.index].post, score=float(f"{s.final:.6g}"), explain=explained_hit(
                candidates[s.index], s, mode, fusion, rerank_scores[s.index], rerank_note,
                self.models, gate[s.index] if gate is not None else None))
            for s in parts
        ]
