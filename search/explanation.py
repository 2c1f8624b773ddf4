"""What a hit's `explain` says about how it was found and scored.

Why a module of its own: the pipeline decides the order; these are the words
and numbers a reader sees for it, kept beside each other so the explanation
of fusion (weights as applied to this query) and the per-hit parts stay in
one place.
"""

from __future__ import annotations

from search.contracts import SearchParams
from search.models import Candidate, Explain, Mode
from search.ordering import ScoreParts
from search.recall import RecallQuery
from search.topical import TopicVerdict


def describe_fusion(query: RecallQuery, fed_back: bool, p: SearchParams) -> str:
    """How recall fused its lists, for explain: weights as applied to this query."""
    if query.fusion == "dbsf":
        return "dbsf"
    dense, sparse = query.weights
    lifted = (f" x long-post lift^{query.lexical_lift:g}" if query.lexical_lift > 0 else "")
    floor = (f" (0 if under {query.lexical_floor:g})" if query.lexical_floor > 0 else "")
    per_hit = (f" x min(1, bm25{lifted} / {query.lexical_scale:g})^{query.lexical_power:g}"
               f"{floor} per post"
               if query.lexical_scale > 0 and sparse > 0 else "")
    text = f"rrf(k={query.rrf_k}, dense {dense:.2f}, sparse {sparse:.2f}{per_hit})"
    if fed_back:
        fd, fs = query.feedback_weights
        text = (f"rrf(k={query.rrf_k}) of {text} and feedback from the top {p.feedback_posts} "
                f"posts (+{p.feedback_terms} terms): rrf(k={query.rrf_k}, dense {fd:.2f}, "
                f"sparse {fs:.2f}{per_hit})")
    return text


def explained_hit(cand: Candidate, parts: ScoreParts, mode: Mode, fusion: str,
                  rerank: float | None, rerank_note: str, models: dict[str, str],
                  gate: TopicVerdict | None = None) -> Explain:
    """One hit's explain: every stage's rank and score, the order's parts, and trending's
    gate with the evidence it weighed (`search.topical`)."""
    return Explain(
        mode=mode, fusion=fusion, dense_rank=cand.dense_rank, dense_score=cand.dense_score,
        sparse_rank=cand.sparse_rank, sparse_score=cand.sparse_score,
        fused_rank=cand.fused_rank, fused_score=cand.fused_score, rerank_score=rerank,
        rerank_rank=parts.rerank_rank, rerank_note=rerank_note, decay=parts.decay,
        engagement=parts.engagement, final=parts.final, models=models,
        relevance=parts.relevance,
        on_topic=gate.on_topic if gate else None, on_topic_rule=gate.rule if gate else None,
        topic_z=gate.z if gate else None, topic_terms=gate.terms if gate else None)
