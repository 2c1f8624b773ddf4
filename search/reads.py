"""What one search's recalls have read from the store, so that no recall reads it twice.

Why: a relevance search runs recall at least twice on the same posts (feedback's
first pass, then the fused second pass; more when the pool grows), and each pass
read the length lift of every lexical hit and the payload of its fused top afresh
(and feedback then read its top posts' vectors once more):
at 100k posts the second pass re-read the first pass's 200 stored sparse vectors
and most of its posts, about a third of the recall stage's time (decision 0031,
session 17). A post's lift is its own, whatever the query, and within one search a
post read once is the post that search ranks, so each is read at most once.

One `Reads` lives for one search (`SearchPipeline._recall`): writes that land
meanwhile are seen by the next search, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from search.fusion_weights import length_lift
from search.models import Post, SparseVector
from search.store.base import Store

__all__ = ["Reads"]


class Reads:
    """Stored sparse vectors, their lifts and posts by point id, read from `store` on
    first use and kept."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sparse: dict[str, SparseVector] = {}
        self._lifts: dict[float, dict[str, float]] = {}  # by lift power
        self._posts: dict[str, Post] = {}

    def sparse_vectors(self, point_ids: Iterable[str]) -> dict[str, SparseVector]:
        """The stored sparse vectors of the points asked for that the store holds."""
        wanted = list(dict.fromkeys(point_ids))
        missing = [pid for pid in wanted if pid not in self._sparse]
        if missing:
            self._sparse.update(self.store.sparse_vectors(missing))
        return {pid: self._sparse[pid] for pid in wanted if pid in self._sparse}

    def lifts(self, point_ids: Iterable[str], power: float) -> Mapping[str, float]:
        """`length_lift` at `power` of every post asked for so far (a post deleted
        meanwhile gets none: its hits weigh unlifted)."""
        known = self._lifts.setdefault(power, {})
        missing = [pid for pid in dict.fromkeys(point_ids) if pid not in known]
        if missing:
            known.update(length_lift(self.sparse_vectors(missing), power))
        return known

    def posts(self, point_ids: Iterable[str]) -> dict[str, Post]:
        """The posts asked for that the store holds, by point id."""
        wanted = list(point_ids)
        missing = [pid for pid in wanted if pid not in self._posts]
        if missing:
            self._posts.update(self.store.posts_at(missing))
        return {pid: self._posts[pid] for pid in wanted if pid in self._posts}
