"""The last stage of a search: one relevance scale, then the mode's order. Pure.

Numbers in, numbers out: candidates' fused scores, the reranker's scores, ages
and engagement counts go in; per-hit `ScoreParts` and the order come out, so
every rule here is tested by properties (`tests/unit/test_ordering.py`) with
no index and no model.

- **Relevance on one scale**: the cross-encoder's score where it ran; elsewhere
  the fused score relative to the best fused score, capped just below the
  lowest reranked score, so an unreranked tail never jumps a reranked head.
- **relevance** mode: by relevance. **latest**: newest first among candidates at
  or above a relevance floor. **trending**: relevance x decay x engagement, where
  engagement is the post's count for its age against its platform's typical
  count at that age (`typical`, the index's calibration), or, with none, a log of
  its raw counts.
- **Decay is relative to the newest candidate** (its decay is 1.0). An absolute
  decay underflows to 0.0 once a post is ~1,075 half-lives old (an archive four
  years old at a 36 h half-life), and every score then ties at 0.0. The relative
  one orders exactly as the absolute one (a common factor), and the order itself
  is computed on logarithms, so no age can make scores tie or vanish.
- **Trending gates on topic**: with `on_topic` (which candidates count for the query,
  `search.topical`: the watches' rule), those candidates come first, each tier ordered by
  the trending score. Relevance says *whether* a post is about the query; among
  posts that are, trending is about what they are doing now, and a multiplier
  alone lets a busy off-topic post outrank a quiet on-topic one (decision 0028).
- **Ties** break by fused score, then post id: never by the order a back end
  returned, so Edge and a Qdrant server give the same page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime

import msgspec

from search.boost import engagement_factor, time_decay, trending_score, velocity_factor
from search.models import Candidate, Mode

__all__ = ["OrderParams", "ScoreParts", "Typical", "order"]

# (platform, age in seconds) -> a typical post's count at that age, None when unknown.
Typical = Callable[[str, float], float | None]

_LN2 = math.log(2.0)
# Unreranked candidates sit just below the lowest reranked one.
_BELOW_FLOOR = 0.999
# The least relevance a candidate has. Why not 0: a zero has no logarithm, so every
# candidate at 0 (a reranker scoring 0.0 pulls the unreranked tail to 0 with it) would
# tie at -inf and trending's decay and engagement would stop ordering them; a
# reranker then raising one post's score from 0.0 could move it down.
_LEAST = 1e-12


class OrderParams(msgspec.Struct, frozen=True):
    half_life_hours: float
    engagement_weight: float
    latest_min_relevance: float


class ScoreParts(msgspec.Struct, frozen=True):
    """One hit's score, stage by stage; `final` = relevance x decay x engagement
    (the last two are 1 outside trending mode and reported as None there)."""

    index: int  # the candidate's position in the input
    relevance: float
    rerank_rank: int | None
    decay: float | None
    engagement: float | None
    final: float
    log_final: float  # the order's key: ln(final) without underflow


def _relevance(candidates: Sequence[Candidate],
               rerank: Sequence[float | None]) -> tuple[list[float], dict[int, int]]:
    top_fused = max((c.fused_score for c in candidates), default=1.0) or 1.0
    scored = sorted((-s, i) for i, s in enumerate(rerank) if s is not None)
    ranks = {i: r for r, (_, i) in enumerate(scored, 1)}
    floor = -scored[-1][0] if scored else None
    out = []
    for cand, score in zip(candidates, rerank, strict=True):
        relevance = score if score is not None else cand.fused_score / top_fused
        if floor is not None and score is None:
            relevance = min(relevance, floor) * _BELOW_FLOOR
        out.append(max(relevance, _LEAST))
    return out, ranks


def _ln(value: float) -> float:
    return math.log(value) if value > 0 else -math.inf


def _engagement(cand: Candidate, age_s: float, weight: float, typical: Typical | None) -> float:
    post = cand.post
    usual = typical(post.platform, age_s) if typical is not None else None
    if usual is None:
        return engagement_factor(post.likes, post.reposts, post.comments, weight)
    return velocity_factor(post.likes + post.reposts + post.comments, usual, weight)


def order(mode: Mode, candidates: Sequence[Candidate], rerank: Sequence[float | None],
          as_of: datetime, p: OrderParams, typical: Typical | None = None,
          on_topic: Sequence[bool] | None = None) -> list[ScoreParts]:
    """Score parts for every kept candidate, in the mode's order (`on_topic`: trending's
    gate, one flag per candidate; None: no gate)."""
    relevance, ranks = _relevance(candidates, rerank)
    ages_h = [max((as_of - c.post.created_at).total_seconds(), 0.0) / 3600 for c in candidates]
    newest_h = min(ages_h, default=0.0)
    parts = []
    for i, cand in enumerate(candidates):
        decay = engagement = None
        log_final = _ln(relevance[i])
        if mode == "trending":
            halvings = (ages_h[i] - newest_h) / p.half_life_hours
            # 0.0 only past ~1,075 halvings from the newest candidate; the key never underflows.
            decay = time_decay((ages_h[i] - newest_h) * 3600, p.half_life_hours * 3600)
            engagement = _engagement(cand, ages_h[i] * 3600, p.engagement_weight, typical)
            log_final += -halvings * _LN2 + math.log(engagement)
        final = (relevance[i] if decay is None or engagement is None
                 else trending_score(relevance[i], decay, engagement))
        parts.append(ScoreParts(index=i, relevance=relevance[i], rerank_rank=ranks.get(i),
                                decay=decay, engagement=engagement, final=final,
                                log_final=log_final))
    if mode == "latest":
        kept = [s for s in parts if s.relevance >= p.latest_min_relevance]
        return sorted(kept, key=lambda s: (-candidates[s.index].post.created_at.timestamp(),
                                           -s.log_final, candidates[s.index].post.id))
    topical = (list(on_topic) if on_topic is not None and mode == "trending"
               else [True] * len(candidates))
    return sorted(parts, key=lambda s: (not topical[s.index], -s.log_final,
                                        -candidates[s.index].fused_score,
                                        candidates[s.index].post.id))
