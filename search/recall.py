"""The recall stage: Qdrant finds each signal's nearest posts, `search.fusion` fuses them.

One batch call searches every signal under the same filters (the query's dense
and sparse vectors, and the feedback pair when there is one); the fused top is
then read with payloads in one more call. Both lists come back with the fused
one, so every candidate knows its dense rank, sparse rank and fused rank for
explain, at no extra search.
"""

from __future__ import annotations

from search import fusion
from search.models import Candidate
from search.store.base import RecallQuery, RecallResponse, ScoredId, Signal, Store, signal_pairs


def _fuse(query: RecallQuery, lists: list[fusion.Weighted]) -> list[ScoredId]:
    return fusion.rrf(lists, query.rrf_k) if query.fusion == "rrf" else fusion.dbsf(lists)


def recall(store: Store, query: RecallQuery,
           searched: tuple[list[ScoredId], list[ScoredId]] | None = None) -> RecallResponse:
    """The fused top `query.limit` with payloads, and the query's own dense and sparse lists.

    The query's own pair is always searched, a weight-0 signal too (explain shows
    it), unless `searched` holds its lists from an earlier call at the same
    `prefetch_limit` (feedback's first pass); the feedback pair only where it
    counts. With feedback, each pair is fused with its own weights, each fused
    list is cut to `prefetch_limit`, and the two are fused again by plain RRF.
    """
    pairs = signal_pairs(query)
    signals: list[Signal] = [] if searched else [("dense", query.dense), ("sparse", query.sparse)]
    for dense, sparse, (w_dense, w_sparse) in pairs[1:]:
        signals += [s for s, w in ((("dense", dense), w_dense), (("sparse", sparse), w_sparse))
                    if w > 0]
    found = iter(store.search(signals, query.filters, query.terms, query.prefetch_limit))
    dense_hits, sparse_hits = searched or (next(found), next(found))
    fused = [_fuse(query, [(dense_hits, query.weights[0]), (sparse_hits, query.weights[1])])]
    for _, _, (w_dense, w_sparse) in pairs[1:]:
        lists = [(next(found), w) for w in (w_dense, w_sparse) if w > 0]
        fused.append(_fuse(query, lists))
    if len(fused) > 1:
        fused = [fusion.rrf([(hits[:query.prefetch_limit], 1.0) for hits in fused], query.rrf_k)]
    top = fused[0][:query.limit]
    posts = store.posts_at([hit.point_id for hit in top])
    return RecallResponse(fused=[(hit, posts[hit.point_id]) for hit in top if hit.point_id in posts],
                          dense=dense_hits, sparse=sparse_hits)


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
