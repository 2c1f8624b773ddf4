"""`trendsearch eval`: every configuration on every set, in one process, on one index per set.

Per set: a throw-away Qdrant Edge catalog in a temporary folder (created with
`migrations.open_live(..., create=True)`, filled with `indexer.run.write_batch`,
exactly as `trendsearch index` does), the shipped profile's models, and
`SearchParams.from_settings(settings)` for the pipeline, so `shipped` is what
`POST /v1/search` does with default settings. Documents are embedded through
`CachedEmbedder`, so only the first run pays the model.

Time-aware sets (queries with `as_of`) are replayed moment by moment
(`evaluation.trending`); the others have a single moment with everything
indexed. At each moment the reference BM25 is rebuilt over the visible documents
and every query of that moment runs every configuration.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lab.evaluation import beir, configs, metrics, report
from lab.evaluation.reference import Bm25Reference, bm25_parameters
from lab.evaluation.trending import Replay, ReplayStep, moments
from migrations import open_live
from search.contracts import SearchParams
from search.embed.base import Embedder
from search.forecasting import Forecaster
from search.pipeline import SearchPipeline
from search.rerank import Reranker
from search.store.payload import point_id
from search.store.edge_catalog import EdgeCatalog
from search.text import tokenize


class Evaluation(msgspec.Struct):
    results: list[report.DatasetResult]
    profile: dict[str, Any]
    replays: dict[str, list[ReplayStep]]  # set name -> what each moment did

    def to_json(self) -> dict[str, Any]:
        return report.to_json(self.results, self.profile)


class _Totals:
    """Per configuration, what the queries cost (summed, averaged at the end)."""

    def __init__(self) -> None:
        self.ms = 0.0
        self.queries = 0
        self.requests = 0
        self.duplicates = 0
        self.stages: dict[str, float] | None = None
        self.notes: list[str] = []

    def add(self, ranked: configs.Ranked) -> None:
        self.ms += ranked.ms
        self.queries += 1
        if ranked.note and ranked.note not in self.notes:
            self.notes.append(ranked.note)
        if ranked.stages_ms is not None:
            self.stages = self.stages or {}
            for stage, ms in ranked.stages_ms.items():
                self.stages[stage] = self.stages.get(stage, 0.0) + ms
            self.requests += ranked.requests
            self.duplicates += ranked.duplicates

    def result(self, scores: dict[str, float]) -> report.ConfigResult:
        n = max(self.queries, 1)
        paged = self.stages is not None
        return report.ConfigResult(
            metrics=scores, ms_per_query=self.ms / n, note="; ".join(self.notes) or None,
            stages_ms=({k: v / max(self.requests, 1) for k, v in (self.stages or {}).items()}
                       if paged else None),
            requests_per_query=self.requests / n if paged else None,
            page_duplicates=self.duplicates if paged else None,
        )


def _progress(console: Console, enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                    console=console, disable=not enabled, transient=False)


def _warm_up(engine: configs.Engine) -> None:
    """Unmeasured first calls: a model's first forward passes cost 0.5-0.7 s each (measured
    with MiniLM), which would otherwise land on the first query's latency."""
    for text in ("warm up", "warm up the query encoder once more", "ready"):
        engine.embedder.encode_queries([text])


def evaluate_set(data: beir.BeirSet, *, embedder: Embedder, reranker: Reranker | None,
                 params: SearchParams, bm25: tuple[float, float], batch_size: int,
                 progress: Progress, console: Console) -> tuple[list[report.DatasetResult],
                                                                list[ReplayStep]]:
    time_aware = data.time_aware
    judged = beir.relevant_only(data.qrels)
    docs = sorted(data.docs, key=lambda d: d.post.created_at) if time_aware else list(data.docs)
    corpus_ids = {d.corpus_id for d in docs}
    missing = sum(1 for ds in judged.values() for d in ds if d not in corpus_ids)
    if data.skipped_docs:
        console.print(f"[yellow]{data.name}: {data.skipped_docs} documents skipped "
                      f"(no text{', or no created_at in a time-aware set' if time_aware else ''})")
    if missing:
        console.print(f"[yellow]{data.name}: {missing} relevant judgements name documents "
                      f"not in the corpus (they count as never retrieved)")
    # Which queries run, per queries file: those with at least one relevant judgement.
    runnable = {qs.name: [q for q in qs.queries if q.id in judged] for qs in data.query_sets}
    for qs in data.query_sets:
        unjudged = len(qs.queries) - len(runnable[qs.name])
        if unjudged:
            console.print(f"[yellow]{qs.name}: {unjudged} queries have no relevant judgement "
                          f"and are not scored")
    chosen = configs.configs_for(time_aware)
    by_moment: dict[Any, list[tuple[str, beir.Query]]] = {}
    for name, queries in runnable.items():
        for q in queries:
            by_moment.setdefault(q.as_of, []).append((name, q))
    order = moments(list(by_moment))

    runs: dict[str, dict[str, dict[str, list[str]]]] = {
        qs.name: {c: {} for c in chosen} for qs in data.query_sets}
    totals = {qs.name: {c: _Totals() for c in chosen} for qs in data.query_sets}
    index_task = progress.add_task(f"{data.name}: embed + index", total=len(docs), info="")
    query_task = progress.add_task(f"{data.name}: queries", info="",
                                   total=sum(len(v) for v in by_moment.values()))

    with tempfile.TemporaryDirectory(prefix="trendsearch-eval-") as tmp:
        catalog = EdgeCatalog(Path(tmp) / "edge")
        try:
            store = open_live(catalog, embedder.info, create=True)
            replay = Replay(store, embedder, docs, data.engagement if time_aware else None,
                            batch_size=batch_size,
                            on_ingest=lambda n: progress.advance(index_task, n))
            engine = configs.Engine(
                store=store, embedder=embedder, reranker=reranker, params=params,
                pipeline=SearchPipeline(store, embedder, reranker, params),
                corpus_of_post={d.post.id: d.corpus_id for d in docs},
                corpus_of_point={point_id(d.post.id): d.corpus_id for d in docs})
            # Trending's typical-for-age counts, calibrated on what the replay has matured
            # by each query time (the replay's clock, as `eval-forecast` does).
            clock = {"now": 0.0}
            engine.pipeline.typical = Forecaster(store, clock=lambda: clock["now"]).typical
            _warm_up(engine)
            tokens: list[list[str]] = []
            created = np.array([d.post.created_at.timestamp() for d in docs], dtype=np.float64)
            for as_of in order:
                step = replay.advance(as_of)
                clock["now"] = as_of.timestamp() if as_of is not None else time.time()
                if as_of is not None:
                    progress.update(index_task, info=f"as_of {as_of:%Y-%m-%d %H:%M}")
                if engine.reference is None or engine.reference.size != step.visible:
                    tokens.extend(tokenize(d.post.text) for d in docs[len(tokens):step.visible])
                    engine.reference = Bm25Reference(tokens[:step.visible], k1=bm25[0], b=bm25[1])
                    engine.reference_ids = [d.corpus_id for d in docs[:step.visible]]
                    engine.reference_created = created[:step.visible]
                for name, query in by_moment[as_of]:
                    run = configs.QueryRun(engine, query.text, query.as_of)
                    for config, fn in chosen.items():
                        ranked = fn(run)
                        runs[name][config][query.id] = ranked.ids
                        totals[name][config].add(ranked)
                    progress.advance(query_task)
            store.flush()
        finally:
            catalog.close()

    results = []
    for qs in data.query_sets:
        qrels = {q.id: judged[q.id] for q in runnable[qs.name]}
        results.append(report.DatasetResult(
            name=qs.name, n_docs=len(docs), n_queries=len(qrels),
            configs={c: totals[qs.name][c].result(metrics.score(qrels, runs[qs.name][c]))
                     for c in chosen},
            runs=runs[qs.name]))
    steps = replay.steps
    resets = sum(s.reset for s in steps)
    ignored = sum(s.ignored for s in steps)
    if resets or ignored:
        console.print(f"[yellow]{data.name}: engagement replay reset {resets} counts to 0 "
                      f"(absent at a later as_of) and ignored {ignored} rows for posts not "
                      f"visible yet")
    return results, steps


def check_inputs(dirs: Sequence[Path], queries: Sequence[str] | None) -> None:
    """Usage errors before any model loads: missing folders, clashing names, unknown variants."""
    missing = [str(d) for d in dirs if not Path(d).is_dir()]
    if missing:
        raise beir.EvalDataError("DIR", f"no such folder: {', '.join(missing)}")
    names = [Path(d).name for d in dirs]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise beir.EvalDataError("DIR", f"two sets share the folder name {clash[0]!r}; results "
                                        f"are keyed by it")
    for name in queries or ():
        file = name if name.endswith(".jsonl") else f"{name}.jsonl"
        if not any((Path(d) / file).is_file() for d in dirs):
            raise beir.EvalDataError("--queries", f"none of the sets has {file}")


def evaluate(dirs: Sequence[Path], *, embedder: Embedder, reranker: Reranker | None,
             params: SearchParams, profile: str, queries: Sequence[str] | None = None,
             batch_size: int = 256, show_progress: bool = True,
             console: Console | None = None) -> Evaluation:
    """Run every configuration on every set in `dirs`; the in-process entry point."""
    console = console or Console(stderr=True, soft_wrap=True, highlight=False)
    check_inputs(dirs, queries)
    sets = [beir.load_set(Path(d), queries) for d in dirs]
    bm25 = bm25_parameters(embedder.info.model_id)
    results: list[report.DatasetResult] = []
    replays: dict[str, list[ReplayStep]] = {}
    with _progress(console, show_progress) as progress:
        for data in sets:
            done, steps = evaluate_set(data, embedder=embedder, reranker=reranker, params=params,
                                       bm25=bm25, batch_size=batch_size, progress=progress,
                                       console=console)
            results += done
            replays[data.name] = steps
    return Evaluation(results=results, replays=replays,
                      profile=report.profile_info(profile, embedder, reranker, params, bm25))


def run_eval(settings: Any, *, dirs: Sequence[Path], output: Path | None,
             queries: Sequence[str] | None, use_cache: bool, cache_dir: Path | None,
             batch_size: int) -> int:
    """The CLI's command: load the profile, wrap it in the cache, evaluate, write, print."""
    from search.embed.cache import CachedEmbedder, default_cache_dir
    from search.embed.e5 import E5Embedder
    from search.embed.minilm import MiniLMEmbedder
    from server.profiles import describe, load_models

    console = Console(stderr=True, soft_wrap=True, highlight=False)
    check_inputs(dirs, queries)
    started = time.perf_counter()
    models = load_models(settings)
    print(describe(settings, models), file=sys.stderr, flush=True)
    console.print("eval indexes each set into a throw-away Qdrant Edge catalog in a temporary "
                  "folder; the store above is not touched")
    embedder: Embedder = models.embedder
    cached: CachedEmbedder | None = None
    if use_cache:
        # The offline profile caches its dense half alone: the lexical half is
        # seconds to recompute and changes whenever BM25 settings or the tokeniser do.
        split = isinstance(embedder, E5Embedder | MiniLMEmbedder)
        inner = embedder.dense if split else embedder
        folder = cache_dir or default_cache_dir(settings.data_path, inner.info.model_id)
        cached = CachedEmbedder(inner, folder)
        if split:
            embedder.dense = cached
        else:
            embedder = cached
        console.print(f"embedding cache: {folder}")
    try:
        evaluation = evaluate(dirs, embedder=embedder, reranker=models.reranker,
                              params=SearchParams.from_settings(settings), profile=models.profile,
                              queries=queries, batch_size=batch_size, console=console)
    finally:
        if cached is not None:
            cached.close()
    document = evaluation.to_json()
    table = report.markdown(evaluation.results, document["profile"])
    if output is not None:
        report.write_json(output, document)
        output.with_suffix(".md").write_text(table, encoding="utf-8")
    sys.stdout.write(table)
    sys.stdout.flush()
    summary = f"eval done in {time.perf_counter() - started:.1f} s"
    if cached is not None:
        summary += f"; embedding cache: {cached.hits} hits, {cached.misses} misses"
    if output is not None:
        summary += f"; wrote {output} and {output.with_suffix('.md')}"
    console.print(summary)
    return 0
