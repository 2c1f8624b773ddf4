"""A `Store` that percolates what it writes: every door that ingests matches watches too.

Why a wrapper and not a call in each door: the API's `POST /v1/posts`, the
file indexer, the demo replay and the lab all write through `Store.upsert`
with the batch's vectors in hand; wrapping the store once (where the process
assembles its services) means no door can forget the watches, and nothing is
embedded twice. Deletes (takedowns) also drop the posts' matches, so a
taken-down post never appears in a later alert.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from search.contracts import Encoded, IndexBuild, IndexManifest, ModelInfo, ScoredId, TermFilter
from search.log import log
from search.models import Engagement, Post, SearchFilters, SparseVector
from search.store.base import FieldKind, Signal, Store, WindowPosts, WindowVectors
from search.watches.percolate import Percolator


class PercolatingStore:
    def __init__(self, inner: Store, percolator: Percolator) -> None:
        self.inner = inner
        self.percolator = percolator

    def upsert(self, posts: Sequence[Post], encoded: Encoded,
               observed_at: float | None = None) -> None:
        self.inner.upsert(posts, encoded, observed_at)
        try:
            self.percolator.percolate(posts, encoded)
        except Exception as exc:  # the posts are stored: a watch failure must not lose them
            log("watch.percolate_failed", posts=len(posts), error=type(exc).__name__,
                detail=str(exc)[:300])

    def delete(self, post_ids: Sequence[str]) -> int:
        removed = self.inner.delete(post_ids)
        self.percolator.db.forget_posts(post_ids)
        return removed

    def __getattr__(self, attr: str) -> Any:
        """Reads the store gained after this wrapper was written (the match reads:
        `count_matches`, `facet`, `newest`, `match_times`, `match_ids`, `holding`, `similar`) are the
        inner store's as they are: only writes need intercepting."""
        return getattr(self.inner, attr)

    # -- everything else is the inner store's ---------------------------------
    @property
    def location(self) -> str:
        return self.inner.location

    def manifest(self) -> IndexManifest:
        return self.inner.manifest()

    def write_manifest(self, manifest: IndexManifest) -> None:
        self.inner.write_manifest(manifest)

    def create_collection(self, model: ModelInfo) -> None:
        self.inner.create_collection(model)

    def create_payload_index(self, key: str, kind: FieldKind) -> None:
        self.inner.create_payload_index(key, kind)

    def search(self, signals: Sequence[Signal], filters: SearchFilters | None,
               terms: TermFilter | None, limit: int) -> list[list[ScoredId]]:
        return self.inner.search(signals, filters, terms, limit)

    def posts_at(self, point_ids: Sequence[str]) -> dict[str, Post]:
        return self.inner.posts_at(point_ids)

    def get(self, post_ids: Sequence[str]) -> list[Post]:
        return self.inner.get(post_ids)

    def vectors(self, point_ids: Sequence[str]) -> dict[str, tuple[list[float], SparseVector]]:
        return self.inner.vectors(point_ids)

    def sparse_vectors(self, point_ids: Sequence[str]) -> dict[str, SparseVector]:
        return self.inner.sparse_vectors(point_ids)

    def count(self, filters: SearchFilters | None = None) -> int:
        return self.inner.count(filters)

    def update_engagement(self, post_id: str, update: Engagement, at: float | None = None) -> bool:
        return self.inner.update_engagement(post_id, update, at)

    def set_payload(self, fields_by_post: Mapping[str, Mapping[str, Any]]) -> None:
        self.inner.set_payload(fields_by_post)

    def scroll(self, batch_size: int = 256) -> Iterator[Post]:
        result: Iterator[Post] = self.inner.scroll(batch_size)
        return result

    def flush(self) -> None:
        self.inner.flush()

    def optimize(self) -> IndexBuild | None:
        return self.inner.optimize()

    def close(self) -> None:
        self.inner.close()

    def window_vectors(self, since: datetime, until: datetime, limit: int) -> WindowVectors:
        return self.inner.window_vectors(since, until, limit)

    def scroll_window(self, since: datetime, until: datetime, filters: SearchFilters | None,
                      limit: int, post_ids: Sequence[str] | None = None) -> WindowPosts:
        return self.inner.scroll_window(since, until, filters, limit, post_ids)
