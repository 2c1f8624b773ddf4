"""`trendsearch eval-alerts`: a stream replayed through ingestion with watches, alerts as they fire.

The product's own path, in a throw-away data folder: posts are embedded
(through `CachedEmbedder`, so only the first run pays the model), written to a
Qdrant Edge posts index and percolated against the watches' own Edge index in
batches, in time order; at every hourly checkpoint the periodic pass runs as
of that checkpoint, seeing only posts created before it. Each alert is written
the moment it opens: `{"watch", "at", "post_ids"}` (its posts, best first).
Episode updates are not new alerts and are not written.

Of WATCHES.json only each watch's `id` and `query` are read; the stream's
posts are read as `StreamPost` (no platform, no engagement: collected days
later, it would be looking ahead). Checkpoints come from the stream itself
(every full hour from the hour after its first post to the hour after its
last), the schedule of the trends material; `--events` is read only to score.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from lab.trends_replay import read_stream
from migrations import open_live
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.errors import FieldError
from search.log import configure
from search.models import Post
from search.store.edge_catalog import EdgeCatalog
from search.watches.db import WatchDB
from search.watches.models import WatchSpec
from search.watches.percolate import Percolator
from search.watches.service import WatchService
from server.cli.common import settings_from
from server.profiles import load_models

__all__ = ["eval_alerts", "read_watches", "schedule"]

BATCH = 512
HOUR = timedelta(hours=1)


def read_watches(path: Path) -> list[WatchSpec]:
    """Only `id` and `query` of each watch: anything else in the file is the answer key."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    watches = doc.get("watches") if isinstance(doc, dict) else None
    if not isinstance(watches, list) or not watches:
        raise FieldError("WATCHES.json", 'expected {"watches": [{"id", "query"}, ...]}')
    return [WatchSpec(id=str(w["id"]), name=str(w["id"]), query=str(w["query"]))
            for w in watches]


def schedule(stream: Path) -> list[datetime]:
    """Every full hour from the hour after the first post to the hour after the last."""
    first = last = None
    for post in read_stream(stream):
        first = first or post.created_at
        last = post.created_at
    if first is None or last is None:
        raise FieldError("STREAM.jsonl", f"no posts in {stream}")
    start = first.replace(minute=0, second=0, microsecond=0) + HOUR
    end = last.replace(minute=0, second=0, microsecond=0) + HOUR
    return [start + i * HOUR for i in range(int((end - start) / HOUR) + 1)]


def _replay(posts: Iterator[Post], checkpoints: list[datetime], embedder: Any,
            store: Any, percolator: Percolator, service: WatchService, out: IO[str],
            stats: dict[str, float]) -> None:
    window = timedelta(minutes=60)
    upcoming = next(posts, None)
    last_post = None
    for checkpoint in checkpoints:
        batch: list[Post] = []
        while upcoming is not None and upcoming.created_at < checkpoint:
            batch.append(upcoming)
            last_post = upcoming.created_at
            upcoming = next(posts, None)
            if len(batch) >= BATCH or upcoming is None or upcoming.created_at >= checkpoint:
                clock = time.perf_counter()
                encoded = embedder.encode_documents([p.text for p in batch])
                store.upsert(batch, encoded)
                stats["embed_upsert_s"] += time.perf_counter() - clock
                clock = time.perf_counter()
                percolator.percolate(batch, encoded)
                stats["percolate_s"] += time.perf_counter() - clock
                stats["posts"] += len(batch)
                batch = []
        # No post in the window: no burst can open, and a stream's engagement is dropped,
        # so the pass would find nothing; skipping it changes no alert.
        if last_post is None or checkpoint - last_post > window:
            continue
        clock = time.perf_counter()
        for alert in service.run_pass(checkpoint):
            out.write(json.dumps({"watch": alert.watch_id,
                                  "at": checkpoint.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                  "post_ids": [p.id for p in alert.posts]}) + "\n")
            out.flush()
            stats["alerts"] += 1
        stats["passes"] += 1
        stats["pass_s"] += time.perf_counter() - clock


def eval_alerts(args: argparse.Namespace) -> int:
    stream, watches_path, output = Path(args.stream), Path(args.watches), Path(args.output)
    for path, name in ((stream, "STREAM.jsonl"), (watches_path, "WATCHES.json")):
        if not path.is_file():
            raise FieldError(name, f"no such file: {path}")
    if args.scorer and not args.events:
        raise FieldError("--scorer", "needs --events (the stream's events file)")
    settings = settings_from(args, follow_record=False)
    if settings.log_level == "INFO":
        configure("WARNING")
    specs = read_watches(watches_path)
    checkpoints = schedule(stream)
    embedder: Any
    if getattr(args, "minilm", False):
        from search.embed.lexical import LexicalSparseEncoder
        from search.embed.minilm import MiniLMEmbedder

        embedder = MiniLMEmbedder(LexicalSparseEncoder())
    else:
        embedder = load_models(settings).embedder
    if not args.no_cache:
        # The dense half alone where the embedder has one (e5): its vectors do not depend on
        # the lexical encoder, so they are shared with the other evaluations' caches.
        inner = getattr(embedder, "dense", None) if not args.cache_dir else None
        folder = Path(args.cache_dir) if args.cache_dir else default_cache_dir(
            settings.data_path, (inner or embedder).info.model_id)
        if inner is not None:
            embedder.dense = CachedEmbedder(inner, folder)
        else:
            embedder = CachedEmbedder(embedder, folder)
    stats = dict.fromkeys(("posts", "passes", "alerts", "embed_upsert_s", "percolate_s",
                           "pass_s"), 0.0)
    started = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="alerts-replay-") as tmp:
        catalog = EdgeCatalog(Path(tmp) / "edge")
        db = WatchDB(Path(tmp) / "watches.sqlite")
        try:
            store = open_live(catalog, embedder.info, create=True)
            percolator = Percolator(catalog.watch_index(embedder.info), db, embedder)
            service = WatchService(db, percolator, store)
            first = checkpoints[0] - HOUR
            for spec in specs:
                service.create(spec, now=first)
            with output.open("w", encoding="utf-8") as out:
                _replay(iter(read_stream(stream)), checkpoints, embedder, store, percolator,
                        service, out, stats)
        finally:
            percolator.index.close()
            db.close()
            catalog.close()
    seconds = time.perf_counter() - started
    print(f"replayed {int(stats['posts'])} posts, {len(checkpoints)} checkpoints "
          f"({int(stats['passes'])} passes) with {len(specs)} watches in {seconds:.0f} s "
          f"(embed+upsert {stats['embed_upsert_s']:.0f} s, percolate {stats['percolate_s']:.1f} s, "
          f"passes {stats['pass_s']:.1f} s); {int(stats['alerts'])} alerts in {output}")
    if args.scorer:
        scores = score_alerts(Path(args.scorer), Path(args.events), watches_path, output)
        target = output.with_suffix(".scores.json")
        target.write_text(json.dumps(scores, indent=1) + "\n", encoding="utf-8")
        print(f"detected {scores['detected']}  delay h median {scores['delay_h']['median']}  "
              f"precision {scores['precision']}  noise {scores['noise_alerts']}  decoys "
              f"{scores['decoy_alerts']}  alerts/event watch {scores['alerts_per_event_watch']}; "
              f"scores in {target}")
    return 0


def score_alerts(scorer: Path, events: Path, watches: Path, run: Path) -> dict[str, Any]:
    """The alerts scorer's JSON (run as its own process, never changed)."""
    if not scorer.is_file():
        raise FieldError("--scorer", f"no such file: {scorer}")
    done = subprocess.run([sys.executable, str(scorer), str(events), str(watches), str(run)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise FieldError("--scorer", f"the scorer rejected the run: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
