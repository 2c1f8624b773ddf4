"""One search reads each lift and post once, and only the lifts that can change a weight."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from search.contracts import ScoredId
from search.fusion_weights import length_lift
from search.models import Post, SparseVector
from search.reads import Reads
from search.recall import RecallQuery, recall
from tests.factories import make_post


class ListStore:
    """A store of fixed answers that records every read it is asked for."""

    def __init__(self, dense: list[ScoredId], sparse: list[ScoredId]) -> None:
        self.lists = {"dense": dense, "sparse": sparse}
        self.read: list[tuple[str, list[str]]] = []

    def search(self, signals: Sequence[Any], *args: Any) -> list[list[ScoredId]]:
        return [self.lists[using] for using, _ in signals]

    def sparse_vectors(self, point_ids: Sequence[str]) -> dict[str, SparseVector]:
        self.read.append(("sparse", list(point_ids)))
        # A post's smallest value is 1 / (its index + 1): "p3" has a lift of 4.
        return {pid: SparseVector(indices=[0], values=[1.0 / (int(pid[1:]) + 1)])
                for pid in point_ids if pid != "gone"}

    def posts_at(self, point_ids: Sequence[str]) -> dict[str, Post]:
        self.read.append(("posts", list(point_ids)))
        return {pid: make_post(id=pid) for pid in point_ids if pid != "gone"}


def test_each_lift_and_post_is_read_once_and_a_missing_one_asked_again() -> None:
    store = ListStore([], [])
    reads = Reads(store)  # type: ignore[arg-type]
    assert reads.lifts(["p1", "p3"], 1.0) == length_lift(store.sparse_vectors(["p1", "p3"]), 1.0)
    store.read.clear()
    assert set(reads.lifts(["p3", "p4", "p4", "gone"], 1.0)) == {"p1", "p3", "p4"}
    assert reads.posts(["p1", "gone"]).keys() == {"p1"}
    assert [p.id for p in reads.posts(["p2", "p1"]).values()] == ["p2", "p1"]
    assert reads.sparse_vectors(["p4", "p5"]).keys() == {"p4", "p5"}
    assert store.read == [("sparse", ["p4", "gone"]), ("posts", ["p1", "gone"]),
                          ("posts", ["p2"]), ("sparse", ["p5"])]


def test_recall_reads_no_lift_that_cannot_change_a_weight() -> None:
    """A hit scoring the scale or more weighs in full whatever its lift, and a tie group
    cut by the limit is not fused: neither is read, and the answer is the same as with
    every lift known."""
    sparse = [ScoredId("p1", 30.0), ScoredId("p2", 10.0), ScoredId("p3", 5.0),
              ScoredId("p4", 2.0), ScoredId("p5", 2.0)]  # full at the limit of 5: p4, p5 cut
    dense = [ScoredId(f"p{i}", 1.0 - i / 10) for i in (5, 4, 3, 2, 1)]
    store = ListStore(dense, sparse)
    query = RecallQuery(dense=[1.0], sparse=SparseVector(indices=[0], values=[1.0]), filters=None,
                        fusion="rrf", rrf_k=20, prefetch_limit=5, limit=5, lexical_scale=22.0,
                        lexical_power=2.0, lexical_lift=2.0, lexical_floor=0.05)
    got = recall(store, query)  # type: ignore[arg-type]
    assert store.read[0] == ("sparse", ["p2", "p3"])

    primed = Reads(ListStore(dense, sparse))  # type: ignore[arg-type]
    primed.lifts([h.point_id for h in sparse], 2.0)  # every hit's lift known, as before
    assert recall(store, query, reads=primed).fused == got.fused  # type: ignore[arg-type]
    unlifted = recall(store, msgspec.structs.replace(query, lexical_lift=0.0))  # type: ignore[arg-type]
    assert [h.score for h, _ in unlifted.fused] != [h.score for h, _ in got.fused]
