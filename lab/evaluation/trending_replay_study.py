"""Trending variants through the real pipeline, top 10 only, on one replay of a time-aware set.

Why not `trendsearch eval`: it pages every configuration to depth 1,000 per query and
did not finish in 25 minutes on two shared cores. nDCG@10 reads the first ten, so
this replays the set once (`lab.evaluation.trending.Replay`: posts as of their
creation, counts as snapshots at each query time, the forecaster's calibration on
the replay's clock, exactly as `lab.evaluation.run` wires it) and asks
`SearchPipeline.search(mode="trending", limit=10, as_of=...)` for each variant of
`SearchParams`. Vectors come from the shared embedding cache (the offline profile's
e5 dense half); a text not cached is embedded here.

    .venv/bin/python -m lab.evaluation.trending_replay_study ../shared/eval/sets/trending_reddit_public
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import msgspec
import numpy as np
from ranx import Qrels, Run, evaluate

from lab.evaluation import beir
from lab.evaluation.trending import Replay, moments
from migrations import open_live
from search.contracts import SearchParams, SearchRequest
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.embed.e5 import E5Embedder
from search.embed.lexical import LexicalSparseEncoder
from search.forecasting import Forecaster
from search.pipeline import SearchPipeline
from search.store.edge_catalog import EdgeCatalog

VARIANTS: dict[str, dict[str, object]] = {
    "before: 72 h, one tier": {"trending_horizon_hours": 72.0, "trending_gate": False},
    "24 h (the forecast horizon), one tier": {"trending_horizon_hours": 24.0,
                                              "trending_gate": False},
    "72 h, counting posts first": {"trending_horizon_hours": 72.0, "trending_gate": True},
    "24 h, counting posts first (shipped; the gate is search.topical's)":
        {"trending_horizon_hours": 24.0, "trending_gate": True},
    "24 h, counting posts first, engagement weight 1": {"trending_horizon_hours": 24.0,
                                                        "trending_gate": True,
                                                        "engagement_weight": 1.0},
}


def main(argv: list[str]) -> int:
    data = beir.load_set(Path(argv[0]))
    embedder = E5Embedder(LexicalSparseEncoder())
    cached = CachedEmbedder(embedder.dense, default_cache_dir(Path("var"),
                                                              embedder.dense.info.model_id))
    embedder.dense = cached
    docs = sorted(data.docs, key=lambda d: d.post.created_at)
    corpus = {d.post.id: d.corpus_id for d in docs}
    queries = [q for q in data.query_sets[0].queries if q.id in data.qrels]
    by_moment: dict[object, list[beir.Query]] = {}
    for q in queries:
        by_moment.setdefault(q.as_of, []).append(q)
    runs: dict[str, dict[str, dict[str, float]]] = {name: {} for name in VARIANTS}
    ms: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="trending-replay-") as tmp:
        catalog = EdgeCatalog(Path(tmp) / "edge")
        try:
            store = open_live(catalog, embedder.info, create=True)
            replay = Replay(store, embedder, docs, data.engagement)
            clock = {"now": 0.0}
            forecaster = Forecaster(store, clock=lambda: clock["now"])
            pipelines = {}
            for name, knobs in VARIANTS.items():
                pipeline = SearchPipeline(store, embedder, None,
                                          msgspec.structs.replace(SearchParams(), **knobs))
                pipeline.typical = forecaster.typical
                pipelines[name] = pipeline
            for as_of in moments(list(by_moment)):
                replay.advance(as_of)
                clock["now"] = as_of.timestamp() if as_of is not None else 0.0
                for q in by_moment[as_of]:
                    for name, pipeline in pipelines.items():
                        started = time.perf_counter()
                        hits = pipeline.search(SearchRequest(query=q.text, mode="trending",
                                                             limit=10, as_of=q.as_of)).hits
                        ms[name].append((time.perf_counter() - started) * 1000)
                        runs[name][q.id] = {corpus[h.post.id]: float(10 - i)
                                            for i, h in enumerate(hits)}
                print(f"{as_of}: {replay.visible} posts", file=sys.stderr, flush=True)
        finally:
            catalog.close()
            cached.close()
    qrels = Qrels({q.id: data.qrels[q.id] for q in queries})
    for name in VARIANTS:
        score = evaluate(qrels, Run(runs[name]), "ndcg@10", make_comparable=True)
        print(f"| {name} | {score:.3f} | {np.median(ms[name]):.1f} / "
              f"{np.percentile(ms[name], 95):.1f} ms |")
    print(f"embedding cache: {cached.hits} hits, {cached.misses} misses")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
