"""The lab's commands, registered into `trendsearch` through an entry point (see `lab/__init__`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from server.cli.common import SAMPLE, bounded_int, settings_from

__all__ = ["register"]


def _bench(args: argparse.Namespace) -> int:
    from lab.bench.run import run_bench

    return run_bench(settings_from(args, follow_record=False), synthetic=args.synthetic, sample=Path(args.sample),
                     encoder_posts=args.encoder_posts, watch_posts=args.watch_posts)


def _sizes(value: str) -> list[int]:
    """`--synthetic 100000,1000000`: each an integer from 0 to 10,000,000 (0s dropped)."""
    parse = bounded_int(0, 10_000_000)
    sizes = [parse(part.strip().replace("_", "")) for part in value.split(",") if part.strip()]
    if not sizes:
        raise argparse.ArgumentTypeError(f"expected sizes such as 100000,1000000; got {value!r}")
    return [n for n in sizes if n]


def _eval(args: argparse.Namespace) -> int:
    from lab.evaluation import run_eval
    from search.log import configure

    settings = settings_from(args, follow_record=False)
    if settings.log_level == "INFO":
        configure("WARNING")  # one log line per search would bury the progress bars
    return run_eval(settings, dirs=[Path(d) for d in args.dirs],
                    output=Path(args.output) if args.output else None, queries=args.queries,
                    use_cache=not args.no_cache,
                    cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                    batch_size=args.batch_size)


def _eval_trends(args: argparse.Namespace) -> int:
    from lab.trends_eval import eval_trends

    return eval_trends(args)


def _bench_watches(args: argparse.Namespace) -> int:
    from lab.bench.watches import run_watch_bench

    return run_watch_bench(settings_from(args, follow_record=False), sample=Path(args.sample), posts=args.posts)


def _eval_alerts(args: argparse.Namespace) -> int:
    from lab.alerts_eval import eval_alerts

    return eval_alerts(args)


def _eval_forecast(args: argparse.Namespace) -> int:
    from lab.forecast_eval import eval_forecast

    return eval_forecast(args)


def _bench_history(args: argparse.Namespace) -> int:
    from lab.bench.history import run_history_bench

    return run_history_bench(Path(args.before) if args.before else None, args.posts, args.updates)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("bench", parents=[common], help="(lab) measure indexing and search speed")
    p.add_argument("--synthetic", "--scale", dest="synthetic", type=_sizes, default=[100_000],
                   help="synthetic index sizes for the scale rows, comma-separated "
                        "(e.g. 100000,1000000: one index grown from each size to the next, "
                        "measured before its new posts are indexed (the first size: brute "
                        "force) and again once its dense index is built; "
                        "0 skips them)")
    p.add_argument("--sample", default=str(SAMPLE))
    p.add_argument("--encoder-posts", type=bounded_int(0, 100_000), default=512,
                   help="posts per dense encoder in the side-by-side table (0 skips it)")
    p.add_argument("--watch-posts", type=bounded_int(0, 100_000), default=1024,
                   help="sample posts ingested with 0, 100 and 10,000 watches (0 skips the table; "
                        "bench-watches runs it alone)")
    p.set_defaults(run=_bench, follow_record=False)

    p = sub.add_parser("bench-watches", parents=[common],
                       help="(lab) ingest throughput with 0, 100 and 10,000 watches, side by side")
    p.add_argument("--sample", default=str(SAMPLE))
    p.add_argument("--posts", type=bounded_int(256, 100_000), default=2048,
                   help="sample posts to ingest (a quarter warms up)")
    p.set_defaults(run=_bench_watches, follow_record=False)

    p = sub.add_parser("eval", parents=[common], help="(lab) measure retrieval quality on BEIR sets")
    p.add_argument("dirs", nargs="+", metavar="DIR",
                   help="BEIR-format set: corpus.jsonl, queries.jsonl, qrels/test.tsv")
    p.add_argument("--output", metavar="FILE.json",
                   help="write results here (and the markdown table beside it, as .md)")
    p.add_argument("--queries", action="append", metavar="FILE",
                   help="also run this queries file of each set (e.g. queries_en.jsonl), as "
                        "entry SET[queries_en]; repeatable (default: every queries_*.jsonl)")
    p.add_argument("--cache-dir", help="embedding cache folder "
                                       "(default: DATA_DIR/embed-cache/<model>/)")
    p.add_argument("--no-cache", action="store_true", help="embed everything afresh, store nothing")
    p.add_argument("--batch-size", type=bounded_int(1, 10_000), default=256,
                   help="posts per indexing batch")
    p.set_defaults(run=_eval, follow_record=False)

    p = sub.add_parser("eval-trends", parents=[common],
                       help="(lab) replay a stream, report topics at every checkpoint, optionally score")
    p.add_argument("stream", metavar="STREAM.jsonl", help="time-ordered posts")
    p.add_argument("events", metavar="EVENTS.json", help="the stream's events file (checkpoints)")
    p.add_argument("--output", required=True, metavar="RUN.jsonl", help="where the run goes")
    p.add_argument("--window", default="1h")
    p.add_argument("--baseline", default="48h")
    p.add_argument("--limit", type=bounded_int(1, 50), default=10)
    p.add_argument("--scorer", metavar="scoring.py", help="score the run with this script")
    p.add_argument("--scores", metavar="FILE.json",
                   help="where the scores go (default: RUN.scores.json; needs --scorer)")
    p.add_argument("--cache-dir", help="embedding cache folder (default: DATA_DIR/embed-cache/<model>/)")
    p.add_argument("--no-cache", action="store_true", help="embed everything afresh, store nothing")
    p.add_argument("--quiet", action="store_true", help="no progress line per day")
    p.set_defaults(run=_eval_trends, follow_record=False)

    p = sub.add_parser("eval-alerts", parents=[common],
                       help="(lab) replay a stream with watches, write alerts as they fire, "
                            "optionally score")
    p.add_argument("stream", metavar="STREAM.jsonl", help="time-ordered posts")
    p.add_argument("watches", metavar="WATCHES.json",
                   help='{"watches": [{"id", "query"}, ...]}; nothing else of it is read')
    p.add_argument("--output", required=True, metavar="RUN.jsonl", help="where the alerts go")
    p.add_argument("--events", metavar="EVENTS.json", help="the stream's events file, to score")
    p.add_argument("--scorer", metavar="scoring.py", help="score the run with this script")
    p.add_argument("--cache-dir", help="embedding cache folder (default: DATA_DIR/embed-cache/<model>/)")
    p.add_argument("--minilm", action="store_true",
                   help="all-MiniLM-L6-v2 instead of the profile's dense model (the model before "
                        "decision 0024; for comparison runs, with its embedding cache)")
    p.add_argument("--no-cache", action="store_true", help="embed everything afresh, store nothing")
    p.set_defaults(run=_eval_alerts, follow_record=False)

    p = sub.add_parser("eval-forecast", parents=[common],
                       help="(lab) replay a forecast set in time order, forecast each post at +1 h")
    p.add_argument("set_dir", metavar="SET_DIR",
                   help="posts.jsonl and observations.jsonl (labels.jsonl is never read)")
    p.add_argument("--output", required=True, metavar="RUN.jsonl", help="where the run goes")
    p.add_argument("--scorer", metavar="scoring.py", help="score the run with this script")
    p.set_defaults(run=_eval_forecast, follow_record=False)

    p = sub.add_parser("bench-history", parents=[common],
                       help="(lab) ingest and PATCH posts/s with engagement history, and before it")
    p.add_argument("--before", metavar="CHECKOUT", help="a tree without history (e.g. main's)")
    p.add_argument("--posts", type=bounded_int(256, 1_000_000), default=2048)
    p.add_argument("--updates", type=bounded_int(1, 100), default=4, help="updates per post")
    p.set_defaults(run=_bench_history, follow_record=False)
