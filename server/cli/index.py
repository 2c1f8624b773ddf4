"""`index`, `migrate`, `reindex`: the commands that write the live index."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from search.errors import FieldError, TrendsearchError
from server.cli.common import banner, settings_from

__all__ = ["add_parsers"]


def _index(args: argparse.Namespace) -> int:
    from indexer.run import index_files
    from indexer.takedowns import Takedowns
    from indexer.upkeep import build_index
    from migrations import open_live
    from server.profiles import load_models, open_catalog

    settings = settings_from(args)
    paths = [Path(p) for p in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FieldError("FILE", f"no such file: {', '.join(missing)}")
    models = load_models(settings)
    banner(settings, models)
    catalog = open_catalog(settings)
    watches = None
    try:
        store = open_live(catalog, models.embedder.info, create=True)
        from server.live_profile import confirm

        confirm(settings.data_path, settings.profile, models.embedder.info.model_id)
        # Posts indexed from files are matched against the watches too (the percolating store).
        from server.watches.runtime import WatchRuntime

        watches = WatchRuntime(settings, catalog, store, models.embedder)
        rejects = Path(args.rejects) if args.rejects else settings.data_path / "rejects.jsonl"
        summary = index_files(paths, watches.store, models.embedder, batch_size=args.batch_size,
                              rejects_path=rejects, show_progress=not args.quiet,
                              takedowns=Takedowns(settings.data_path))
        built = build_index(store, reason="index")
        points = store.count()
    finally:
        if watches is not None:
            watches.close()
        catalog.close()
    print(f"indexed {summary.indexed} posts, rejected {summary.rejected} "
          f"in {summary.seconds:.1f} s ({summary.posts_per_s:.0f} posts/s); "
          f"index holds {points} posts"
          + (f"; dense index built in {built.seconds:.1f} s ({built.segments} segments)"
             if built is not None and built.changed else "")
          + (f"; rejects in {summary.rejects_file}" if summary.rejected else ""))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from migrations import migrate, open_live
    from server.profiles import load_models, open_catalog

    settings = settings_from(args)
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


def _record(settings: Any, models: Any) -> None:
    """At the switch (before the old index drains and drops): the next start that names
    no profile runs this one (`server.live_profile`); a failed note never fails the switch."""
    from search.log import log
    from server.live_profile import record

    try:
        record(settings.data_path, settings.profile, models.embedder.info.model_id)
    except OSError as exc:
        log("reindex.profile_not_recorded", error=str(exc)[:300],
            note=f"set TRENDSEARCH_PROFILE={settings.profile} before the next start")


def _guard_writers(catalog: Any, force: bool) -> None:
    """Refuse a rebuild while an API writes through the alias (a fresh writer lease,
    `server.writer_lease`): its writes after the copy would be lost with the old
    collection. `--force` goes on anyway, saying so; stale leases (an API that crashed or
    was killed) block nothing and are named."""
    from server.writer_lease import FRESH_S

    fresh, stale = _leases_now(catalog)
    for lease in stale:
        print(f"note: stale writer lease (older than {FRESH_S:.0f} s, taken for a stopped "
              f"API): {lease.describe()}", file=sys.stderr, flush=True)
    if fresh and force:
        print(f"note: --force: rebuilding while {len(fresh)} API process(es) write to this "
              f"index; their writes from now until the switch are lost: {_named(fresh)}",
              file=sys.stderr, flush=True)
    if fresh and not force:
        raise TrendsearchError(
            f"{len(fresh)} API process(es) write to this index now: {_named(fresh)}. "
            "A rebuild here would lose the writes they make meanwhile. Rebuild inside the "
            "API instead (`trendsearch reindex --server URL`, which keeps them), or stop the "
            "API first, or pass --force to rebuild anyway and lose those writes")
    # Also without a lease: an API of an older version, or a `trendsearch index`, keeps none.
    print("note: writes an API makes during this rebuild are not carried over; to keep "
          "them, rebuild inside the API: `trendsearch reindex --server URL`",
          file=sys.stderr, flush=True)


def _leases_now(catalog: Any) -> tuple[list[Any], list[Any]]:
    """(fresh, stale) writer leases on the alias; none on Edge (no `writer_leases`)."""
    from server.writer_lease import fresh_and_stale

    leases = getattr(catalog, "writer_leases", None)
    return fresh_and_stale(leases().read() if leases is not None else [])


def _named(leases: list[Any]) -> str:
    return "; ".join(lease.describe() for lease in leases)


@contextmanager
def _still_no_writers(catalog: Any) -> Iterator[None]:
    """At the switch (`reindex`'s `pause`), the leases once more: an API that started
    during the copy writes into the old collection too. Refused then, the new index is
    dropped as for any failure before the switch and the old one stays live."""
    fresh, _stale = _leases_now(catalog)
    if fresh:
        raise TrendsearchError(
            f"{len(fresh)} API process(es) began writing to this index during the rebuild: "
            f"{_named(fresh)}. Nothing was switched and the new index was dropped; rebuild "
            "inside the API (`trendsearch reindex --server URL`), or stop it and run this "
            "again, or pass --force")
    yield


def _reindex(args: argparse.Namespace) -> int:
    if args.server:
        from server.cli.remote import reindex_through

        if args.force:
            raise FieldError("--force", "applies to a rebuild run here, not with --server "
                                        "(the API's own rebuild keeps its writes)")

        return reindex_through(args)
    from indexer.reindex import reindex
    from server.profiles import load_models, open_catalog

    settings = settings_from(args)
    if args.force and not settings.qdrant_url:
        raise FieldError("--force", "applies to a Qdrant server (QDRANT_URL); the embedded "
                                    "store's folder lock already keeps a serving API out")
    catalog = open_catalog(settings)
    try:
        if settings.qdrant_url:  # before the models load: a refusal costs no gigabytes
            _guard_writers(catalog, force=args.force)
        models = load_models(settings)
        banner(settings, models)
        checked = settings.qdrant_url and not args.force
        old, new, count = reindex(catalog, models.embedder, batch_size=args.batch_size,
                                  keep_old=args.keep_old,
                                  pause=_still_no_writers(catalog) if checked else None,
                                  on_switch=lambda: _record(settings, models))
    finally:
        catalog.close()
    print(f"reindexed {count} posts from {old} into {new}; {new} is now live")
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    from server.cli.common import bounded_int

    p = sub.add_parser("index", parents=[common], help="index JSONL/CSV files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--rejects", help="where bad records go (default: DATA_DIR/rejects.jsonl)")
    p.add_argument("--batch-size", type=bounded_int(1, 10_000), default=64)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_index)

    p = sub.add_parser("migrate", parents=[common], help="apply pending schema steps")
    p.set_defaults(run=_migrate)

    p = sub.add_parser("reindex", parents=[common], help="rebuild with this profile's model, switch")
    p.add_argument("--batch-size", type=bounded_int(1, 10_000), default=64)
    p.add_argument("--keep-old", action="store_true", help="keep the previous index on disk")
    p.add_argument("--server", metavar="URL",
                   help="run the rebuild inside the API serving at URL, which keeps serving and "
                        "taking writes; needed beside `serve` on the embedded store. With "
                        "--profile, a model change: the API switches to that profile's models "
                        "with the new index; without, its own model")
    p.add_argument("--api-key", help="a write key of that server (default: TRENDSEARCH_API_KEY)")
    p.add_argument("--force", action="store_true",
                   help="on a Qdrant server without --server: rebuild even while an API "
                        "serving this alias holds a fresh writer lease; the writes it makes "
                        "during the rebuild are lost (refused without it)")
    p.add_argument("--poll-s", type=float, default=1.0, help=argparse.SUPPRESS)
    p.set_defaults(run=_reindex)
