"""The `Store` and `Catalog` contracts, and what both Qdrant back ends share.

A *catalog* holds named indexes and knows which one is live; a *store* is one
index. Building a new index (another model, a schema rebuild) happens beside
the live one, and `Catalog.activate` switches atomically, so a search never
sees a half-built index. Edge keeps a pointer file; the server uses an alias.

The shared pieces live here so the two back ends cannot drift apart: point ids,
the payload layout, and the filter logic (written once against a small
`ConditionFactory` that each back end implements with its own types).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

import msgspec

from search.embed.base import Encoded, ModelInfo
from search.models import Engagement, Post, SearchFilters, SparseVector

SCHEMA_VERSION_KEY = "schema"
POINT_NAMESPACE = uuid.UUID("0b7c1a36-3f52-5c1e-9d5e-7a1c2b3d4e5f")
DERIVED_FIELDS = ("created_ts", "image_count")

FieldKind = Literal["keyword", "integer", "datetime", "float"]


class IndexManifest(msgspec.Struct, frozen=True):
    """Recorded with every index: which model built it and which schema steps ran."""

    name: str
    model: ModelInfo
    created_at: str
    migrations: list[str] = []


def point_id(post_id: str) -> str:
    """A UUID derived from the post id: re-indexing a file overwrites, never duplicates."""
    return str(uuid.uuid5(POINT_NAMESPACE, post_id))


def to_payload(post: Post) -> dict[str, Any]:
    """The stored payload: the post plus fields derived for filtering and decay.

    `created_at` is stored in UTC (`Z`) so range filters compare like with like.
    """
    payload: dict[str, Any] = msgspec.to_builtins(post)
    created = post.created_at.astimezone(UTC)
    payload["created_at"] = created.isoformat().replace("+00:00", "Z")
    payload["created_ts"] = created.timestamp()
    # An int, not a bool: Qdrant Edge 0.9 never matches MatchValue(True/False) on a
    # bool payload (indexed or not), so has-image filters use a range on this count.
    payload["image_count"] = len(post.image_urls)
    return payload


def from_payload(payload: dict[str, Any]) -> Post:
    return msgspec.convert({k: v for k, v in payload.items() if k not in DERIVED_FIELDS}, Post)


def engagement_patch(update: Engagement) -> dict[str, int]:
    return {k: v for k, v in msgspec.structs.asdict(update).items() if v is not None}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


C = TypeVar("C")


class ConditionFactory(Protocol[C]):
    """The three condition shapes our filters need, in a back end's own types."""

    def any_of(self, key: str, values: list[str]) -> C: ...

    def datetime_range(self, key: str, gte: str | None, lte: str | None) -> C: ...

    def int_range(self, key: str, gte: int | None, lte: int | None) -> C: ...


def filter_conditions(filters: SearchFilters | None, make: ConditionFactory[C]) -> list[C]:
    """Translate `SearchFilters` into `must` conditions, once for both back ends."""
    if filters is None:
        return []
    out: list[C] = []
    for key in ("platform", "lang", "author"):
        values = getattr(filters, key)
        if values:
            out.append(make.any_of(key, list(values)))
    if filters.since or filters.until:
        out.append(make.datetime_range(
            "created_at",
            rfc3339(filters.since) if filters.since else None,
            rfc3339(filters.until) if filters.until else None,
        ))
    for key, value in (("likes", filters.min_likes), ("reposts", filters.min_reposts),
                       ("comments", filters.min_comments)):
        if value:
            out.append(make.int_range(key, value, None))
    if filters.has_image is not None:
        out.append(make.int_range("image_count", 1, None) if filters.has_image
                   else make.int_range("image_count", None, 0))
    return out


class RecallQuery(msgspec.Struct, frozen=True):
    """One hybrid query: both prefetches, the fusion, and the filters they share."""

    dense: list[float]
    sparse: SparseVector
    filters: SearchFilters | None
    fusion: Literal["rrf", "dbsf"]
    rrf_k: int
    prefetch_limit: int
    limit: int
    # Each signal's own ranking costs one more search per signal (the dense one
    # doubles recall time at 100k points): run them only when explain asks.
    signals: bool = True


class ScoredId(msgspec.Struct, frozen=True):
    point_id: str
    score: float


class RecallResponse(msgspec.Struct, frozen=True):
    """The fused list (with payloads) and each signal's own list, for explain."""

    fused: list[tuple[ScoredId, Post]]
    dense: list[ScoredId]
    sparse: list[ScoredId]


class Store(Protocol):
    """One index. The pipeline cannot tell Qdrant Edge from a Qdrant server."""

    @property
    def location(self) -> str: ...

    def manifest(self) -> IndexManifest: ...

    def write_manifest(self, manifest: IndexManifest) -> None: ...

    def create_collection(self, model: ModelInfo) -> None: ...

    def create_payload_index(self, key: str, kind: FieldKind) -> None: ...

    def upsert(self, posts: Sequence[Post], encoded: Encoded) -> None: ...

    def recall(self, query: RecallQuery) -> RecallResponse: ...

    def get(self, post_ids: Sequence[str]) -> list[Post]: ...

    def count(self, filters: SearchFilters | None = None) -> int: ...

    def update_engagement(self, post_id: str, update: Engagement) -> bool: ...

    def delete(self, post_ids: Sequence[str]) -> int: ...

    def scroll(self, batch_size: int = 256) -> Any: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


S = TypeVar("S", bound=Store, covariant=True)


class Catalog(Protocol, Generic[S]):
    """Named indexes and the pointer to the live one."""

    def live_name(self) -> str | None: ...

    def names(self) -> list[str]: ...

    def open(self, name: str) -> S: ...

    def create(self, name: str) -> S: ...

    def activate(self, name: str) -> None: ...

    def drop(self, name: str) -> None: ...

    def close(self) -> None: ...


def new_index_name(model: ModelInfo, now: datetime) -> str:
    """Readable and unique: the model it holds and when it was built."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in model.model_id.lower())
    slug = "-".join(part for part in slug.split("-") if part)[:48]
    return f"{slug}-{now.astimezone(UTC):%Y%m%dT%H%M%S%f}"
