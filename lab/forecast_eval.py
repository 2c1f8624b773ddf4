"""`trendsearch eval-forecast SET_DIR --output RUN.jsonl`: a forecast set replayed in time order.

The product's own path, in a throw-away data folder: every post is written to a
Qdrant Edge index at its `created_at` (`Store.upsert`, counts zero), every
observation is applied at its `at` as an engagement update (`search.engagement.
apply_updates`, what `PATCH /v1/engagement` runs), and at each post's
`created_at + 1 h` the API's `Forecaster`, on the replay's clock and with its
defaults, writes `{"id", "p_top", "expected"}`. At one instant, writes go before
forecasts, so a forecast sees observations at or before its moment and nothing
after (the set's rule). `labels.jsonl` is never opened.

Texts are encoded up front: a vector depends on the text alone, so this moves no
information across time. The forecast reads the lexical (sparse) vectors only
(`search.forecast`), which are the running profile's own; the dense half is
stored as one constant vector, since no forecast number depends on it and the
e5 pass over 13k posts takes about an hour on two busy cores.

A post whose forecast has no number (status `no_history`: the first day, before
any post has a day of counts) is written with `p_top` 0 and its count so far as
`expected`; the summary says how many.
"""

from __future__ import annotations

import argparse
import heapq
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from migrations import open_live
from search.contracts import Encoded, ModelInfo
from search.embed.base import Embedder
from search.engagement import apply_updates
from search.errors import FieldError
from search.forecasting import Forecaster
from search.log import configure
from search.models import Engagement, Post, SparseVector
from search.store.edge_catalog import EdgeCatalog
from server.cli.common import settings_from
from server.profiles import load_models

__all__ = ["eval_forecast"]

ASK_AFTER_S = 3600.0
EMBED_BATCH = 256
_INGEST, _OBSERVE, _FORECAST = 0, 1, 2


class _Constant:
    """A dense half that is never read by what this replay measures (see above)."""

    def __init__(self, info: ModelInfo) -> None:
        self.info = info

    def encode_documents(self, texts: list[str]) -> Encoded:
        dense = np.zeros((len(texts), self.info.dense_dim), dtype=np.float32)
        dense[:, 0] = 1.0
        return Encoded(dense=dense, sparse=[SparseVector(indices=[], values=[])] * len(texts))

    encode_queries = encode_documents


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise FieldError("SET_DIR", f"no {path.name} in {path.parent}")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _events(posts: list[dict[str, Any]], observations: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    events: list[tuple[Any, ...]] = []
    for i, p in enumerate(posts):
        created = _ts(p["created_at"])
        events.append((created, _INGEST, i))
        events.append((created + ASK_AFTER_S, _FORECAST, i))
    for j, o in enumerate(observations):
        events.append((_ts(o["at"]), _OBSERVE, j))
    heapq.heapify(events)
    return [heapq.heappop(events) for _ in range(len(events))]


def eval_forecast(args: argparse.Namespace) -> int:
    set_dir, output = Path(args.set_dir), Path(args.output)
    settings = settings_from(args, follow_record=False)
    if settings.log_level == "INFO":
        configure("WARNING")
    raw_posts = _read(set_dir / "posts.jsonl")
    observations = _read(set_dir / "observations.jsonl")
    posts = [Post(id=p["id"], text=p["text"], platform=p.get("platform") or "unknown",
                  created_at=datetime.fromisoformat(p["created_at"]),
                  lang=p.get("lang"), author=p.get("author")) for p in raw_posts]
    models = load_models(settings)
    embedder: Any = models.embedder
    if hasattr(embedder, "dense") and isinstance(embedder.dense, Embedder):
        embedder.dense = _Constant(embedder.dense.info)
    started = time.perf_counter()
    encoded = [embedder.encode_documents([p.text for p in posts[i:i + EMBED_BATCH]])
               for i in range(0, len(posts), EMBED_BATCH)]
    embed_s = time.perf_counter() - started
    clock = {"now": 0.0}
    counts = {"ok": 0, "too_young": 0, "no_history": 0}
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="forecast-replay-") as tmp:
        catalog = EdgeCatalog(Path(tmp) / "edge")
        try:
            store = open_live(catalog, embedder.info, create=True)
            forecaster = Forecaster(store, clock=lambda: clock["now"])
            with output.open("w", encoding="utf-8") as out:
                for at, kind, i in _events(raw_posts, observations):
                    clock["now"] = at
                    if kind == _INGEST:
                        chunk = encoded[i // EMBED_BATCH]
                        row = i % EMBED_BATCH
                        one = type(chunk)(dense=np.asarray(chunk.dense[row:row + 1]),
                                          sparse=chunk.sparse[row:row + 1])
                        store.upsert([posts[i]], one, observed_at=at)
                    elif kind == _OBSERVE:
                        o = observations[i]
                        update = Engagement(likes=o.get("likes"), reposts=o.get("reposts"),
                                            comments=o.get("comments"),
                                            at=datetime.fromisoformat(o["at"]))
                        apply_updates(store, [(o["id"], update)], at)
                    else:
                        pid = posts[i].id
                        found = forecaster.forecast([pid])[pid]
                        counts[found.status] += 1
                        expected = found.expected if found.expected is not None else (found.count or 0.0)
                        out.write(json.dumps({"id": pid, "p_top": found.p_top or 0.0,
                                              "expected": expected}) + "\n")
        finally:
            catalog.close()
    seconds = time.perf_counter() - started
    print(f"replayed {len(posts)} posts, {len(observations)} observations in {seconds:.0f} s "
          f"(embedding {embed_s:.0f} s); forecasts: {counts}; run in {output}")
    if args.scorer:
        done = subprocess.run([sys.executable, args.scorer, str(set_dir), str(output)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise FieldError("--scorer", f"the scorer rejected the run: {done.stderr.strip()[-500:]}")
        print(done.stdout)
    return 0
