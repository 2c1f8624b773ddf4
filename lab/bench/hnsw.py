"""The embedded store at scale with its dense index (issue 15, decision 0031).

For each synthetic size: how long building the HNSW index takes (the time until
searches are served from it), how good it is (recall@10 of the HNSW + int8
dense search against exact search on 200 queries), how fast recall is through
the product (the pipeline's `recall` stage: no filter, a platform filter, an
`as_of`) beside the raw Qdrant query alone (the same dense + sparse requests,
one `query_batch`: the ratio is our overhead), and what it costs: RSS, disk,
start-up (reopening the index).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import qdrant_edge as qe

from lab.bench.counting import pct
from search.contracts import SearchRequest
from search.models import SearchFilters
from search.pipeline import SearchPipeline
from search.store.edge_layout import dense_search_params

__all__ = ["HnswRow", "hnsw_row", "print_hnsw"]

RECALL_QUERIES = 200
TIE = 1e-4


class HnswRow(msgspec.Struct):
    build_s: float
    segments: int
    recall_at_10: float
    recall_at_10_tied: float
    dense_ms: tuple[float, float]
    exact_ms: tuple[float, float]
    recall_stage: dict[str, tuple[float, float]]
    raw_ms: tuple[float, float]
    rss_mb: float
    disk_mb: float
    reopen_s: float


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def _timed(fn: Any, items: Sequence[Any]) -> tuple[list[Any], tuple[float, float]]:
    out, ms = [], []
    for item in items:
        t0 = time.perf_counter()
        out.append(fn(item))
        ms.append((time.perf_counter() - t0) * 1000)
    return out, (pct(ms, 0.5), pct(ms, 0.95))


def _recall_stage(pipeline: SearchPipeline, queries: Sequence[str],
                  rounds: int) -> dict[str, tuple[float, float]]:
    kinds = {
        "no filter": {},
        "platform filter": {"filters": SearchFilters(platform=["twitter"])},
        "as_of 2024-07-01": {"as_of": datetime(2024, 7, 1, tzinfo=UTC)},
    }
    out = {}
    for name, extra in kinds.items():
        ms = [pipeline.search(SearchRequest(query=q, limit=10, **extra)).timings_ms["recall"]
              for _ in range(rounds) for q in queries]
        out[name] = (pct(ms, 0.5), pct(ms, 0.95))
    return out


def hnsw_row(store: Any, pipeline: SearchPipeline, queries: Sequence[str],
             query_dense: npt.NDArray[np.float32]) -> HnswRow:
    """Build the index, then measure (`reopen_s` is the caller's: it reopens the folder)."""
    built = store.optimize()
    shard = store.shard
    vectors = [v.tolist() for v in query_dense[:RECALL_QUERIES]]

    def dense(params: Any, limit: int = 10) -> Any:
        return lambda v: {str(p.id): p.score for p in shard.query(qe.QueryRequest(
            limit=limit, query=qe.Query.Nearest(v, using="dense"), params=params))}

    approx, dense_ms = _timed(dense(dense_search_params(store.layout)), vectors)
    # The exact top 200 with scores (timed: a scan of every vector costs the same for a
    # top 10): synthetic posts are noisy copies, so the 10th and 11th exact scores differ
    # by ~3e-5 at 1M; a hit within `TIE` of the 10th counts too.
    exact, exact_ms = _timed(dense(dense_search_params(store.layout, exact=True), 200), vectors)
    strict, tied = [], []
    for got, truth in zip(approx, exact, strict=True):
        ranked = sorted(truth.values(), reverse=True)
        tenth = ranked[min(9, len(ranked) - 1)] if ranked else 0.0
        top = set(sorted(truth, key=truth.__getitem__, reverse=True)[:10])
        strict.append(len(set(got) & top) / 10)
        tied.append(sum(1 for pid in got if truth.get(pid, -2.0) >= tenth - TIE) / 10)
    recall, recall_tied = float(np.mean(strict)), float(np.mean(tied))

    stage = _recall_stage(pipeline, queries, rounds=2)
    encoded = pipeline.embedder.encode_queries(list(queries))
    limit = pipeline.params.prefetch_limit

    def raw(i: int) -> Any:
        sparse = encoded.sparse[i]
        return shard.query_batch(qe.QueryBatchRequest([
            qe.QueryRequest(limit=limit, with_payload=False, params=dense_search_params(store.layout),
                            query=qe.Query.Nearest(encoded.dense[i].tolist(), using="dense")),
            qe.QueryRequest(limit=limit, with_payload=False, query=qe.Query.Nearest(
                qe.SparseVector(indices=list(sparse.indices), values=list(sparse.values)),
                using="sparse"))]))

    _, raw_ms = _timed(raw, list(range(len(queries))) * 2)
    return HnswRow(build_s=built.seconds, segments=built.segments, recall_at_10=recall,
                   recall_at_10_tied=recall_tied,
                   dense_ms=dense_ms, exact_ms=exact_ms, recall_stage=stage, raw_ms=raw_ms,
                   rss_mb=_rss_mb(), disk_mb=_disk_mb(Path(store.location)), reopen_s=0.0)


def print_hnsw(rows: dict[str, HnswRow]) -> None:
    names = list(rows)
    print("\n## Embedded store with its dense index (HNSW + int8, decision 0031)")
    print("| measure | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))

    def line(label: str, cells: list[str]) -> None:
        print(f"| {label} | " + " | ".join(cells) + " |")

    def pair(v: tuple[float, float]) -> str:
        return f"{v[0]:.2f} / {v[1]:.2f}"

    line("index build (s), segments", [f"{r.build_s:.1f}, {r.segments}" for r in rows.values()])
    line(f"recall@10 vs exact ({RECALL_QUERIES} queries)",
         [f"{r.recall_at_10:.3f}" for r in rows.values()])
    line(f"recall@10, a hit within {TIE:g} of the 10th exact score counting",
         [f"{r.recall_at_10_tied:.3f}" for r in rows.values()])
    line("dense query HNSW ms p50 / p95", [pair(r.dense_ms) for r in rows.values()])
    line("dense query exact ms p50 / p95", [pair(r.exact_ms) for r in rows.values()])
    for kind in next(iter(rows.values())).recall_stage:
        line(f"recall stage, {kind}, ms p50 / p95", [pair(r.recall_stage[kind])
                                                     for r in rows.values()])
    line("raw Qdrant query alone (dense + sparse batch) ms", [pair(r.raw_ms) for r in rows.values()])
    line("recall / raw, p95 (no filter)", [f"{r.recall_stage['no filter'][1] / r.raw_ms[1]:.2f}"
                                           for r in rows.values()])
    line("RSS now (MB)", [f"{r.rss_mb:.0f}" for r in rows.values()])
    line("disk (MB)", [f"{r.disk_mb:.0f}" for r in rows.values()])
    line("reopen the index (s)", [f"{r.reopen_s:.1f}" for r in rows.values()])
