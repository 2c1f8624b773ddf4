"""The contracts between the engine's layers, in one place both sides import.

    Encoded, ModelInfo     what an embedder returns, and what an index records of it
    IndexManifest          which model built an index and which schema steps ran
    ScoredId, TermFilter   what a store is asked and answers
    SearchParams           the ranking knobs (defaults are what ships)
    SearchRequest          one search, as the API and the CLI send it

Why here and not beside their producers: the store must not import `embed/`,
and trends must not import the pipeline, yet both speak these types. Posts,
hits and explain fields are in `search.models`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import numpy as np
import numpy.typing as npt
from msgspec import Meta

from search.bounds import instant_problem
from search.models import AwareDatetime, Fusion, Mode, SearchFilters, SparseVector

__all__ = ["MAX_LIMIT", "MAX_OFFSET", "Encoded", "IndexBuild", "IndexManifest", "MatchFilter", "ModelInfo",
           "RankingSettings", "ScoredId", "SearchParams", "SearchRequest", "TermFilter"]

MAX_LIMIT = 100
MAX_OFFSET = 900


class Encoded(msgspec.Struct, frozen=True):
    """`dense` is (n, dim) float32, L2-normalised; `sparse` has one vector per text.

    `coverage`, per text, is the share of its word pieces the dense model knows
    (not `[UNK]`). An English-only model reading Chinese sees mostly unknowns and
    its vector is then noise; fusion uses this to trust the lexical side instead.
    None means the model covers every script (BGE-M3).
    """

    dense: npt.NDArray[np.float32]
    sparse: list[SparseVector]
    coverage: list[float] | None = None


class ModelInfo(msgspec.Struct, frozen=True):
    """What the index records about the model that built it.

    `model_id` names weights and sparse scheme together: two embedders with the
    same id must produce interchangeable vectors, anything else is a mismatch.
    """

    model_id: str
    dense_dim: int
    sparse_idf: bool  # Qdrant's IDF modifier on the sparse vector (lexical BM25 needs it)


class IndexBuild(msgspec.Struct, frozen=True):
    """What one `optimize` of an index did: whether any segment was (re)built, how long
    it took, and the index's segments and points after it."""

    changed: bool
    seconds: float
    segments: int
    points: int


class IndexManifest(msgspec.Struct, frozen=True):
    """Recorded with every index: which model built it and which schema steps ran."""

    name: str
    model: ModelInfo
    created_at: str
    migrations: list[str] = []


class ScoredId(msgspec.Struct, frozen=True):
    point_id: str
    score: float


class TermFilter(msgspec.Struct, frozen=True):
    """Exact-match constraints on the `terms` payload field (see `search.query`).

    A post must hold every key in `require`, and is dropped when it holds every
    key of any group in `exclude`.
    """

    require: tuple[str, ...] = ()
    exclude: tuple[tuple[str, ...], ...] = ()


class MatchFilter(msgspec.Struct, frozen=True):
    """The posts that match a query (`search.matching`), as a store filter.

    Under `filters` and `terms` (phrases, exclusions), a post matches when it holds
    every key of `require` in its `terms` field, or is one of `point_ids` (the dense
    half, found by a bounded search). Neither: nothing matches. `before` and `at`
    narrow `created_ts` (< before, == at) for `latest`'s pages.
    """

    filters: SearchFilters | None
    terms: TermFilter | None = None
    require: tuple[str, ...] = ()
    point_ids: tuple[str, ...] = ()
    before: float | None = None
    at: float | None = None

    @property
    def empty(self) -> bool:
        return not self.require and not self.point_ids


class RankingSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The ranking knobs an operator may set (`TRENDSEARCH_<NAME>`): declared once, here.

    `server.settings.Settings` inherits these fields, so a setting cannot drift from
    the default the engine ships; each field's description is its help text.
    """

    rrf_k: Annotated[int, Meta(ge=1, description=(
        "Reciprocal-rank-fusion constant for dense + sparse recall with a learned sparse head "
        "(profile `bge-m3`)."))] = 60
    sparse_weight: Annotated[float, Meta(ge=0, description=(
        "RRF weight of a learned sparse list (profile `bge-m3`); the dense list weighs the "
        "dense model's coverage of the query's words."))] = 0.3
    lexical_rrf_k: Annotated[int, Meta(ge=1, description=(
        "Reciprocal-rank-fusion constant for dense + lexical BM25 recall (profile "
        "`offline`)."))] = 20
    lexical_weight: Annotated[float, Meta(ge=0, description=(
        "RRF weight of a lexical BM25 hit holding the query's rare words (profile `offline`); "
        "a hit scoring below lexical_scale (a long post's score first lifted to the encoder's "
        "nominal length) weighs (score / scale)^2 of it."))] = 1.0
    # Pseudo-relevance feedback (search.feedback): 0 posts turns it off.
    feedback_posts: Annotated[int, Meta(ge=0, le=100, description=(
        "Pseudo-relevance feedback: a second recall from the first one's top this many posts "
        "(their terms and vectors); 0 turns it off."))] = 10
    rerank_depth: Annotated[int, Meta(ge=0, le=1000, description=(
        "How many recall candidates the cross-encoder reads per query."))] = 50
    rerank_budget_ms: Annotated[float, Meta(gt=0, description=(
        "Time budget for the cross-encoder; past it, recall order is kept and said."))] = 3000.0
    half_life_hours: Annotated[float, Meta(gt=0, description=(
        "Trending mode: a post's weight halves every this many hours."))] = 36.0
    # Trending recalls the posts whose day is not over: a day is the forecast horizon
    # (`search.forecast.HORIZON_S`, issue 16: a post's interactions "a day out") and the
    # rising view's window, so a post past it has drawn what it will draw and is a
    # reference for the calibration, not a candidate (docs/decisions/0028). Capped:
    # `as_of - horizon` must stay a date (`search.bounds`).
    trending_horizon_hours: Annotated[float, Meta(ge=0, le=87_600, description=(
        "Trending mode recalls posts of the last this many hours (all posts when none are "
        "that recent); 0: no bound."))] = 24.0
    engagement_weight: Annotated[float, Meta(ge=0, description=(
        "Trending mode: exponent on a post's engagement for its age (its count over its "
        "platform's typical count at that age, learned from the index's matured posts); "
        "without that calibration, the weight of log-scaled likes/reposts/comments."))] = 0.1


class SearchParams(RankingSettings, frozen=True, forbid_unknown_fields=True):
    """Every ranking knob; defaults are what `POST /v1/search` ships with."""

    fusion: Fusion = "rrf"
    # RRF weights: dense_weight is multiplied by the dense model's coverage of the
    # query (an English-only model gives no evidence on Chinese queries).
    dense_weight: Annotated[float, Meta(ge=0)] = 1.0
    prefetch_limit: Annotated[int, Meta(ge=1, le=10_000)] = 200
    feedback_terms: Annotated[int, Meta(ge=0, le=100)] = 10
    feedback_dense: Annotated[float, Meta(ge=0)] = 1.0
    # With the lexical BM25 list (offline profile, e5) the dense query is not moved: the
    # feedback posts' terms widen the lexical side only (docs/decisions/0024).
    lexical_feedback_dense: Annotated[float, Meta(ge=0)] = 0.0
    feedback_sparse: Annotated[float, Meta(ge=0)] = 0.5
    # Below this share of known word pieces the dense vector is noise (an English-only
    # model reading Chinese): the dense list gets weight 0 and there is no feedback,
    # whose first-pass top would be lexical only and whose query words already match.
    min_coverage: Annotated[float, Meta(ge=0, le=1)] = 0.5
    # Each lexical BM25 hit weighs lexical_weight x min(1, its BM25 / lexical_scale) **
    # lexical_power (`search.fusion_weights`): a post holding the query's rare words counts
    # fully, one holding a word half the index uses far less. 0 weighs every hit alike.
    lexical_scale: Annotated[float, Meta(ge=0)] = 22.0
    lexical_power: Annotated[float, Meta(ge=0)] = 2.0
    # A post longer than the lexical encoder's nominal length has its BM25 multiplied by
    # its length lift (what brings it to that length) to this power before the per-hit
    # weight (`search.fusion_weights.length_lift`): length says nothing about how much of
    # the query a post holds, and a long post's dense vector reads it less sharply.
    # 0: no lift; 1: brought to the nominal length (docs/decisions/0024).
    lexical_lift: Annotated[float, Meta(ge=0, le=4)] = 2.0
    # A lexical hit weighing under this share of the full weight counts 0: holding only a
    # common word of the query is no evidence, and it reordered the dense list's tail.
    lexical_floor: Annotated[float, Meta(ge=0, le=1)] = 0.05
    rerank_batch: Annotated[int, Meta(ge=1)] = 16
    latest_min_relevance: Annotated[float, Meta(ge=0, le=1)] = 0.05
    # Trending puts the candidates that count for the query (`search.topical`: the watches'
    # rule; the match rule on an index too small to calibrate on) before the rest, each
    # tier by its trending score (`search.ordering`); False: one tier.
    trending_gate: bool = True
    # The cosine at or above which a post matches by meaning; None: the running
    # model's measured value (`search.matching.DENSE_THRESHOLDS`), if it has one.
    dense_match: Annotated[float, Meta(ge=-1, le=1)] | None = None

    @classmethod
    def from_settings(cls, settings: RankingSettings) -> SearchParams:
        """The shipped params with an operator's ranking settings applied."""
        return cls(**{f.name: getattr(settings, f.name)
                      for f in msgspec.structs.fields(RankingSettings)})


class SearchRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    query: Annotated[str, Meta(min_length=1, max_length=1000)]
    mode: Mode = "relevance"
    filters: SearchFilters | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT)] = 10
    offset: Annotated[int, Meta(ge=0, le=MAX_OFFSET)] = 0
    explain: bool = False
    as_of: AwareDatetime | None = None
    collapse: bool = True
    # The previous page's `next_cursor` (`search.cursor`); replaces `offset`.
    cursor: Annotated[str, Meta(min_length=1, max_length=512)] | None = None
    facets: bool = False

    def __post_init__(self) -> None:
        if self.as_of is not None and (problem := instant_problem(self.as_of)):
            raise ValueError(f"`as_of`: {problem}")  # `search.bounds`: later arithmetic overflows
