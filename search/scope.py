"""What part of the index a question may see: as-of cut-off, trending horizon, dense trust.

Search and trends both narrow their span and weigh the dense list the same
way; these helpers are that one way, so trends need not import the pipeline.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from search.contracts import Encoded, ModelInfo, SearchParams
from search.models import SearchFilters

__all__ = ["Knobs", "fusion_knobs", "query_coverage", "recent_since", "visible_until"]


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


def recent_since(filters: SearchFilters | None, since: datetime) -> SearchFilters:
    """The trending horizon, narrowed further by the caller's own `since`."""
    base = filters or SearchFilters()
    return msgspec.structs.replace(base, since=max(base.since, since) if base.since else since)


class Knobs(msgspec.Struct, frozen=True):
    """How one model's two lists are fused: RRF constant, sparse weight, per-hit scale."""

    rrf_k: int
    sparse_weight: float
    lexical_scale: float
    lexical_power: float
    feedback_dense: float
    lexical_lift: float = 0.0
    lexical_floor: float = 0.0

    def per_hit(self) -> dict[str, float]:
        """The per-hit lexical weighting as `RecallQuery` fields: every recall built
        from these knobs (search, trends' `query=`) passes the same ones."""
        return {"lexical_scale": self.lexical_scale, "lexical_power": self.lexical_power,
                "lexical_lift": self.lexical_lift, "lexical_floor": self.lexical_floor}


def fusion_knobs(model: ModelInfo, p: SearchParams) -> Knobs:
    """The fusion for this model's sparse list: BM25 (the lexical encoder, whose index uses
    Qdrant's IDF modifier) is weighed per hit by its score (`search.fusion_weights`); a
    learned sparse head (BGE-M3) keeps one weight, its scores being on no BM25 scale."""
    if model.sparse_idf:
        return Knobs(p.lexical_rrf_k, p.lexical_weight, p.lexical_scale, p.lexical_power,
                     p.lexical_feedback_dense, p.lexical_lift, p.lexical_floor)
    return Knobs(p.rrf_k, p.sparse_weight, 0.0, p.lexical_power, p.feedback_dense)
