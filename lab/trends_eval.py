"""`trendsearch eval-trends`: a replayed stream, its topics per checkpoint, scored.

The stream is indexed into a throw-away Qdrant Edge index in time order and
the same `TrendsService` that serves `GET /v1/trends` is asked at every
checkpoint of the events file. Documents are embedded through
`CachedEmbedder`, so only the first run pays the model. With `--scorer`, the
run is scored by the given `scoring.py` (stdlib only, run as its own process,
never changed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from lab.trends_replay import checkpoints, read_stream, replay
from migrations import open_live
from search.embed.base import Embedder
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.errors import FieldError
from search.log import configure
from search.store.edge_catalog import EdgeCatalog
from search.trends.service import TrendsService
from search.trends.window import format_duration, parse_duration
from server.cli.common import settings_from
from server.profiles import load_models

__all__ = ["eval_trends", "score_run"]


def _durations(args: argparse.Namespace) -> tuple[Any, Any]:
    return parse_duration(args.window, "--window"), parse_duration(args.baseline, "--baseline")


def eval_trends(args: argparse.Namespace) -> int:
    """Replay, write the run, and score it when asked (see the module docstring)."""

    window, baseline = _durations(args)
    stream, events_path = Path(args.stream), Path(args.events)
    for path, name in ((stream, "STREAM.jsonl"), (events_path, "EVENTS.json")):
        if not path.is_file():
            raise FieldError(name, f"no such file: {path}")
    if args.scores and not args.scorer:
        raise FieldError("--scores", "needs --scorer")
    settings = settings_from(args, follow_record=False)
    if settings.log_level == "INFO":
        configure("WARNING")  # one log line per checkpoint would bury the progress
    events = json.loads(events_path.read_text(encoding="utf-8"))
    schedule = checkpoints(events)
    models = load_models(settings)
    embedder: Any = models.embedder
    cached = None
    if not args.no_cache:
        # The offline profile caches its dense half alone, as `trendsearch eval` does: the
        # public streams' posts are the crisislex6 set's, so eval's vectors serve here too.
        split = hasattr(embedder, "dense") and isinstance(embedder.dense, Embedder)
        inner = embedder.dense if split else embedder
        folder = Path(args.cache_dir) if args.cache_dir else default_cache_dir(
            settings.data_path, inner.info.model_id)
        cached = CachedEmbedder(inner, folder)
        if split:
            embedder.dense = cached
        else:
            embedder = cached

    def progress(checkpoint: datetime, result: Any) -> None:
        if not args.quiet and checkpoint.hour == 0:
            print(f"  {checkpoint:%Y-%m-%d}: {result.posts_read} posts in span, "
                  f"{len(result.topics)} topics", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="trends-replay-") as tmp:
        catalog = EdgeCatalog(Path(tmp) / "edge")
        try:
            store = open_live(catalog, embedder.info, create=True)
            # The shipped knobs, or an operator's `TRENDSEARCH_TRENDS`: measured the same way.
            service = TrendsService(store, embedder, models.reranker, params=settings.trend_params)
            lines, stats = replay(read_stream(stream), schedule, store, embedder, service,
                                  window=window, baseline=baseline, limit=args.limit,
                                  on_checkpoint=progress)
        finally:
            catalog.close()
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
                      encoding="utf-8")
    cache_note = f"; embeddings cached {cached.hits}, computed {cached.misses}" if cached else ""
    print(f"replayed {stats.posts} posts over {stats.checkpoints} checkpoints in {stats.seconds:.1f} s "
          f"({stats.posts_per_s:.0f} posts/s: indexing {stats.index_seconds:.1f} s, trends "
          f"{stats.trends_seconds:.1f} s = {1000 * stats.trends_seconds / max(stats.checkpoints, 1):.0f} "
          f"ms per checkpoint){cache_note}; {stats.topics} topics; run in {output}")
    if args.scorer:
        scores = score_run(Path(args.scorer), events_path, output)
        scores["replay"] = {"posts": stats.posts, "checkpoints": stats.checkpoints,
                            "seconds": round(stats.seconds, 1), "posts_per_s": round(stats.posts_per_s, 1),
                            "index_seconds": round(stats.index_seconds, 1),
                            "trends_seconds": round(stats.trends_seconds, 1),
                            "window": format_duration(window), "baseline": format_duration(baseline),
                            "profile": models.profile, "embedder": models.embedder.info.model_id}
        if settings.trends:  # knobs that differ from the shipped ones, so the file says so
            scores["replay"]["trends"] = settings.trends
        target = Path(args.scores) if args.scores else output.with_suffix(".scores.json")
        target.write_text(json.dumps(scores, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        ev = scores["events"]
        print(f"recall@10 {ev['recall@10']}  within 24h {ev['recall24h@10']}  "
              f"delay h median {ev['delay_h@10']['median']}  P@10 {scores['precision@10']}  "
              f"frag {scores['fragmentation']}  label {ev['label_hit']} "
              f"(specific {ev['label_hit_specific']})  cov24 {ev['coverage24']}; scores in {target}")
    return 0


def score_run(scorer: Path, events: Path, run: Path) -> dict[str, Any]:
    """The scorer's JSON for one run, per-event rows included."""
    if not scorer.is_file():
        raise FieldError("--scorer", f"no such file: {scorer}")
    done = subprocess.run([sys.executable, str(scorer), str(events), str(run), "--per-event"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise FieldError("--scorer", f"the scorer rejected the run: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
