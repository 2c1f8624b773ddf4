"""Fusing the signal lists Qdrant returns: weighted RRF with tied scores tied, and DBSF.

Why not Qdrant's own fusion: Qdrant (Edge, server and qdrant-client's local mode
alike) ranks a list by position, so posts with equal scores get consecutive ranks
in the engine's internal order. Equal scores are everyday in posts: every tweet
of the same length that uses the query word once has the same BM25 score, and a
retweet has its original's dense vector. Hundreds of posts tied at one lexical
score were spread over ranks 5 to 300, their RRF share differing by a factor of
five for no reason, and that internal order changes from one build of the same
index to the next: the same evaluation gave nDCG@10 0.946, 0.952 and 0.959 on
TweetEval in three runs. Here tied scores share the best rank of their group
(competition ranking, "1224"), so the other signal alone orders them, and one
input gives one answer on every back end. The numbers behind the choice are in
docs/decisions/0001-fusion-in-python.md.

DBSF is Qdrant's definition (as qdrant-client's local mode computes it, which
the tests hold it to); it fuses scores, not ranks, so ties need no care there.
Written here rather than imported so that only `search.store` imports Qdrant.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

from search.contracts import ScoredId

# A list's weight: one number, or one per hit (the lexical list weighs each post by how
# much of the query it holds, `search.fusion_weights`).
Weight = float | Callable[[ScoredId], float]
# A ranked list of one signal, best first, and its weight in the fusion.
Weighted = tuple[Sequence[ScoredId], Weight]


def counts(weight: Weight) -> bool:
    """Whether a list of this weight adds anything (a per-hit weight always may)."""
    return callable(weight) or weight > 0


def competition_ranks(hits: Sequence[ScoredId]) -> list[int]:
    """1-based rank of each hit (best first), equal scores sharing the best rank of the group."""
    ranks: list[int] = []
    for position, hit in enumerate(hits, 1):
        tied = ranks and hit.score == hits[position - 2].score
        ranks.append(ranks[-1] if tied else position)
    return ranks


def ordered(scores: dict[str, float]) -> list[ScoredId]:
    """Best first; equal scores by point id, so every back end gives one order."""
    return [ScoredId(point_id=pid, score=score)
            for pid, score in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]


def rrf(lists: Sequence[Weighted], k: int) -> list[ScoredId]:
    """Weighted reciprocal rank fusion, Qdrant's formula: each list adds
    1 / (rank / weight + k - 1), rank from 1; a list (or hit) of weight 0 adds nothing.
    A per-hit weight is a function of the hit (its score, and its length for the lexical
    list), so tied hits share a rank but may weigh differently."""
    scores: dict[str, float] = {}
    for hits, weight in lists:
        if not counts(weight):
            continue
        # `competition_ranks` inline: this loop runs for ~1,000 hits a search.
        per_hit = weight if callable(weight) else None
        fixed = 0.0 if callable(weight) else weight
        rank, previous = 0, 0.0
        for position, hit in enumerate(hits, 1):
            if position == 1 or hit.score != previous:
                rank = position
            previous = hit.score
            w = fixed if per_hit is None else per_hit(hit)
            if w > 0:
                scores[hit.point_id] = scores.get(hit.point_id, 0.0) + 1.0 / (rank / w + k - 1)
    return ordered(scores)


def dbsf(lists: Sequence[Weighted]) -> list[ScoredId]:
    """Distribution-based score fusion: each list's scores mapped by mean +- 3 sample
    std to about [0, 1] (0.5 for a list of one, or of equal scores), then summed.
    Lists of weight 0 are left out; other weights do not scale (as in Qdrant)."""
    scores: dict[str, float] = {}
    for hits, weight in lists:
        if not counts(weight) or not hits:
            continue
        values = [hit.score for hit in hits]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        low = statistics.fmean(values) - 3 * spread
        for hit in hits:
            share = (hit.score - low) / (6 * spread) if spread > 0 else 0.5
            scores[hit.point_id] = scores.get(hit.point_id, 0.0) + share
    return ordered(scores)
