"""`trendsearch trends` (what is hot, printed) and `trendsearch eval-trends` (a replayed stream, scored).

`eval-trends` indexes the stream into a throw-away Qdrant Edge index in time
order and asks the same `TrendsService` that serves `GET /v1/trends` at every
checkpoint of the events file. Documents are embedded through `CachedEmbedder`,
so only the first run pays the model. With `--scorer`, the run is scored by the
given `scoring.py` (stdlib only, run as its own process, never changed).
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

import msgspec

from search.errors import FieldError
from search.models import SearchFilters
from search.trends.models import Topic
from search.trends.window import format_duration, parse_duration

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(series: list[int]) -> str:
    top = max(series, default=0)
    if top <= 0:
        return SPARK[0] * len(series)
    return "".join(SPARK[min(len(SPARK) - 1, round(v / top * (len(SPARK) - 1)))] for v in series)


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("trends", parents=[common], help="print what is hot now (or as of a time)")
    p.add_argument("--as-of", type=datetime.fromisoformat, help="RFC 3339 time with offset")
    p.add_argument("--window", default="1h", help="recent span that must burst (default 1h)")
    p.add_argument("--baseline", default="48h", help="span it is compared with (default 48h)")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--query", help="only topics among this query's posts")
    p.add_argument("--platform", action="append")
    p.add_argument("--lang", action="append")
    p.add_argument("--json", action="store_true", help="print the API's JSON instead of a table")
    p.set_defaults(run=cmd_trends)

    p = sub.add_parser("eval-trends", parents=[common],
                       help="replay a stream, report topics at every checkpoint, optionally score")
    p.add_argument("stream", metavar="STREAM.jsonl", help="time-ordered posts")
    p.add_argument("events", metavar="EVENTS.json", help="the stream's events file (checkpoints)")
    p.add_argument("--output", required=True, metavar="RUN.jsonl", help="where the run goes")
    p.add_argument("--window", default="1h")
    p.add_argument("--baseline", default="48h")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--scorer", metavar="scoring.py", help="score the run with this script")
    p.add_argument("--scores", metavar="FILE.json",
                   help="where the scores go (default: RUN.scores.json; needs --scorer)")
    p.add_argument("--cache-dir", help="embedding cache folder (default: DATA_DIR/embed-cache/<model>/)")
    p.add_argument("--no-cache", action="store_true", help="embed everything afresh, store nothing")
    p.add_argument("--quiet", action="store_true", help="no progress line per day")
    p.set_defaults(run=cmd_eval_trends)


def _durations(args: argparse.Namespace) -> tuple[Any, Any]:
    return parse_duration(args.window, "--window"), parse_duration(args.baseline, "--baseline")


def cmd_trends(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from server.cli import _settings
    from server.routes.trends import trends_request
    from server.services import Services

    if args.as_of is not None and args.as_of.tzinfo is None:
        raise FieldError("--as-of", "needs an offset, e.g. 2024-05-01T12:00:00+00:00")
    filters = SearchFilters(platform=args.platform or None, lang=args.lang or None)
    request = trends_request(window=args.window, baseline=args.baseline, as_of=args.as_of,
                             limit=args.limit, query=args.query,
                             filters=filters if msgspec.to_builtins(filters) else None)
    services = Services.build(_settings(args))
    try:
        result = services.trends_service().trends(request)
    finally:
        services.close()
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(result)).decode())
        return 0
    title = (f"hot topics as of {result.as_of:%Y-%m-%d %H:%M} UTC: window {format_duration(request.window)} "
             f"vs baseline {format_duration(request.baseline)}"
             + (f", about {request.query!r}" if request.query else "")
             + f"  ({result.posts_read} posts read{', truncated' if result.truncated else ''}, "
               f"{sum(result.timings_ms.values()):.0f} ms)")
    table = Table(title=title)
    for column in ("#", "score", "topic", "posts", "expected", "growth", "trend", "representative"):
        table.add_column(column, overflow="fold")
    for rank, topic in enumerate(result.topics, 1):
        table.add_row(str(rank), f"{topic.score:.1f}", topic.label, str(topic.explain.posts_in_window),
                      f"{topic.explain.expected:.1f}", f"{topic.explain.growth:+.0%}",
                      sparkline(topic.series[-24:]), _first_text(topic))
    console = Console()
    console.print(table)
    if not result.topics:
        console.print("nothing is bursting in this window")
    return 0


def _first_text(topic: Topic) -> str:
    if not topic.representatives:
        return ""
    rep = topic.representatives[0]
    copies = f" (x{rep.copies})" if rep.copies > 1 else ""
    return rep.text[:140].replace("\n", " ") + copies


def cmd_eval_trends(args: argparse.Namespace) -> int:
    from migrations import open_live
    from search.embed.cache import CachedEmbedder, default_cache_dir
    from search.log import configure
    from search.store.edge import EdgeCatalog
    from search.trends.replay import checkpoints, read_stream, replay
    from search.trends.service import TrendsService
    from server.cli import _settings
    from server.profiles import load_models

    window, baseline = _durations(args)
    stream, events_path = Path(args.stream), Path(args.events)
    for path, name in ((stream, "STREAM.jsonl"), (events_path, "EVENTS.json")):
        if not path.is_file():
            raise FieldError(name, f"no such file: {path}")
    if args.scores and not args.scorer:
        raise FieldError("--scores", "needs --scorer")
    settings = _settings(args)
    if settings.log_level == "INFO":
        configure("WARNING")  # one log line per checkpoint would bury the progress
    events = json.loads(events_path.read_text(encoding="utf-8"))
    schedule = checkpoints(events)
    models = load_models(settings)
    embedder: Any = models.embedder
    cached = None
    if not args.no_cache:
        folder = Path(args.cache_dir) if args.cache_dir else default_cache_dir(
            settings.data_path, embedder.info.model_id)
        embedder = cached = CachedEmbedder(embedder, folder)

    def progress(checkpoint: datetime, result: Any) -> None:
        if not args.quiet and checkpoint.hour == 0:
            print(f"  {checkpoint:%Y-%m-%d}: {result.posts_read} posts in span, "
                  f"{len(result.topics)} topics", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="trends-replay-") as tmp:
        catalog = EdgeCatalog(Path(tmp) / "edge")
        try:
            store = open_live(catalog, embedder.info, create=True)
            service = TrendsService(store, embedder, models.reranker)
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
