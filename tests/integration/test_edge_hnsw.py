"""The embedded store's dense index: built by `optimize`, as good as exact search, kept
built as the API writes (`search.store.edge_layout`, `indexer.upkeep`, decision 0031).

Real Qdrant Edge with thresholds scaled down so a few thousand posts cross them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import qdrant_edge as qe

from indexer.upkeep import IndexUpkeep, build_index
from migrations import open_live
from search.contracts import Encoded, ModelInfo
from search.models import Post, SearchFilters, SparseVector
from search.store.edge_catalog import EdgeCatalog
from search.store.edge_layout import EdgeLayout, dense_search_params
from tests.factories import BASE_TIME

DIM = 64
MODEL = ModelInfo(model_id="random-64", dense_dim=DIM, sparse_idf=True)
# 64 float32 = 0.25 KB a post: a segment is indexed past ~400 posts, scanned under ~40.
SMALL = EdgeLayout(indexing_threshold_kb=100, full_scan_threshold_kb=10, hnsw_ef=64)


def _batch(start: int, n: int, rng: np.random.Generator) -> tuple[list[Post], Encoded]:
    centres = np.random.default_rng(0).normal(size=(50, DIM))
    picks = rng.integers(0, 50, size=n)
    dense = (centres[picks] + rng.normal(0, 0.3, size=(n, DIM))).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    posts = [Post(id=f"p{start + i}", text=f"post {start + i}", lang="en",
                  platform=("twitter", "weibo", "reddit")[(start + i) % 3],
                  created_at=BASE_TIME - timedelta(minutes=start + i)) for i in range(n)]
    sparse = [SparseVector(indices=[int(p) + 1], values=[1.0]) for p in picks]
    return posts, Encoded(dense=dense, sparse=sparse)


def _fill(tmp_path: Path, n: int, layout: EdgeLayout = SMALL) -> tuple[EdgeCatalog, object]:
    catalog = EdgeCatalog(tmp_path / "edge", layout=layout)
    store = open_live(catalog, MODEL, create=True)
    rng = np.random.default_rng(1)
    for start in range(0, n, 500):
        store.upsert(*_batch(start, min(500, n - start), rng))
    store.flush()
    return catalog, store


def _dense_unindexed(shard: object) -> int:
    info = shard.info()  # type: ignore[attr-defined]
    # Sparse vectors are indexed as they are written; what is left is the dense side's.
    return 2 * int(info.points_count) - int(info.indexed_vectors_count)


def test_optimize_builds_the_dense_index_and_keeps_exact_answers(tmp_path: Path) -> None:
    catalog, store = _fill(tmp_path, 3000)
    try:
        assert _dense_unindexed(store.shard) >= 3000
        queries = _batch(10_000, 50, np.random.default_rng(2))[1].dense
        flt = SearchFilters(platform=["weibo"])
        before = [store.search([("dense", q.tolist())], flt, None, 10)[0] for q in queries]

        built = build_index(store, reason="test")

        assert built is not None and built.changed and built.points == 3000
        assert _dense_unindexed(store.shard) == 0
        exact = dense_search_params(SMALL, exact=True)
        overlaps = []
        for q, old in zip(queries, before, strict=True):
            hits = store.search([("dense", q.tolist())], flt, None, 10)[0]
            truth = store.shard.query(qe.QueryRequest(
                limit=10, query=qe.Query.Nearest(q.tolist(), using="dense"), params=exact,
                filter=qe.Filter(must=[qe.FieldCondition(
                    key="platform", match=qe.MatchValue("weibo"))])))
            assert [h.point_id for h in old] == [str(t.id) for t in truth]  # scanned: exact
            overlaps.append(len({h.point_id for h in hits} & {str(t.id) for t in truth}) / 10)
        assert np.mean(overlaps) >= 0.95
        assert not build_index(store, reason="again").changed  # nothing left to build
    finally:
        catalog.close()


def test_layout_is_what_a_new_index_is_created_with(tmp_path: Path) -> None:
    catalog, store = _fill(tmp_path, 600, EdgeLayout(indexing_threshold_kb=0))
    try:
        assert not build_index(store, reason="test").changed  # threshold 0: never indexed
        assert _dense_unindexed(store.shard) == 600
    finally:
        catalog.close()


def test_api_writes_build_the_index_in_the_background(tmp_path: Path) -> None:
    catalog, store = _fill(tmp_path, 0)
    try:
        upkeep = IndexUpkeep(store, every=1000)
        rng = np.random.default_rng(3)
        started = []
        for start in range(0, 2000, 250):
            store.upsert(*_batch(start, 250, rng))
            started.append(upkeep.after_write(250))
            upkeep.wait()
        assert started.count(True) == 2 and upkeep.builds == 2
        assert _dense_unindexed(store.shard) == 0
        assert not IndexUpkeep(store, every=0).after_write(10**6)  # off
    finally:
        catalog.close()

