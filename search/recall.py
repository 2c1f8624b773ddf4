"""The recall stage: dense and sparse prefetches fused inside Qdrant.

Qdrant returns only the fused score, so the store also runs each signal on
its own (one batched call) and `assemble` joins the lists: every candidate
knows its dense rank, sparse rank and fused rank for explain.
"""

from __future__ import annotations

from search.models import Candidate
from search.store.base import RecallResponse


def assemble(response: RecallResponse) -> list[Candidate]:
    """Candidates in fused order, annotated with each signal's 1-based rank and score."""
    dense = {hit.point_id: (rank, hit.score) for rank, hit in enumerate(response.dense, 1)}
    sparse = {hit.point_id: (rank, hit.score) for rank, hit in enumerate(response.sparse, 1)}
    out = []
    for rank, (hit, post) in enumerate(response.fused, 1):
        d_rank, d_score = dense.get(hit.point_id, (None, None))
        s_rank, s_score = sparse.get(hit.point_id, (None, None))
        out.append(Candidate(
            point_id=hit.point_id, post=post, fused_score=hit.score, fused_rank=rank,
            dense_rank=d_rank, dense_score=d_score, sparse_rank=s_rank, sparse_score=s_score,
        ))
    return out
