"""`rising`: the posts most likely to take off now, as a table (or the API's JSON).

The same request `POST /v1/rising` decodes, so a bad flag is refused by the same
rules and named the same way; each row carries the forecast the API would show
(probability of ending among the platform's top tenth, expected count at a day,
and why), so an editor on a terminal reads what the page's Rising tab shows.
"""

from __future__ import annotations

import argparse
from typing import Any

import msgspec

from search.models import Forecast, SearchFilters
from search.rising import MAX_CANDIDATES, RisingRequest, rising
from server.cli.common import bounded_int, settings_from

__all__ = ["add_parsers"]


def _numbers(f: Forecast) -> tuple[str, str]:
    if f.p_top is None:
        return "—", "—"
    return f"{f.p_top:.0%}", f"{f.expected:,.0f}" if f.expected is not None else "—"


def _rising(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from server.services import Services

    filters = SearchFilters(platform=args.platform or None, lang=args.lang or None)
    request = msgspec.convert({"query": args.query, "limit": args.limit,
                               "filters": msgspec.to_builtins(filters)}, RisingRequest)
    services = Services.build(settings_from(args))
    try:
        result = rising(request, services.store, services.pipeline, services.forecasts())
    finally:
        services.close()
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(result)).decode())
        return 0
    table = Table(title=f"rising as of {result.as_of:%Y-%m-%d %H:%M} UTC"
                        + (f", about {args.query!r}" if args.query else "")
                        + f"  ({result.candidates} posts of the last day read)")
    for column in ("#", "p(top 10%)", "expected", "now", "platform", "text", "why"):
        table.add_column(column, overflow="fold")
    for rank, item in enumerate(result.results, 1):
        p_top, expected = _numbers(item.forecast)
        now = f"{item.forecast.count:g}" if item.forecast.count is not None else "—"
        table.add_row(str(rank), p_top, expected, now, item.post.platform,
                      item.post.text[:120].replace("\n", " "), item.forecast.why)
    console = Console()
    console.print(table)
    if not result.results:
        console.print("no post of the last day matches")
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("rising", parents=[common],
                       help="print the posts most likely to take off now, with their forecasts")
    p.add_argument("--query", help="only posts matching this query (search syntax)")
    p.add_argument("--limit", type=bounded_int(1, MAX_CANDIDATES), default=20)
    p.add_argument("--platform", action="append")
    p.add_argument("--lang", action="append")
    p.add_argument("--json", action="store_true", help="print the API's JSON instead of a table")
    p.set_defaults(run=_rising)
