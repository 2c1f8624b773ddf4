"""The contracts between stages: posts in, hits with explained scores out.

`Post` is the one schema every door (JSONL, CSV, HTTP) validates against, so a
record is either a whole, well-formed post or a named error; nothing half-valid
reaches the store. New fields get defaults; types never change (msgspec's
schema-evolution rules), anything else is a migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from search.bounds import instant_problem

# End of input in both Python and ECMAScript regexes (the OpenAPI schema carries these
# patterns to clients): Python's `$` also matches before a final newline, so `^abc$`
# let "abc\n" in as a second post beside "abc"; `\Z` means a literal Z to JavaScript.
END = r"(?![\s\S])"
# Spaces and control characters, spelled out: `\s` differs between the two dialects
# (Python's includes \x1c-\x1f and \x85, JavaScript's \ufeff).
BLANK = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NonNegInt = Annotated[int, Meta(ge=0, le=2**53)]
PostId = Annotated[str, Meta(min_length=1, max_length=128, pattern=rf"^[^{BLANK}/?#]+{END}")]
HttpUrl = Annotated[str, Meta(max_length=2048, pattern=rf"^https?://[^{BLANK}]+{END}")]
ShortText = Annotated[str, Meta(min_length=1, max_length=128)]
AwareDatetime = Annotated[datetime, Meta(tz=True)]
AuthorName = Annotated[str, Meta(min_length=1, max_length=256)]
LangCode = Annotated[str, Meta(min_length=2, max_length=16,
                                pattern=rf"^[a-z]{{2,3}}(-[A-Za-z0-9]+)*{END}")]

MAX_TEXT_CHARS = 10_000
MAX_IMAGES = 20


class Post(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One social-media post as users hand it to us.

    `created_at` must carry an offset: a naive time is rejected rather than
    guessed, because a wrong zone silently breaks time decay and trends.
    `lang` may be omitted; the indexer detects it (see `search.text.lang`).
    """

    id: PostId
    text: Annotated[str, Meta(min_length=1, max_length=MAX_TEXT_CHARS)]
    platform: ShortText
    created_at: AwareDatetime
    author: Annotated[str, Meta(max_length=256)] | None = None
    lang: LangCode | None = None
    likes: NonNegInt = 0
    reposts: NonNegInt = 0
    comments: NonNegInt = 0
    image_urls: Annotated[list[HttpUrl], Meta(max_length=MAX_IMAGES)] = []
    url: HttpUrl | None = None


Snapshot = Annotated[list[float], Meta(min_length=4, max_length=4)]


def _check_at(at: datetime | None) -> None:
    """`search.bounds`: an instant at the calendar's edge overflows in `.timestamp()`."""
    problem = instant_problem(at) if at is not None else None
    if problem:
        raise ValueError(f"`at`: {problem}")


class PostView(Post, frozen=True):
    """A stored post as `GET /v1/posts/{id}` shows it: the post, its engagement history
    (`[unix seconds, likes, reposts, comments]`, oldest first) and its forecast."""

    history: list[Snapshot] = []
    forecast: Forecast | None = None


class Engagement(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Counts that grow after posting; updated without re-embedding. `at` is when they
    were read (default: now; never in the future, never before the post); each update is
    kept as a snapshot (`search.history`)."""

    likes: NonNegInt | None = None
    reposts: NonNegInt | None = None
    comments: NonNegInt | None = None
    at: AwareDatetime | None = None

    def __post_init__(self) -> None:
        _check_at(self.at)

    def sets_nothing(self) -> bool:
        return self.likes is None and self.reposts is None and self.comments is None


class EngagementItem(Engagement, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One post's counts in a bulk update (`PATCH /v1/engagement`): one post's update
    (`Engagement`, the same counts and `at` rules) and the post's id."""

    id: PostId

    def engagement(self) -> Engagement:
        return Engagement(likes=self.likes, reposts=self.reposts, comments=self.comments, at=self.at)


class SearchFilters(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Filters every mode honours; each backend translates them to its own filter type."""

    platform: list[ShortText] | None = None
    lang: list[LangCode] | None = None
    author: list[AuthorName] | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    min_likes: NonNegInt | None = None
    min_reposts: NonNegInt | None = None
    min_comments: NonNegInt | None = None
    has_image: bool | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            problem = instant_problem(getattr(self, name)) if getattr(self, name) else None
            if problem:  # msgspec adds ` - at `$.filters``; `field_error` joins the two
                raise ValueError(f"`{name}`: {problem}")


Mode = Literal["relevance", "trending", "latest"]
Fusion = Literal["rrf", "dbsf"]


class SparseVector(msgspec.Struct, frozen=True):
    """Sparse lexical weights: Qdrant wants integer indices, not token strings."""

    indices: list[int]
    values: list[float]


class Candidate(msgspec.Struct):
    """One recall result; later stages fill in their parts."""

    point_id: str
    post: Post
    fused_score: float
    fused_rank: int
    dense_rank: int | None = None
    dense_score: float | None = None
    sparse_rank: int | None = None
    sparse_score: float | None = None


class Explain(msgspec.Struct, frozen=True, omit_defaults=False):
    """Every stage's contribution to one hit, so a score can be argued with.

    `relevance` is the one-scale relevance that entered `final` (the rerank score,
    or the fused score relative to the best one); `final` = relevance in relevance
    and latest modes, relevance x decay x engagement in trending mode. `decay` is
    relative to the newest candidate of the search (1.0 for it), see `search.ordering`.
    """

    mode: Mode
    fusion: str
    dense_rank: int | None
    dense_score: float | None
    sparse_rank: int | None
    sparse_score: float | None
    fused_rank: int
    fused_score: float
    rerank_score: float | None
    rerank_rank: int | None
    rerank_note: str
    decay: float | None
    engagement: float | None
    final: float
    models: dict[str, str]
    relevance: float | None = None
    # Why the post counts among the query's matches (`search.matching`): "terms",
    # "dense", "both", or None (recalled without matching); `similarity` is its stored
    # vector's cosine to the query, compared with `match_threshold` (None: no dense half).
    match: Literal["terms", "dense", "both"] | None = None
    similarity: float | None = None
    match_threshold: float | None = None
    # Trending's gate (`search.topical`): whether the post counts for the query (posts that
    # do come first), by which rule: "watch" (the watches' rule, with `topic_z`, the cosine's
    # z against the query's usual, and `topic_terms`, the query's word weight held, in
    # average query terms) or "match" (the match rule above, on an index too small to
    # calibrate on). None outside trending or with the gate off.
    on_topic: bool | None = None
    on_topic_rule: Literal["watch", "match"] | None = None
    topic_z: float | None = None
    topic_terms: float | None = None


class Forecast(msgspec.Struct, frozen=True):
    """A post's engagement a day out (`search.forecast`): `p_top` the probability it ends
    among its platform's top tenth, `expected` its count then; a `status` other than
    "ok" says in `why` why there is no number (too young, no history on its platform)."""

    status: Literal["ok", "too_young", "no_history"]
    computed_at: datetime
    why: str
    p_top: float | None = None
    expected: float | None = None
    age_s: float | None = None
    count: float | None = None
    velocity_per_h: float | None = None
    typical_per_h: float | None = None
    references: int = 0
    text_shift: float | None = None


class Earliest(msgspec.Struct, frozen=True):
    """The first-posted copy of a collapsed text: usually the original."""

    id: str
    created_at: datetime


class Hit(msgspec.Struct, frozen=True):
    """One result. With collapsing on, it stands for `copies` posts of one text
    (itself and `duplicate_ids`); `earliest` is set only when there are copies."""

    post: Post
    score: float
    explain: Explain
    copies: int = 1
    duplicate_ids: list[str] = []
    earliest: Earliest | None = None
    forecast: Forecast | None = None


class ParsedQuery(msgspec.Struct, frozen=True):
    """A search-box query taken apart (`search.query.parse_query`).

    `text` is what gets embedded and sparse-encoded: the words and the phrase
    words, without quotes or exclusions. `phrases` must each occur in a post;
    a post containing an `excluded` term is dropped. Both are as typed.
    """

    text: str
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()


class Facets(msgspec.Struct, frozen=True):
    """Result counts per value (`search.facets` says exactly what is counted)."""

    platform: dict[str, int]
    lang: dict[str, int]
    day: dict[str, int]


class MatchFacets(msgspec.Struct, frozen=True):
    """Matches per platform and language (`search.counting`): every post that matches,
    each count without its own filter, so it says what choosing that value would give."""

    platform: dict[str, int]
    lang: dict[str, int]
    # False when a half counted had more than `search.counting.FACET_SAMPLE` matches (the
    # query's, or the query's without that facet's filter): the counts are then scaled up
    # from `sample` matches, taken evenly along the time line (uniform by point id past
    # `search.counting.PASS_LIMIT`).
    exact: bool = True
    sample: int = 0


class Histogram(msgspec.Struct, frozen=True):
    """Matches per UTC hour or day over the story's whole span, under every filter:
    `counts[i]` is the bucket starting `start` + i units (zeros included); `start` is
    None when nothing matches."""

    unit: Literal["hour", "day"]
    start: datetime | None
    counts: list[int]
    # False only past `search.counting.PASS_LIMIT` matches: scaled from a uniform sample.
    exact: bool = True


class SearchResult(msgspec.Struct, frozen=True):
    hits: list[Hit]
    total_candidates: int
    timings_ms: dict[str, float]
    as_of: datetime
    query: ParsedQuery
    offset: int = 0
    next_cursor: str | None = None
    facets: Facets | None = None
    total: int = 0
    total_exact: bool = True
    match_facets: MatchFacets | None = None
    histogram: Histogram | None = None
