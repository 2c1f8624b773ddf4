"""`trendsearch`: the operators' front door.

    demo      index the bundled sample into the embedded store, then serve it
    index     index JSONL/CSV files (progress, rejects file, summary)
    migrate   apply pending schema steps to the live index (creates one if none)
    reindex   rebuild the live index with this profile's model, then switch atomically
    serve     run the API and web page
    search    one query, printed as a table
    bench     indexing and search speed, measured side by side
    eval      retrieval quality of every configuration on BEIR-format sets
    trends    what is hot now (or as of a time), printed
    eval-trends  replay a stream through trends, report topics per checkpoint, score
    settings  every setting, its variable and its default

Usage errors exit 2 naming the option; domain errors exit 1 with a sentence
that says what to do.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from search.errors import FieldError, TrendsearchError
from search.log import configure
from server.settings import SETTINGS_HELP, Settings, env_name, load_settings
from server.trends_cli import add_parsers as add_trends_parsers

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = REPO_ROOT / "data" / "sample" / "posts.jsonl"


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(profile=getattr(args, "profile", None), data_dir=getattr(args, "data_dir", None),
                         host=getattr(args, "host", None), port=getattr(args, "port", None))


def _banner(settings: Settings, models: Any) -> None:
    from server.profiles import describe

    print(describe(settings, models), file=sys.stderr, flush=True)


def cmd_index(args: argparse.Namespace) -> int:
    from indexer.run import index_files
    from indexer.takedowns import Takedowns
    from migrations import open_live
    from server.profiles import load_models, open_catalog

    settings = _settings(args)
    paths = [Path(p) for p in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FieldError("FILE", f"no such file: {', '.join(missing)}")
    models = load_models(settings)
    _banner(settings, models)
    catalog = open_catalog(settings)
    try:
        store = open_live(catalog, models.embedder.info, create=True)
        rejects = Path(args.rejects) if args.rejects else settings.data_path / "rejects.jsonl"
        summary = index_files(paths, store, models.embedder, batch_size=args.batch_size,
                              rejects_path=rejects, show_progress=not args.quiet,
                              takedowns=Takedowns(settings.data_path))
        points = store.count()
    finally:
        catalog.close()
    print(f"indexed {summary.indexed} posts, rejected {summary.rejected} "
          f"in {summary.seconds:.1f} s ({summary.posts_per_s:.0f} posts/s); "
          f"index holds {points} posts"
          + (f"; rejects in {summary.rejects_file}" if summary.rejected else ""))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from migrations import migrate, open_live
    from server.profiles import load_models, open_catalog

    settings = _settings(args)
    models = load_models(settings)
    catalog = open_catalog(settings)
    try:
        name = catalog.live_name()
        if name is None:
            store = open_live(catalog, models.embedder.info, create=True)
            print(f"created index {store.manifest().name} with every schema step")
            return 0
        applied = migrate(catalog.open(name), models.embedder.info, name)
        print(f"index {name}: applied {', '.join(applied)}" if applied
              else f"index {name}: schema is current")
    finally:
        catalog.close()
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from indexer.reindex import reindex
    from server.profiles import load_models, open_catalog

    settings = _settings(args)
    models = load_models(settings)
    _banner(settings, models)
    catalog = open_catalog(settings)
    try:
        old, new, count = reindex(catalog, models.embedder, batch_size=args.batch_size,
                                  keep_old=args.keep_old)
    finally:
        catalog.close()
    print(f"reindexed {count} posts from {old} into {new}; {new} is now live")
    return 0


def _serve(settings: Settings, models: Any = None) -> int:
    import uvicorn

    from server.app import create_app, proxy_options
    from server.services import Services

    services = Services.build(settings, models)
    _banner(settings, services.models)
    print(f"serving on http://{settings.host}:{settings.port}/  (API docs: /schema)",
          file=sys.stderr, flush=True)
    uvicorn.run(create_app(settings, services), host=settings.host, port=settings.port,
                log_level="warning", **proxy_options(settings))
    services.close()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(_settings(args))


def cmd_demo(args: argparse.Namespace) -> int:
    """Index the sample once (skipped when the live index already holds this exact file), serve."""
    from indexer.run import index_files
    from indexer.takedowns import Takedowns
    from migrations import open_live
    from server.profiles import load_models, open_catalog

    settings = _settings(args)
    sample = Path(args.sample)
    digest = hashlib.sha256(sample.read_bytes()).hexdigest()
    models = load_models(settings)
    _banner(settings, models)
    catalog = open_catalog(settings)
    try:
        store = open_live(catalog, models.embedder.info, create=True)
        marker = settings.data_path / f"demo-{store.manifest().name}.sha256"
        if marker.exists() and marker.read_text() == digest:
            print(f"sample already indexed ({store.count()} posts)", file=sys.stderr)
        else:
            summary = index_files([sample], store, models.embedder, show_progress=True,
                                  rejects_path=settings.data_path / "rejects.jsonl",
                                  takedowns=Takedowns(settings.data_path))
            marker.write_text(digest)
            print(f"indexed {summary.indexed} sample posts ({summary.posts_per_s:.0f} posts/s)",
                  file=sys.stderr)
    finally:
        catalog.close()
    return _serve(settings, models)


def cmd_search(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from search.models import SearchFilters
    from server.cli_input import search_request
    from server.services import Services

    settings = _settings(args)
    filters = SearchFilters(platform=args.platform or None, lang=args.lang or None,
                            author=args.author or None)
    request = search_request({
        "query": args.query, "mode": args.mode, "limit": args.limit, "explain": args.explain,
        "filters": msgspec.to_builtins(filters),
        **({"as_of": args.as_of} if args.as_of else {}),
    })
    services = Services.build(settings)
    try:
        result = services.pipeline.search(request)
    finally:
        services.close()
    table = Table(title=f"{args.mode}: {args.query!r}  ({result.total_candidates} candidates, "
                        f"{sum(result.timings_ms.values()):.0f} ms)")
    for column in ("#", "score", "time (UTC)", "platform", "lang", "likes", "text"):
        table.add_column(column, overflow="fold")
    for rank, hit in enumerate(result.hits, 1):
        p = hit.post
        table.add_row(str(rank), f"{hit.score:.3f}", f"{p.created_at:%Y-%m-%d %H:%M}", p.platform,
                      p.lang or "", str(p.likes), p.text[:160].replace("\n", " "))
    Console().print(table)
    if args.explain:
        for rank, hit in enumerate(result.hits, 1):
            print(rank, msgspec.json.encode(hit.explain).decode())
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bench.run import run_bench

    return run_bench(_settings(args), synthetic=args.synthetic, sample=Path(args.sample))


def cmd_eval(args: argparse.Namespace) -> int:
    from evaluation import run_eval

    settings = _settings(args)
    if settings.log_level == "INFO":
        configure("WARNING")  # one log line per search would bury the progress bars
    return run_eval(settings, dirs=[Path(d) for d in args.dirs],
                    output=Path(args.output) if args.output else None, queries=args.queries,
                    use_cache=not args.no_cache,
                    cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                    batch_size=args.batch_size)


def cmd_settings(args: argparse.Namespace) -> int:
    for field in msgspec.structs.fields(Settings):
        print(f"{env_name(field.name):32} default {field.default!r:28} {SETTINGS_HELP[field.name]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trendsearch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", choices=["offline", "bge-m3", "tiny"],
                        help="model profile (default: TRENDSEARCH_PROFILE or offline)")
    common.add_argument("--data-dir", help="data folder (default: TRENDSEARCH_DATA_DIR or ./var)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="index JSONL/CSV files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--rejects", help="where bad records go (default: DATA_DIR/rejects.jsonl)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("migrate", parents=[common], help="apply pending schema steps")
    p.set_defaults(run=cmd_migrate)

    p = sub.add_parser("reindex", parents=[common], help="rebuild with this profile's model, switch")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--keep-old", action="store_true", help="keep the previous index on disk")
    p.set_defaults(run=cmd_reindex)

    for name, fn, text in (("serve", cmd_serve, "run the API and web page"),
                           ("demo", cmd_demo, "index the bundled sample, then serve")):
        p = sub.add_parser(name, parents=[common], help=text)
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        if name == "demo":
            p.add_argument("--sample", default=str(SAMPLE))
        p.set_defaults(run=fn)

    p = sub.add_parser("search", parents=[common], help="run one query")
    p.add_argument("query")
    p.add_argument("--mode", choices=["relevance", "trending", "latest"], default="relevance")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--platform", action="append")
    p.add_argument("--lang", action="append")
    p.add_argument("--author", action="append")
    p.add_argument("--as-of", type=datetime.fromisoformat, help="RFC 3339 time with offset")
    p.add_argument("--explain", action="store_true")
    p.set_defaults(run=cmd_search)

    p = sub.add_parser("bench", parents=[common], help="measure indexing and search speed")
    p.add_argument("--synthetic", type=int, default=100_000, help="synthetic posts for the scale test")
    p.add_argument("--sample", default=str(SAMPLE))
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("eval", parents=[common], help="measure retrieval quality on BEIR sets")
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
    p.add_argument("--batch-size", type=int, default=256, help="posts per indexing batch")
    p.set_defaults(run=cmd_eval)

    add_trends_parsers(sub, common)

    p = sub.add_parser("settings", help="list settings and their variables")
    p.set_defaults(run=cmd_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
    except FieldError as exc:
        parser.exit(2, f"trendsearch: error: {exc}\n")
    configure(settings.log_level)
    try:
        code: int = args.run(args)
        return code
    except FieldError as exc:
        print(f"trendsearch: error: {exc}", file=sys.stderr)
        return 2
    except TrendsearchError as exc:
        print(f"trendsearch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
