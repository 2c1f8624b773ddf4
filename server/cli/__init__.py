"""`trendsearch`: the operators' front door.

    demo      index the bundled sample into the embedded store, then serve it
    index     index JSONL/CSV files (progress, rejects file, summary)
    migrate   apply pending schema steps to the live index (creates one if none)
    reindex   rebuild the live index with this profile's model, then switch atomically
              (`--server URL`: inside the running API, which keeps taking writes;
              without it, on a Qdrant server, refused while an API serves: `--force`)
    serve     run the API and web page
    search    one query, printed as a table
    trends    what is hot now (or as of a time), printed
    settings  every setting, its variable and its default
    watch     the watches' scheduler (periodic pass, webhooks) in the foreground
    watches   create, list, delete watches; `alerts list`; `deliveries dead|replay`

From a checkout, the lab adds `eval`, `bench` and `eval-trends` (see the README).

Usage errors exit 2 naming the option; domain errors exit 1 with a sentence
that says what to do.

Commands come from one module per group (`index`, `serve`, `query`,
`settings`) plus any registered under the `trendsearch.commands` entry-point
group: that is how the lab adds its commands without the product importing it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from search.errors import FieldError, ModelLoadFailed, TrendsearchError
from search.log import configure
from server.cli import index, query, rising, serve, settings, watches
from server.cli.common import common_parser, followed_note, settings_from

__all__ = ["PLUGIN_GROUP", "build_parser", "main"]

PLUGIN_GROUP = "trendsearch.commands"
_LAB_COMMANDS = ("eval", "bench", "bench-watches", "eval-trends", "eval-alerts")


def _add_plugins(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """Commands other distributions register; one that cannot load is left out, not fatal."""
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            register = entry.load()
        except ImportError:
            continue  # e.g. the lab's entry point in an install without the lab's folder
        register(sub, common)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trendsearch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common = common_parser()
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (index, serve, query, rising, settings, watches):
        group.add_parsers(sub, common)
    _add_plugins(sub, common)
    for name in _LAB_COMMANDS:
        if name not in sub.choices:  # no lab here: say where the command lives
            p = sub.add_parser(name, add_help=False, help="lab command: needs a checkout")
            p.add_argument("rest", nargs=argparse.REMAINDER)
            p.set_defaults(run=_lab_missing)
    return parser


def _lab_missing(args: argparse.Namespace) -> int:
    raise TrendsearchError(f"`{args.command}` is a lab command: it runs from a checkout of the "
                           f"repository after `./run.sh setup`, not from an installed package")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2, message already printed) and --help (0)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        loaded = settings_from(args)
    except FieldError as exc:
        parser.exit(2, f"trendsearch: error: {exc}\n")
    configure(loaded.log_level)
    try:
        code: int = args.run(args)
        return code
    except FieldError as exc:
        print(f"trendsearch: error: {exc}", file=sys.stderr)
        return 2
    except ModelLoadFailed as exc:
        print(f"trendsearch: error: {exc}{followed_note(args, loaded)}", file=sys.stderr)
        return 1
    except TrendsearchError as exc:
        print(f"trendsearch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
