"""The rerank stage: a cross-encoder reads query and post together.

Recall ranks by vectors computed apart; a cross-encoder sees both texts at
once and so separates "about X" from "mentions X". It is the expensive stage,
so it runs on the top `depth` candidates only, batched, within a time budget.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import msgspec


@runtime_checkable
class Reranker(Protocol):
    @property
    def model_id(self) -> str: ...

    def score(self, query: str, texts: list[str]) -> list[float]:
        """Relevance in [0, 1] per text, in input order."""
        ...


class RerankOutcome(msgspec.Struct, frozen=True):
    """Scores for the first `len(scores)` candidates; the rest kept recall order."""

    scores: list[float]
    note: str


def rerank_within_budget(reranker: Reranker | None, query: str, texts: list[str], *,
                         batch_size: int, budget_ms: float) -> RerankOutcome:
    """Score `texts` batch by batch until done or the budget is spent.

    Why batches: a single huge forward pass cannot be interrupted, so the
    budget is checked between batches and the answer degrades to recall order
    for the unscored tail instead of arriving late.
    """
    if reranker is None:
        return RerankOutcome(scores=[], note="no reranker in this profile: recall order kept")
    scores: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        elapsed_ms = (time.perf_counter() - started) * 1000
        if scores and elapsed_ms > budget_ms:
            return RerankOutcome(
                scores=scores,
                note=(f"time budget {budget_ms:.0f} ms spent after {len(scores)} of "
                      f"{len(texts)} candidates: the rest keep recall order"),
            )
        scores.extend(reranker.score(query, texts[start:start + batch_size]))
    return RerankOutcome(scores=scores, note=f"{len(scores)} candidates reranked by {reranker.model_id}")
