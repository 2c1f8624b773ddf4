"""`trendsearch bench-watches`: ingest throughput with 0, 100 and 10,000 watches, side by side.

Each configuration has its own Qdrant Edge posts index, watch index and
watches database, and ingests the same sample posts in batches of 64 through
the percolating store, as the API and the indexer do. The configurations take
turns batch by batch, so a machine that gets busier halfway (a shared one)
slows all of them alike. Two rates per configuration:

- ingest: embed + upsert + percolate, what a user of `POST /v1/posts` sees;
- store only: upsert + percolate with the vectors computed beforehand, the
  percolator's cost against the store's alone (the model left out).

Watch queries recombine the sample's words (2-5 each); their dense vectors
are sample posts' vectors plus noise rather than model output (embedding
10,000 queries costs minutes and the match cost does not depend on what the
vectors mean); their sparse vectors are the real lexical encoding. Before
timing, every configuration ingests a warm-up share of the posts and runs one
pass, so watches are calibrated as in a running server.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from indexer.validate import to_post
from migrations import open_live
from search.contracts import Encoded
from search.models import Post
from search.store.edge_catalog import EdgeCatalog
from search.watches.db import WatchDB
from search.watches.models import Watch
from search.watches.percolate import Percolator
from search.watches.percolating import PercolatingStore
from search.watches.service import WatchService
from server.profiles import describe, load_models
from server.settings import Settings

BATCH = 64


class _SyntheticQueries:
    """Watch queries: dense from sample vectors plus noise, sparse from the real encoder."""

    def __init__(self, embedder: Any, pool: np.ndarray, seed: int = 11) -> None:
        self.info = embedder.info
        self._embedder = embedder
        self._pool = pool
        self._rng = np.random.default_rng(seed)

    def encode_queries(self, texts: list[str]) -> Encoded:
        picks = self._rng.integers(0, len(self._pool), size=len(texts))
        dense = self._pool[picks] + self._rng.normal(0, 0.05, size=(len(texts), self._pool.shape[1]))
        dense = (dense / np.linalg.norm(dense, axis=1, keepdims=True)).astype(np.float32)
        lexical = getattr(self._embedder, "_lexical", None)
        sparse = (lexical.encode_queries(texts) if lexical is not None
                  else self._embedder.encode_queries(texts).sparse)
        return Encoded(dense=dense, sparse=sparse)

    def encode_documents(self, texts: list[str]) -> Encoded:
        return self._embedder.encode_documents(texts)  # type: ignore[no-any-return]


class _Config:
    def __init__(self, root: Path, n_watches: int, embedder: Any, queries: _SyntheticQueries,
                 words: list[str], now: Any) -> None:
        self.n = n_watches
        self.catalog = EdgeCatalog(root / "edge")
        self.db = WatchDB(root / "watches.sqlite")
        inner = open_live(self.catalog, embedder.info, create=True)
        self.percolator = Percolator(self.catalog.watch_index(embedder.info), self.db, queries)
        rng = random.Random(n_watches)
        for i in range(n_watches):
            query = " ".join(rng.choice(words) for _ in range(rng.randint(2, 5)))
            self.db.put_watch(Watch(id=f"w{i}", name=f"w{i}", query=query, filters=None,
                                    triggers=msgspec.convert({}, _triggers()), webhook=None,
                                    enabled=True, created_at=now, updated_at=now))
        self.percolator.sync()  # one batch upsert of every query vector
        self.store = PercolatingStore(inner, self.percolator)
        self.service = WatchService(self.db, self.percolator, self.store)
        self.seconds = {"ingest": 0.0, "store": 0.0}
        self.posts = {"ingest": 0, "store": 0}
        self.matches = 0

    def close(self) -> None:
        self.percolator.index.close()
        self.db.close()
        self.catalog.close()


def _triggers() -> Any:
    from search.watches.models import Triggers

    return Triggers


def run_watch_bench(settings: Settings, *, sample: Path, posts: int,
                    counts: tuple[int, ...] = (0, 100, 10_000)) -> int:
    models = load_models(settings)
    print(describe(settings, models))
    embedder = models.embedder
    lines = sample.read_bytes().splitlines()
    all_posts = sorted((to_post(msgspec.json.decode(line)) for line in lines),
                       key=lambda p: p.created_at)[:posts]
    texts = [p.text for p in all_posts]
    embedder.encode_documents(texts[:BATCH])  # warm-up: the first batch pays lazy init
    encoded = embedder.encode_documents(texts)
    queries = _SyntheticQueries(embedder, np.asarray(encoded.dense))
    words = [w for t in texts for w in t.split() if w.isalpha() and len(w) > 3]
    warm = len(all_posts) // 4
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        configs = [_Config(Path(tmp) / f"c{n}", n, embedder, queries, words,
                           all_posts[-1].created_at) for n in counts]
        print(f"\nwatches created and indexed in {time.perf_counter() - t0:.0f} s")
        for c in configs:
            _ingest(c, all_posts[:warm], _slice(encoded, 0, warm))
            c.service.run_pass(all_posts[warm - 1].created_at + timedelta(minutes=1))
            c.seconds = {"ingest": 0.0, "store": 0.0}
            c.posts = {"ingest": 0, "store": 0}
            c.matches = 0
        rest = list(range(warm, len(all_posts), BATCH))
        for start in rest:  # the configurations take turns, batch by batch
            batch = all_posts[start:start + BATCH]
            for c in configs:
                clock = time.perf_counter()
                fresh = embedder.encode_documents([p.text for p in batch])
                c.matches += _ingest(c, batch, fresh)
                c.seconds["ingest"] += time.perf_counter() - clock
                c.posts["ingest"] += len(batch)
                clock = time.perf_counter()  # again, vectors in hand: the store alone
                _ingest(c, batch, _slice(encoded, start, start + len(batch)))
                c.seconds["store"] += time.perf_counter() - clock
                c.posts["store"] += len(batch)
        base = configs[0]
        print(f"\n## Ingest with watches ({len(all_posts) - warm} posts in batches of {BATCH}, "
              f"after {warm} warm-up posts and one pass)")
        print("| watches | ingest posts/s | vs no watches | store only posts/s | vs no watches | "
              "matches per post |")
        print("|---|---|---|---|---|---|")
        for c in configs:
            rate = {k: c.posts[k] / c.seconds[k] for k in c.seconds}
            ref = {k: base.posts[k] / base.seconds[k] for k in base.seconds}
            print(f"| {c.n:,} | {rate['ingest']:.1f} | {rate['ingest'] / ref['ingest']:.2f} | "
                  f"{rate['store']:.0f} | {rate['store'] / ref['store']:.2f} | "
                  f"{c.matches / max(c.posts['ingest'], 1):.1f} |")
        for c in configs:
            c.close()
    return 0


def _ingest(c: _Config, posts: list[Post], encoded: Encoded) -> int:
    before = c.percolator.db.rows("SELECT COUNT(*) FROM matches")[0][0]
    c.store.upsert(posts, encoded)
    return int(c.percolator.db.rows("SELECT COUNT(*) FROM matches")[0][0] - before)


def _slice(encoded: Encoded, start: int, end: int) -> Encoded:
    return Encoded(dense=encoded.dense[start:end], sparse=encoded.sparse[start:end],
                   coverage=encoded.coverage[start:end] if encoded.coverage else None)
