"""Per-query fusion weights: each list counts as much as its signal can read of the question.

Why per query: one global lexical weight was a compromise between queries whose
words the posts use (a Chinese entity query over Weibo, where BM25 is exact)
and queries whose words they do not (an English query over Chinese posts, where
BM25's top posts are the few that happen to contain one English word of it).
The dense model reads both; the lexical list's worth depends on the query.

`lexical_evidence` measures that worth from what recall already has: the share
of the query's terms that the lexical list's top posts contain. A list whose
top posts hold every query term ranks by the question; one whose top posts hold
one term in five ranks by a fragment of it. It is read from the posts' stored
sparse vectors (their term ids), so nothing is tokenised again, and it depends
only on the query and the posts, not on which language either is in.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Sequence

from search.contracts import ScoredId
from search.models import SparseVector
from search.store.base import Store

__all__ = ["evidence_of", "lexical_evidence", "lexical_weight"]


def lexical_evidence(query_terms: Collection[Hashable],
                     top_posts: Sequence[Collection[Hashable]]) -> float:
    """Mean, over the lexical list's top posts, of the share of query terms each holds.

    0 when the query has no terms or the list is empty; 1 when every top post holds
    every query term.
    """
    terms = set(query_terms)
    if not terms or not top_posts:
        return 0.0
    held: int = sum(len(terms.intersection(post)) for post in top_posts)
    return held / (len(terms) * len(top_posts))


def lexical_weight(base: float, evidence: float, power: float) -> float:
    """`base` x evidence ** `power`: full weight for a list whose top holds the whole
    query, falling fast (power > 1) for one that matches only part of it."""
    if power <= 0:
        return base
    return base * float(max(0.0, min(1.0, evidence)) ** power)


def evidence_of(store: Store, query: SparseVector, hits: Sequence[ScoredId], posts: int) -> float:
    """`lexical_evidence` of the lexical list `hits` (best first), from the stored sparse
    vectors of its top `posts` posts. Ties at the cut go by point id, so every back end
    reads the same posts."""
    if not query.indices or not hits or posts <= 0:
        return 0.0
    ordered = sorted(hits, key=lambda h: (-h.score, h.point_id))[:posts]
    stored = store.vectors([h.point_id for h in ordered])
    return lexical_evidence(query.indices, [stored[h.point_id][1].indices for h in ordered
                                            if h.point_id in stored])
