"""What one search's recalls have read from the store, so that no recall reads it twice.

Why: a relevance search runs recall at least twice on the same posts (feedback's
first pass, then the fused second pass; more when the pool grows), and each pass
read the length lift of every lexical hit and the payload of its fused top afresh:
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
from search.models import Post
from search.store.base import Store

__all__ = ["Reads"]


class Reads:
    """Lifts and posts by point id, read from `store` on first use and kept."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lifts: dict[float, dict[str, float]] = {}  # by lift power
        self._posts: dict[str, Post] = {}

    def lifts(self, point_ids: Iterable[str], power: float) -> Mapping[str, float]:
        """`length_lift` at `power` of every post asked for so far (a post without a
        stored sparse vector, or deleted, gets none: its hits weigh unlifted)."""
        known = self._lifts.setdefault(power, {})
        missing = [pid for pid in dict.fromkeys(point_ids) if pid not in known]
        if missing:
            known.update(length_lift(self.store.sparse_vectors(missing), power))
        return known

    def posts(self, point_ids: Iterable[str]) -> dict[str, Post]:
        """The posts asked for that the store holds, by point id."""
        wanted = list(point_ids)
        missing = [pid for pid in wanted if pid not in self._posts]
        if missing:
            self._posts.update(self.store.posts_at(missing))
        return {pid: self._posts[pid] for pid in wanted if pid in self._posts}
