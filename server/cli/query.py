"""`search` and `trends`: one question asked of the live index, answered as a table.

Both build the same request the API builds, so a flag is checked by the same
rules and a bad one gets the same named error.
"""

from __future__ import annotations

import argparse
from typing import Any, get_args

import msgspec

from search.models import Mode, SearchFilters
from search.trends.models import MAX_TOPICS, Topic
from server.cli.common import aware_datetime, bounded_int, search_request, settings_from

__all__ = ["add_parsers", "sparkline"]

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(series: list[int]) -> str:
    top = max(series, default=0)
    if top <= 0:
        return SPARK[0] * len(series)
    return "".join(SPARK[min(len(SPARK) - 1, round(v / top * (len(SPARK) - 1)))] for v in series)


def _filters(args: argparse.Namespace) -> SearchFilters:
    return SearchFilters(platform=args.platform or None, lang=args.lang or None,
                         author=getattr(args, "author", None) or None)


def _search(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from server.services import Services

    request = search_request({
        "query": args.query, "mode": args.mode, "limit": args.limit, "explain": args.explain,
        "filters": msgspec.to_builtins(_filters(args)),
        **({"as_of": args.as_of} if args.as_of else {})})
    services = Services.build(settings_from(args))
    try:
        result = services.pipeline.search(request)
    finally:
        services.close()
    total = f"{result.total:,}" + ("" if result.total_exact else "+")
    table = Table(title=f"{args.mode}: {args.query!r}  ({total} matching posts, "
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


def _trends(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from search.trends.window import format_duration
    from server.routes.trends import trends_request
    from server.services import Services

    filters = _filters(args)
    request = trends_request(window=args.window, baseline=args.baseline, as_of=args.as_of,
                             limit=args.limit, query=args.query,
                             filters=filters if msgspec.to_builtins(filters) else None)
    services = Services.build(settings_from(args))
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


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    from search.contracts import MAX_LIMIT

    p = sub.add_parser("search", parents=[common], help="run one query")
    p.add_argument("query")
    p.add_argument("--mode", choices=list(get_args(Mode)), default="relevance")
    p.add_argument("--limit", type=bounded_int(1, MAX_LIMIT), default=10)
    p.add_argument("--platform", action="append")
    p.add_argument("--lang", action="append")
    p.add_argument("--author", action="append")
    p.add_argument("--as-of", type=aware_datetime, help="RFC 3339 time with offset")
    p.add_argument("--explain", action="store_true")
    p.set_defaults(run=_search)

    p = sub.add_parser("trends", parents=[common], help="print what is hot now (or as of a time)")
    p.add_argument("--as-of", type=aware_datetime, help="RFC 3339 time with offset")
    p.add_argument("--window", default="1h", help="recent span that must burst (default 1h)")
    p.add_argument("--baseline", help="span it is compared with (default: 48 windows, at most "
                                      "30 days: 2d for a 1h window)")
    p.add_argument("--limit", type=bounded_int(1, MAX_TOPICS), default=10)
    p.add_argument("--query", help="only topics among this query's posts")
    p.add_argument("--platform", action="append")
    p.add_argument("--lang", action="append")
    p.add_argument("--json", action="store_true", help="print the API's JSON instead of a table")
    p.set_defaults(run=_trends)
