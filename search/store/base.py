"""The `Store` and `Catalog` contracts, and what both Qdrant back ends share.

A *catalog* holds named indexes and knows which one is live; a *store* is one
index. Building a new index (another model, a schema rebuild) happens beside
the live one, and `Catalog.activate` switches atomically, so a search never
sees a half-built index. Edge keeps a pointer file; the server uses an alias.

The shared pieces live here so the two back ends cannot drift apart: the window
reads and the watches' index contract; the filter logic is
`search.store.conditions`, the payload layout and point ids `search.store.payload`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

import msgspec

from search.contracts import (
    Encoded,
    IndexBuild,
    IndexManifest,
    MatchFilter,
    ModelInfo,
    ScoredId,
    TermFilter,
)
from search.models import Engagement, Post, SearchFilters, SparseVector
from search.store.payload import POINT_NAMESPACE, from_payload

FieldKind = Literal["keyword", "integer", "datetime", "float"]


# One signal to search: which named vector, and the query vector for it.
Signal = tuple[Literal["dense", "sparse"], list[float] | SparseVector]


class Store(Protocol):
    """One index. The pipeline cannot tell Qdrant Edge from a Qdrant server."""

    @property
    def location(self) -> str: ...

    def manifest(self) -> IndexManifest: ...

    def write_manifest(self, manifest: IndexManifest) -> None: ...

    def create_collection(self, model: ModelInfo) -> None: ...

    def create_payload_index(self, key: str, kind: FieldKind) -> None: ...

    def upsert(self, posts: Sequence[Post], encoded: Encoded,
               observed_at: float | None = None) -> None:
        """Write posts; a re-ingest keeps each one's engagement history and adds the
        counts it brings as a snapshot at `observed_at` (default: now)."""

    def search(self, signals: Sequence[Signal], filters: SearchFilters | None,
               terms: TermFilter | None, limit: int) -> list[list[ScoredId]]:
        """Each signal's nearest points under the same filters, best first, in one batch
        call; no payloads (the fusion decides which posts are worth reading)."""

    def posts_at(self, point_ids: Sequence[str]) -> dict[str, Post]:
        """Posts by point id; a point deleted meanwhile is absent."""

    def get(self, post_ids: Sequence[str]) -> list[Post]: ...

    def vectors(self, point_ids: Sequence[str]) -> dict[str, tuple[list[float], SparseVector]]:
        """Stored dense and sparse vectors by point id: pseudo-relevance feedback
        reads what the index holds instead of embedding the feedback posts again."""

    def sparse_vectors(self, point_ids: Sequence[str]) -> dict[str, SparseVector]:
        """Stored sparse vectors alone by point id: the length lift reads only these, and
        copying 384 floats a hit into Python was most of the recall stage's time."""

    def count(self, filters: SearchFilters | None = None) -> int: ...

    def count_matches(self, match: MatchFilter) -> int:
        """Exact count of the posts `match` admits (`search.counting`)."""

    def facet(self, match: MatchFilter, key: str, limit: int) -> dict[str | int, int]:
        """Qdrant's `facet`: posts per value of an indexed field among those `match` admits."""

    def newest(self, match: MatchFilter, limit: int) -> list[tuple[float, Post]]:
        """The newest `limit` posts `match` admits, as (created_ts, post), newest first
        (order among equal times is the back end's: callers sort ties)."""

    def match_times(self, match: MatchFilter, limit: int) -> list[tuple[str, float]]:
        """(point id, created_ts) of at most `limit` posts `match` admits, newest first,
        read from the payload index without the stored payloads (`search.counting`)."""

    def match_ids(self, match: MatchFilter, limit: int) -> list[str]:
        """The point ids of at most `limit` posts `match` admits, in point-id order: point
        ids are UUIDv5 hashes of post ids, so the first `limit` are a uniform sample."""

    def holding(self, point_ids: Sequence[str], require: tuple[str, ...]) -> set[str]:
        """Which of these points hold every key of `require` in `terms` (for explain:
        the stored keys, not the text tokenised again)."""

    def similar(self, dense: list[float], match: MatchFilter, min_score: float,
                limit: int) -> list[ScoredId]:
        """Points under `match`'s filters and terms whose dense score is at least
        `min_score`, best first, at most `limit`, leaving out posts that hold every key
        of `match.require` (those match by their terms already)."""

    def update_engagement(self, post_id: str, update: Engagement, at: float | None = None) -> bool:
        """New counts as a snapshot at `at` (default now); False when no such post.
        The caller has checked `at` (`search.history.snapshot_problem`)."""

    def payloads(self, post_ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """These payload fields of the stored posts among `post_ids`, by post id."""

    def matured(self, since_ts: float, min_age_s: float,
                batch_size: int = 256) -> Iterator[dict[str, Any]]:
        """Posts whose newest snapshot is at or after `since_ts` and at least `min_age_s`
        after their `created_at`, as `MATURED_KEYS` payloads, any order: what the
        forecast calibrates on (`search.forecasting`)."""

    def neighbours(self, sparse: SparseVector, platform: str, min_age_s: float,
                   limit: int) -> list[tuple[str, float]]:
        """(post id, score) of the `limit` posts of `platform` whose history reaches
        `min_age_s` nearest to `sparse` by the lexical vectors, best first."""

    def set_payload(self, fields_by_post: Mapping[str, Mapping[str, Any]]) -> None:
        """Merge fields into existing points' payloads (schema backfills)."""

    def delete(self, post_ids: Sequence[str]) -> int: ...

    def scroll(self, batch_size: int = 256) -> Any: ...

    def flush(self) -> None: ...

    def optimize(self) -> IndexBuild | None:
        """Index what has grown unindexed, blocking; None where the engine does it itself
        (a Qdrant server optimizes in the background)."""

    def close(self) -> None: ...

    def scroll_window(self, since: datetime, until: datetime, filters: SearchFilters | None,
                      limit: int, post_ids: Sequence[str] | None = None) -> WindowPosts:
        """Posts created in [since, until) that match `filters` (and are among `post_ids`
        when given), newest first, at most `limit`, with their stored dense vectors."""

    def window_vectors(self, since: datetime, until: datetime, limit: int) -> WindowVectors:
        """Post ids and dense vectors of [since, until), newest first, at most `limit`: what
        the watches' calibration reads every pass, without parsing payloads."""


S = TypeVar("S", bound=Store, covariant=True)


class Catalog(Protocol, Generic[S]):
    """Named indexes and the pointer to the live one."""

    def live_name(self) -> str | None: ...

    def names(self) -> list[str]: ...

    def open(self, name: str) -> S: ...

    def create(self, name: str) -> S: ...

    def activate(self, name: str) -> None: ...

    def drop(self, name: str) -> None: ...

    def release(self, name: str) -> None:
        """Let go of what this process holds open for index `name`, keeping the index."""

    def close(self) -> None: ...


def new_index_name(model: ModelInfo, now: datetime) -> str:
    """Readable and unique: the model it holds and when it was built."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in model.model_id.lower())
    slug = "-".join(part for part in slug.split("-") if part)[:48]
    return f"{slug}-{now.astimezone(UTC):%Y%m%dT%H%M%S%f}"


class WindowPosts(msgspec.Struct, frozen=True):
    """What trends read: posts and their stored dense vectors, row i for post i.

    Why vectors come back: trends cluster what the index already holds; embedding
    thousands of posts again per call would cost minutes on a CPU.
    """

    posts: list[Post]
    dense: Any  # float32 array (n, dim), L2-normalised as stored


class WindowVectors(msgspec.Struct, frozen=True):
    ids: list[str]
    dense: Any  # float32 array (n, dim)


def window_vectors(rows: Sequence[tuple[str, Sequence[float]]]) -> WindowVectors:
    import numpy as np

    return WindowVectors(ids=[i for i, _ in rows],
                         dense=np.asarray([v for _, v in rows], dtype=np.float32) if rows
                         else np.zeros((0, 0), dtype=np.float32))


def in_request_order(found: Mapping[str, Post], post_ids: Sequence[str]) -> list[Post]:
    """`Store.get`'s answer from `Store.posts_at`'s: posts in the order asked, unknown ids skipped."""
    by_id = {post.id: post for post in found.values()}
    return [by_id[p] for p in post_ids if p in by_id]


def stored_encoded(store: Store, point_ids: Sequence[str]) -> tuple[list[str], Encoded]:
    """The vectors the index holds for `point_ids`, as an upsert or a scoring takes them:
    the ids that have them (in the order asked) and their `Encoded`. Nothing is embedded."""
    import numpy as np

    held = store.vectors(point_ids)
    ids = [p for p in point_ids if p in held]
    return ids, Encoded(dense=np.asarray([held[p][0] for p in ids], dtype=np.float32),
                        sparse=[held[p][1] for p in ids])


def window_bounds(since: datetime, until: datetime) -> tuple[float, float]:
    """[since, until) as `created_ts` floats, the indexed field trends range over."""
    return since.astimezone(UTC).timestamp(), until.astimezone(UTC).timestamp()


def window_posts(rows: Sequence[tuple[dict[str, Any], Sequence[float]]]) -> WindowPosts:
    """(payload, dense vector) pairs from either back end as one `WindowPosts`."""
    import numpy as np  # only trends read vectors back; numpy is already loaded by then

    posts = [from_payload(payload) for payload, _ in rows]
    dense = (np.asarray([vector for _, vector in rows], dtype=np.float32) if rows
             else np.zeros((0, 0), dtype=np.float32))
    return WindowPosts(posts=posts, dense=dense)


class WatchHits(msgspec.Struct, frozen=True):
    """Per post, the watches its vectors came near: (watch id, score) best first, by the
    dense cosine and by the sparse dot product (the post's term weights x 1 per query term)."""

    dense: list[list[tuple[str, float]]]
    sparse: list[list[tuple[str, float]]]


class WatchIndex(Protocol):
    """The watches' query vectors, in their own index: the percolator searches it with each
    new batch of posts, so matching costs grow with posts, not posts x watches."""

    def upsert(self, watch_ids: Sequence[str], encoded: Encoded) -> None: ...

    def delete(self, watch_ids: Sequence[str]) -> None: ...

    def vectors(self) -> dict[str, tuple[list[float], SparseVector]]:
        """Every watch's stored vectors (the percolator keeps them to score candidates)."""

    def nearest(self, encoded: Encoded, dense_limit: int, sparse_limit: int) -> WatchHits: ...

    def close(self) -> None: ...


def watch_point_id(watch_id: str) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, "watch:" + watch_id))


def model_slug(model_id: str) -> str:
    """A folder or collection name for a model id: a readable prefix and a hash (ids run
    long, and the lexical one carries a tokeniser fingerprint)."""
    import hashlib

    readable = "".join(ch if ch.isalnum() else "-" for ch in model_id.lower())
    readable = "-".join(part for part in readable.split("-") if part)[:40]
    return f"{readable}-{hashlib.sha256(model_id.encode('utf-8')).hexdigest()[:10]}"
