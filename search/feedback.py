"""Pseudo-relevance feedback: a second recall from what the first one found.

Why: newsroom queries are two or three words ("Hurricane Sandy", "二胎"), while
the posts about a story number in thousands and mostly use other words. The
top posts of the first recall are a far richer description of the story than
the query, so the second recall asks with them (Rocchio, 1971; RM3 on the
lexical side):

- dense: the query vector moved towards the centroid of the feedback posts'
  stored vectors;
- sparse: the query's terms plus the terms that weigh most in the feedback
  posts' stored sparse vectors, each at a fraction of a query term's weight.

It also bridges languages: an English query over Chinese posts finds a few
good posts through the dense side, and their Chinese terms then recall the
rest through the sparse side.

Everything is read from the index (no re-embedding), so the price is one more
recall call. No library does this over Qdrant's stored vectors; it is a few
array operations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import msgspec
import numpy as np
import numpy.typing as npt

from search.contracts import SearchParams
from search.models import SparseVector
from search.reads import Reads
from search.recall import RecallQuery, Searched, recall
from search.store.base import Store

if TYPE_CHECKING:
    from search.scope import Knobs


def dense_query(query: npt.NDArray[np.float32], query_weight: float,
                feedback: Sequence[Sequence[float]], weight: float) -> list[float]:
    """normalise(query_weight * q + weight * mean(feedback)); q alone without feedback.

    `query_weight` is the dense model's coverage of the query: an English-only
    model's vector of a Chinese query is noise, and the feedback centroid, made
    of posts, then carries the search alone.
    """
    q = np.asarray(query, dtype=np.float64) * query_weight
    if len(feedback) and weight > 0:
        q = q + weight * np.asarray(feedback, dtype=np.float64).mean(axis=0)
    norm = float(np.linalg.norm(q))
    if norm == 0.0:
        return [float(v) for v in query]
    return [float(v) for v in q / norm]


def sparse_query(query: SparseVector, feedback: Sequence[SparseVector], *, terms: int,
                 weight: float) -> SparseVector:
    """The query's terms, plus the `terms` heaviest feedback terms, the heaviest at
    `weight` times the query's heaviest term.

    A term's feedback weight is its mean stored value over the feedback posts
    (0 where absent), scaled so the heaviest gets `weight`: a term in every post
    counts more than one post's repeated word. The index's IDF (Qdrant's
    modifier, for the lexical encoder) then damps common words as for any term.
    """
    if not feedback or terms <= 0 or weight <= 0:
        return query
    sums: dict[int, float] = {}
    for vector in feedback:
        for index, value in zip(vector.indices, vector.values, strict=True):
            sums[index] = sums.get(index, 0.0) + value
    own = set(query.indices)
    ranked = sorted(((-total, index) for index, total in sums.items() if index not in own))[:terms]
    if not ranked:
        return query
    top = -ranked[0][0]
    # Relative to the query's own heaviest term: 1.0 for the lexical encoder, a
    # learned weight for BGE-M3's sparse head.
    scale = weight * max(query.values, default=1.0)
    added = {index: scale * (-total) / top for total, index in ranked}
    merged = dict(zip(query.indices, query.values, strict=True)) | added
    indices = sorted(merged)
    return SparseVector(indices=indices, values=[merged[i] for i in indices])


def second_query(store: Store, first: RecallQuery, query_dense: npt.NDArray[np.float32],
                 coverage: float, holds_phrases: Callable[[str], bool], p: SearchParams,
                 knobs: Knobs, slack: int, reads: Reads | None = None,
                 ) -> tuple[RecallQuery | None, Searched | None]:
    """The second recall's query, built from the first recall's top posts, or None when
    feedback is off or found nothing; and the first pass's own lists, which the second
    recall reuses at the same depth. `slack`: how far past the feedback posts the first
    pass reads (RRF ties at its edge, as in the pipeline's pool). `reads`: the search's
    read memo (`search.reads`), so the second recall reads no lift or post twice."""
    if p.feedback_posts == 0 or p.fusion != "rrf" or coverage < p.min_coverage:
        return None, None
    reads = reads or Reads(store)
    response = recall(store, msgspec.structs.replace(first, limit=p.feedback_posts + slack),
                      reads=reads)
    searched = (response.dense, response.sparse)
    top = [h.point_id for h, post in sorted(response.fused, key=lambda r: (-r[0].score, r[1].id))
           if holds_phrases(post.text)][:p.feedback_posts]
    if not top:
        return None, searched
    # With e5 the dense query stays put (`Knobs.feedback_dense` 0): moved towards the
    # feedback posts it drifted and lost recall; their words are the bridge instead, so
    # only their sparse vectors are read (most already were, for their lifts).
    dense = first.dense
    if knobs.feedback_dense <= 0:
        held = reads.sparse_vectors(top)
        words = [held[i] for i in top if i in held]
    else:
        stored = store.vectors(top)
        vectors = [stored[i] for i in top if i in stored]
        dense = dense_query(query_dense, coverage, [d for d, _ in vectors], knobs.feedback_dense)
        words = [s for _, s in vectors]
    sparse = sparse_query(first.sparse, words, terms=p.feedback_terms, weight=p.feedback_sparse)
    # The moved dense query is made of posts: full dense weight.
    return msgspec.structs.replace(first, feedback=(dense, sparse), feedback_weights=(
        p.dense_weight, knobs.sparse_weight)), searched
