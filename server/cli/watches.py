"""`watch`, `watches`, `alerts`, `deliveries`: watches from the command line.

    trendsearch watch                    the scheduler in the foreground (the Qdrant-server path;
                                         with the embedded store, `serve` runs it)
    trendsearch watches create --name N --query Q [--id ID] [--webhook-url U --webhook-secret S]
    trendsearch watches list | delete ID
    trendsearch alerts list [--watch ID] [--since T] [--limit N]
    trendsearch deliveries dead | replay [--alert ID]

Managing watches reads and writes the watches database only, so it works
beside a running server (which follows the change before its next batch or
pass); the same rules as the API apply, and a bad definition is a one-line
error naming the field.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import msgspec

from server.cli.common import aware_datetime, bounded_int, settings_from

__all__ = ["add_parsers"]


def _service(args: argparse.Namespace) -> Any:
    from search.watches.db import WatchDB
    from search.watches.service import WatchService

    return WatchService(WatchDB.in_folder(settings_from(args).data_path), None, None)


def _print(rows: list[Any]) -> None:
    for row in rows:
        print(json.dumps(row, ensure_ascii=False, default=str))


def _create(args: argparse.Namespace) -> int:
    from indexer.validate import field_error
    from search.watches.models import WatchSpec
    from server.watches.urlguard import UrlGuard

    body: dict[str, Any] = {"name": args.name, "query": args.query}
    if args.id:
        body["id"] = args.id
    if args.webhook_url or args.webhook_secret:
        body["webhook"] = {"url": args.webhook_url or "", "secret": args.webhook_secret or ""}
    try:
        spec = msgspec.convert(body, WatchSpec)
    except msgspec.ValidationError as exc:
        raise field_error(exc) from None
    settings = settings_from(args)
    if spec.webhook is not None:
        UrlGuard(settings.webhook_schemes, settings.webhook_allow_networks).check(
            spec.webhook.url, "--webhook-url")
    _print([_service(args).create(spec).public()])
    return 0


def _list(args: argparse.Namespace) -> int:
    _print([w.public() for w in _service(args).watches()])
    return 0


def _delete(args: argparse.Namespace) -> int:
    _service(args).delete(args.watch_id)
    print(f"deleted {args.watch_id}", file=sys.stderr)
    return 0


def _alerts(args: argparse.Namespace) -> int:
    alerts = _service(args).ledger.alerts(args.watch, args.since, args.limit)
    _print([msgspec.to_builtins(a) for a in alerts])
    return 0


def _dead(args: argparse.Namespace) -> int:
    _print([msgspec.to_builtins(d) for d in _service(args).ledger.dead_letters()])
    return 0


def _replay(args: argparse.Namespace) -> int:
    count = _service(args).ledger.replay(args.alert)
    print(f"{count} dead letter(s) back in the queue; the scheduler sends them within seconds",
          file=sys.stderr)
    return 0


def _watch(args: argparse.Namespace) -> int:
    """The scheduler of one index, in the foreground: one pass now, then every
    TRENDSEARCH_WATCH_PASS_MINUTES, deliveries every few seconds (`--once`: one tick)."""
    from migrations import open_live
    from server.cli.common import banner
    from server.profiles import load_models, open_catalog
    from server.watches.runtime import WatchRuntime

    settings = settings_from(args)
    models = load_models(settings)
    banner(settings, models)
    catalog = open_catalog(settings)
    try:
        store = open_live(catalog, models.embedder.info, create=False)
        runtime = WatchRuntime(settings, catalog, store, models.embedder)
        scheduler = runtime.make_scheduler()
        try:
            if args.once:
                held = scheduler.tick()
                print("pass done" if held else f"another process holds {scheduler.lease_name}",
                      file=sys.stderr)
            else:
                print(f"watching index {runtime.index_name}: a pass every "
                      f"{settings.watch_pass_minutes or 1} min", file=sys.stderr, flush=True)
                scheduler.run_forever()
        finally:
            runtime.close()
    finally:
        catalog.close()
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("watch", parents=[common],
                       help="run the watches' scheduler (passes, webhooks) in the foreground")
    p.add_argument("--once", action="store_true", help="one pass and one delivery round, then exit")
    p.set_defaults(run=_watch)

    p = sub.add_parser("watches", help="create, list or delete watches")
    verbs = p.add_subparsers(dest="verb", required=True)
    c = verbs.add_parser("create", parents=[common], help="save a search as a watch")
    c.add_argument("--name", required=True)
    c.add_argument("--query", required=True, help="search syntax: words, \"phrases\", -exclusions")
    c.add_argument("--id", help="an id of your own (default: generated)")
    c.add_argument("--webhook-url")
    c.add_argument("--webhook-secret", help="16+ characters; signs each POST (HMAC-SHA256)")
    c.set_defaults(run=_create)
    c = verbs.add_parser("list", parents=[common], help="every watch, one JSON line each")
    c.set_defaults(run=_list)
    c = verbs.add_parser("delete", parents=[common], help="delete a watch (its alerts stay)")
    c.add_argument("watch_id", metavar="ID")
    c.set_defaults(run=_delete)

    p = sub.add_parser("alerts", help="list alerts")
    verbs = p.add_subparsers(dest="verb", required=True)
    c = verbs.add_parser("list", parents=[common], help="newest first, one JSON line each")
    c.add_argument("--watch", metavar="ID")
    c.add_argument("--since", type=aware_datetime, metavar="TIME")
    c.add_argument("--limit", type=bounded_int(1, 10_000), default=100)
    c.set_defaults(run=_alerts)

    p = sub.add_parser("deliveries", help="webhook dead letters: list, replay")
    verbs = p.add_subparsers(dest="verb", required=True)
    c = verbs.add_parser("dead", parents=[common], help="deliveries that gave up")
    c.set_defaults(run=_dead)
    c = verbs.add_parser("replay", parents=[common], help="queue dead letters again")
    c.add_argument("--alert", metavar="ALERT_ID", help="only this alert's (default: all)")
    c.set_defaults(run=_replay)
