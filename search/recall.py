"""The recall stage: Qdrant finds each signal's nearest posts, `search.fusion` fuses them.

One batch call searches every signal that counts under the same filters (the
query's dense and sparse vectors, and the feedback pair when there is one); the
fused top is then read with payloads in one more call. The query's own lists
come back with the fused one, so every candidate knows its dense rank, sparse
rank and fused rank for explain, at no extra search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec

from search import fusion
from search.contracts import ScoredId, TermFilter
from search.fusion_weights import hit_weight
from search.models import Candidate, Post, SearchFilters, SparseVector
from search.reads import Reads
from search.store.base import Signal, Store


class RecallQuery(msgspec.Struct, frozen=True):
    """One hybrid query: both signals, how to fuse them, and the filters they share."""

    dense: list[float]
    sparse: SparseVector
    filters: SearchFilters | None
    fusion: Literal["rrf", "dbsf"]
    rrf_k: int
    # Posts each signal contributes to the fusion.
    prefetch_limit: int
    limit: int
    # Weight of the dense and the sparse list in the fusion (RRF: each list adds
    # 1 / (rank / w + k - 1); DBSF only tells 0 from not 0). A weight of 0 leaves that
    # list out, unsearched: a signal the query gives no evidence for (an English-only
    # model reading Chinese) must not add noise, nor cost a search.
    weights: tuple[float, float] = (1.0, 1.0)
    # Pseudo-relevance feedback (search.feedback): a second dense + sparse pair, fused
    # with its own weights; the two fused lists are then fused again by plain RRF, so
    # the first recall's top stays near the top while the second widens the pool.
    feedback: tuple[list[float], SparseVector] | None = None
    feedback_weights: tuple[float, float] = (1.0, 1.0)
    terms: TermFilter | None = None
    # Each lexical hit weighs sparse weight x min(1, score / lexical_scale) ** lexical_power
    # (`search.fusion_weights`); a scale of 0 weighs every hit alike.
    lexical_scale: float = 0.0
    lexical_power: float = 2.0
    # With a scale: each lexical hit's score is first multiplied by its length lift
    # raised to this power (`search.fusion_weights.length_lift`, read from its stored
    # vector): 0 no lift, 1 brought to the encoder's nominal length.
    lexical_lift: float = 0.0
    # With a scale: a hit whose per-hit share is under this weighs 0.
    lexical_floor: float = 0.0


class RecallResponse(msgspec.Struct, frozen=True):
    """The fused list (with payloads) and the query's own dense and sparse lists, for explain
    (empty for a signal of weight 0).

    `complete`: no signal list was cut by `prefetch_limit`, so a deeper recall would
    find nothing more. The fused list alone cannot say so: a cut tie group is left out.
    """

    fused: list[tuple[ScoredId, Post]]
    dense: list[ScoredId]
    sparse: list[ScoredId]
    complete: bool = True


# The query's own lists from an earlier recall of the same query at the same depth.
Searched = tuple[list[ScoredId], list[ScoredId]]


def signal_pairs(query: RecallQuery) -> list[tuple[list[float], SparseVector, tuple[float, float]]]:
    """(dense, sparse, weights) of each fused pair: the query's, then the feedback's."""
    pairs = [(query.dense, query.sparse, query.weights)]
    if query.feedback is not None:
        pairs.append((query.feedback[0], query.feedback[1], query.feedback_weights))
    return pairs


def seen_whole(hits: Sequence[ScoredId], limit: int) -> Sequence[ScoredId]:
    """A list cut by `limit`, without its last tie group when that group may run past the cut.

    Why: which members of a tie group that runs past the limit the back end returns is
    its own choice (Edge's differs from build to build), and tied posts share the
    group's best rank, so the members that made the cut would each get that share and
    the rest nothing. A group seen in part is left to the other signal to order.
    """
    if len(hits) < limit or len(hits) < 2 or hits[-1].score != hits[-2].score:
        return hits
    return [hit for hit in hits if hit.score != hits[-1].score]


def _fusable(lists: list[fusion.Weighted], limit: int) -> list[fusion.Weighted]:
    """The pair's lists with part-seen tie groups left out (`seen_whole`), unless that
    leaves nothing at all: then the back end's part is all there is to rank by."""
    whole = [(seen_whole(hits, limit), w) for hits, w in lists]
    return whole if any(hits for hits, w in whole if fusion.counts(w)) else lists


def recall(store: Store, query: RecallQuery, searched: Searched | None = None,
           reads: Reads | None = None) -> RecallResponse:
    """The fused top `query.limit` with payloads, and the query's own dense and sparse lists.

    Each pair is fused with its own weights; with feedback, each fused list is cut to
    `prefetch_limit` and the two are fused again by plain RRF. `searched`: the query's
    own lists from an earlier recall with the same vectors, filters, terms and
    `prefetch_limit` (feedback's first pass), used instead of searching them again.
    `reads`: the lifts and posts this search's earlier recalls read (`search.reads`).
    """
    reads = reads or Reads(store)
    pairs = signal_pairs(query)
    # Feedback that keeps the query's dense vector (e5) shares the query's dense list,
    # when the query searched it (a dense weight of 0 left that list empty).
    same_dense = len(pairs) > 1 and pairs[1][0] == pairs[0][0] and pairs[0][2][0] > 0
    wanted: list[tuple[int, Signal, float]] = []  # (pair, signal, weight), weight > 0
    for pair, (dense, sparse, (w_dense, w_sparse)) in enumerate(pairs):
        if pair == 0 and searched is not None:
            continue
        if pair == 1 and same_dense:
            w_dense = 0.0  # not searched again; copied below
        wanted += [(pair, signal, w) for signal, w in
                   ((("dense", dense), w_dense), (("sparse", sparse), w_sparse)) if w > 0]
    results = (store.search([signal for _, signal, _ in wanted], query.filters, query.terms,
                            query.prefetch_limit) if wanted else [])
    lists: dict[tuple[int, str], list[ScoredId]] = {}
    for (pair, (using, _), _), hits in zip(wanted, results, strict=True):
        lists[(pair, using)] = hits
    if searched is not None:
        lists[(0, "dense")], lists[(0, "sparse")] = searched
    if same_dense and pairs[1][2][0] > 0:
        lists[(1, "dense")] = lists.get((0, "dense"), [])
    complete = all(len(hits) < query.prefetch_limit for hits in lists.values())

    # Which hits each pair fuses does not depend on the lifts (a per-hit weight always
    # counts), so the lifts are read only for the lexical hits that are fused.
    fusable: list[tuple[list[fusion.Weighted], float, float]] = []  # lists, w_sparse, floor
    for pair, (_, _, (w_dense, w_sparse)) in enumerate(pairs):
        # The floor keeps weak lexical hits from reordering the dense list's tail; with no
        # dense list fused (a dense weight of 0) every lexical hit is all there is.
        floor = query.lexical_floor if w_dense > 0 else 0.0
        unlifted = hit_weight(w_sparse, query.lexical_scale, query.lexical_power, None, floor)
        fusable.append((_fusable([(lists.get((pair, "dense"), []), w_dense),
                                  (lists.get((pair, "sparse"), []), unlifted)],
                                 query.prefetch_limit), w_sparse, floor))
    lift = _lifts(reads, query, [pair_lists[1][0] for pair_lists, _, _ in fusable])
    fused = []
    for (dense_part, (sparse_hits, _)), w_sparse, floor in fusable:
        lexical = hit_weight(w_sparse, query.lexical_scale, query.lexical_power, lift, floor)
        weighted = [dense_part, (sparse_hits, lexical)]
        fused.append(fusion.rrf(weighted, query.rrf_k) if query.fusion == "rrf"
                     else fusion.dbsf(weighted))
    if len(fused) > 1:
        fused = [fusion.rrf([(hits[:query.prefetch_limit], 1.0) for hits in fused], query.rrf_k)]
    top = fused[0][:query.limit]
    posts = reads.posts(hit.point_id for hit in top)
    return RecallResponse(
        fused=[(hit, posts[hit.point_id]) for hit in top if hit.point_id in posts],
        dense=lists.get((0, "dense"), []), sparse=lists.get((0, "sparse"), []), complete=complete)


def _lifts(reads: Reads, query: RecallQuery,
           lexical: list[Sequence[ScoredId]]) -> Mapping[str, float] | None:
    """The length lift of each fused lexical hit it can change: a hit scoring `lexical_scale`
    or more weighs in full however long its post (a lift is never under 1), so only the
    others are read (one read for every pair's hits: the lift is the post's, whatever the
    query)."""
    if query.lexical_lift <= 0 or query.lexical_scale <= 0:
        return None
    ids = [hit.point_id for hits in lexical for hit in hits if hit.score < query.lexical_scale]
    return reads.lifts(ids, query.lexical_lift) if ids else None


def assemble(response: RecallResponse) -> list[Candidate]:
    """Candidates in fused order, annotated with each signal's 1-based rank and score
    (tied scores share a rank, as the fusion counted them)."""
    dense = {hit.point_id: (rank, hit.score) for hit, rank in
             zip(response.dense, fusion.competition_ranks(response.dense), strict=True)}
    sparse = {hit.point_id: (rank, hit.score) for hit, rank in
              zip(response.sparse, fusion.competition_ranks(response.sparse), strict=True)}
    out = []
    for rank, (hit, post) in enumerate(response.fused, 1):
        d_rank, d_score = dense.get(hit.point_id, (None, None))
        s_rank, s_score = sparse.get(hit.point_id, (None, None))
        out.append(Candidate(
            point_id=hit.point_id, post=post, fused_score=hit.score, fused_rank=rank,
            dense_rank=d_rank, dense_score=d_score, sparse_rank=s_rank, sparse_score=s_score,
        ))
    return out
