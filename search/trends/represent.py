"""Representative posts: the few a reader should see to know what a topic is.

Candidates come best first by similarity to the topic's centroid. Copies
(retweets, pasted text: `search.dedup` signatures) and near-copies (dense
cosine above `NEAR_COPY`) collapse into their best-ranked member, which carries
the count, so ten representatives are ten different posts. Then, where the
profile has a cross-encoder, the collapsed heads are reranked against the
label ("which posts are about *this*?"); without one, centroid order stands and
the method says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from search.dedup import group, signature
from search.models import Post
from search.rerank import Reranker, rerank_within_budget
from search.trends.models import Representative

NEAR_COPY = 0.95
RERANK_POOL = 30
MAX_CANDIDATES = 500
MAX_DUPLICATE_IDS = 20


def choose(posts: Sequence[Post], similarity: Sequence[float], dense: npt.NDArray[np.float32],
           *, k: int, label: str, reranker: Reranker | None, recent: Sequence[bool] | None = None,
           budget_ms: float = 1000.0) -> tuple[list[Representative], str]:
    """Up to `k` representatives, best first, and how they were ordered.

    `recent` marks the window's posts: they come before the baseline's, which
    only fill in for a topic with fewer than `k` distinct posts in the window.
    """
    first = recent or [True] * len(posts)
    order = sorted(range(len(posts)),
                   key=lambda i: (not first[i], -similarity[i], posts[i].id))[:MAX_CANDIDATES]
    groups = group([signature(posts[i].text) for i in order])
    head_of_group: dict[int, int] = {}
    heads: list[int] = []
    copies: dict[int, list[int]] = {}
    for rank, i in enumerate(order):
        head = head_of_group.get(groups[rank])
        if head is None:
            head = next((h for h in heads if float(dense[h] @ dense[i]) >= NEAR_COPY), None)
            if head is None:
                if len(heads) >= max(k, RERANK_POOL):
                    continue
                heads.append(i)
                head = i
            head_of_group[groups[rank]] = head
        copies.setdefault(head, []).append(i)
    pool = heads
    method = "centroid similarity (no reranker in this profile)"
    if reranker is not None and pool:
        outcome = rerank_within_budget(reranker, label, [posts[i].text for i in pool],
                                       batch_size=16, budget_ms=budget_ms)
        scored = len(outcome.scores)
        ranked = sorted(range(scored), key=lambda j: -outcome.scores[j])
        pool = [pool[j] for j in ranked] + pool[scored:]
        method = f"cross-encoder {reranker.model_id} against the label; {outcome.note}"
    return [Representative(id=posts[i].id, text=posts[i].text, created_at=posts[i].created_at,
                           platform=posts[i].platform, similarity=round(float(similarity[i]), 4),
                           copies=len(copies[i]),
                           duplicate_ids=[posts[j].id for j in copies[i] if j != i][:MAX_DUPLICATE_IDS])
            for i in pool[:k]], method

