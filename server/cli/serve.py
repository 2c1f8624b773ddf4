"""`serve` and `demo`: run the API and the web page (the demo indexes the sample first)."""

from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.cli.common import SAMPLE, banner, bounded_int, settings_from
from server.settings import Settings

__all__ = ["add_parsers", "demo_index"]


def _serve_with(settings: Settings, models: Any = None) -> int:
    import uvicorn

    from server.app import create_app, proxy_options
    from server.services import Services

    services = Services.build(settings, models)
    banner(settings, services.models)
    print(f"serving on http://{settings.host}:{settings.port}/  (API docs: /schema)",
          file=sys.stderr, flush=True)
    uvicorn.run(create_app(settings, services), host=settings.host, port=settings.port,
                log_level="warning", **proxy_options(settings))
    services.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    return _serve_with(settings_from(args))


def demo_index(settings: Settings, models: Any, sample: Path) -> None:
    """The sample in the live index, indexed once (skipped when the live index already
    holds this exact file).

    An index built by another model (an older demo, before the offline profile moved
    to multilingual-e5-small) is not an error here, as it is for `serve`: the demo's
    index is the sample's, so the demo builds this model's index beside it, makes it
    live and keeps the old one (`trendsearch reindex` is how to move one's own posts).
    """
    from indexer.run import index_files
    from indexer.takedowns import Takedowns
    from indexer.upkeep import build_index
    from migrations import migrate, open_live
    from search.errors import ModelMismatch
    from search.store.base import new_index_name
    from server.profiles import open_catalog

    digest = hashlib.sha256(sample.read_bytes()).hexdigest()
    info = models.embedder.info
    catalog = open_catalog(settings)
    try:
        try:
            store = open_live(catalog, info, create=True)
        except ModelMismatch as mismatch:
            name = new_index_name(info, datetime.now(UTC))
            store = catalog.create(name)
            migrate(store, info, name)
            catalog.activate(name)
            print(f"the live index was built with `{mismatch.index_model}`; the demo builds a "
                  f"new one, {name}, for `{info.model_id}` and makes it live (the old one is "
                  f"kept)", file=sys.stderr)
        marker = settings.data_path / f"demo-{store.manifest().name}.sha256"
        if marker.exists() and marker.read_text() == digest:
            print(f"sample already indexed ({store.count()} posts)", file=sys.stderr)
        else:
            summary = index_files([sample], store, models.embedder, show_progress=True,
                                  rejects_path=settings.data_path / "rejects.jsonl",
                                  takedowns=Takedowns(settings.data_path))
            build_index(store, reason="demo")
            marker.write_text(digest)
            print(f"indexed {summary.indexed} sample posts ({summary.posts_per_s:.0f} posts/s)",
                  file=sys.stderr)
    finally:
        catalog.close()


def _demo(args: argparse.Namespace) -> int:
    from search.errors import FieldError
    from server.profiles import load_models

    settings = settings_from(args)
    sample = Path(args.sample)
    if not sample.is_file():
        raise FieldError("--sample", f"no such file: {sample}")
    if args.replay:
        from server.cli.replay import replay_demo

        return replay_demo(settings, sample, args.speed)
    models = load_models(settings)
    banner(settings, models)
    demo_index(settings, models, sample)
    return _serve_with(settings, models)


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    for name, run, text in (("serve", _serve, "run the API and web page"),
                            ("demo", _demo, "index the bundled sample, then serve")):
        p = sub.add_parser(name, parents=[common], help=text)
        p.add_argument("--host")
        p.add_argument("--port", type=bounded_int(1, 65535))
        if name == "demo":
            p.add_argument("--sample", default=str(SAMPLE))
            p.add_argument("--replay", action="store_true",
                           help="feed the sample in time order at an accelerated clock, with "
                                "preset watches that fire as their stories break")
            p.add_argument("--speed", type=bounded_int(1, 10_000_000), default=3600,
                           help="replayed seconds per real second (default 3600: an hour a second)")
        p.set_defaults(run=run)
