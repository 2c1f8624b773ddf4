"""`serve` and `demo`: run the API and the web page (the demo indexes the sample first)."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

from server.cli.common import SAMPLE, banner, bounded_int, settings_from
from server.settings import Settings

__all__ = ["add_parsers"]


def _serve_with(settings: Settings, models: Any = None) -> int:
    import uvicorn

    from server.app import create_app
    from server.services import Services

    services = Services.build(settings, models)
    banner(settings, services.models)
    print(f"serving on http://{settings.host}:{settings.port}/  (API docs: /schema)",
          file=sys.stderr, flush=True)
    uvicorn.run(create_app(settings, services), host=settings.host, port=settings.port,
                log_level="warning")
    services.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    return _serve_with(settings_from(args))


def _demo(args: argparse.Namespace) -> int:
    """Index the sample once (skipped when the live index already holds this exact file), serve."""
    from indexer.run import index_files
    from indexer.takedowns import Takedowns
    from migrations import open_live
    from search.errors import FieldError
    from server.profiles import load_models, open_catalog

    settings = settings_from(args)
    sample = Path(args.sample)
    if not sample.is_file():
        raise FieldError("--sample", f"no such file: {sample}")
    if args.replay:
        from server.cli.replay import replay_demo

        return replay_demo(settings, sample, args.speed)
    digest = hashlib.sha256(sample.read_bytes()).hexdigest()
    models = load_models(settings)
    banner(settings, models)
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
