"""The percolator: every new batch of posts matched against all watches at once.

A search engine answers "which posts match this query"; a percolator answers
"which saved queries match this post". The watches' query vectors (dense and
sparse) live in their own Qdrant index (`search.store.WatchIndex`); each new
batch's vectors search it in one batch call, so the cost grows with posts, not
with posts x watches. The candidates (a post's nearest watches by meaning, and
every watch that shares a term with it) are then scored exactly here: the dense
cosine, the share of the query's weight the post's words hold, the watch's
filters, phrases and -exclusions. Matches go to the watches database, where the
periodic pass (`search.watches.service`) counts them against each watch's own
baseline.

Document frequencies of the watches' terms among posts are counted here, as
posts arrive, so the lexical share weighs a query's rare words (`calgary`)
above its common ones (`water`) without asking the posts index.
"""

from __future__ import annotations

import threading
import zlib
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from search import dedup
from search.contracts import Encoded
from search.embed.base import Embedder
from search.models import Post, SearchFilters, SparseVector
from search.query import parse_query, phrase_matcher, post_terms, term_keys
from search.store.base import Signal, Store, WatchIndex, stored_encoded
from search.watches import relevance
from search.watches.db import WatchDB, ts
from search.watches.models import Match, Watch

# Nearest watches by meaning asked per post; a post is rarely about more stories than this.
DENSE_CANDIDATES = 16
# Watches sharing a term with a post, asked per post.
SPARSE_CANDIDATES = 64
# Dense-only candidates below this z (for a calibrated watch) are not worth a row.
RECORD_MIN_Z = 1.0
# Posts a new watch is matched against, per signal, when it is created (`backfill`).
BACKFILL_POSTS = 2000
# A dense model that knows under this share of the query's word pieces (MiniLM reading
# Chinese) gives no evidence: the watch is matched by its words alone.
MIN_COVERAGE = 0.5


class _Compiled(msgspec.Struct):
    watch: Watch
    dense: npt.NDArray[np.float32]
    terms: dict[int, float]  # query term id -> its weight in the query vector
    dense_trusted: bool
    holds_phrases: Any
    excluded: list[list[str]]


def _passes_filters(post: Post, flt: SearchFilters | None) -> bool:
    if flt is None:
        return True
    for key in ("platform", "lang", "author"):
        allowed = getattr(flt, key)
        if allowed and getattr(post, key) not in allowed:
            return False
    if (flt.min_likes and post.likes < flt.min_likes
            or flt.min_reposts and post.reposts < flt.min_reposts
            or flt.min_comments and post.comments < flt.min_comments):
        return False
    return flt.has_image is None or flt.has_image == bool(post.image_urls)


class Percolator:
    def __init__(self, index: WatchIndex, db: WatchDB, embedder: Embedder) -> None:
        self.index = index
        self.db = db
        self.embedder = embedder
        self._lock = threading.RLock()
        self._watches: dict[str, _Compiled] = {}
        self._df: Counter[int] = Counter()
        self._posts = 0
        self._version: str | None = None
        self.calibrations: dict[str, relevance.Calibration] = {}

    # -- the watch set ------------------------------------------------------
    def sync(self) -> None:
        """Load every watch of the database, (re)building index entries that are missing:
        the database is the truth, the index follows it (a crash between the two, another
        model's process, a new data folder)."""
        with self._lock:
            self._version = self.db.get_meta("watches_version")
            watches = [w for w in self.db.watches() if w.enabled]
            stored = self.index.vectors()
            self._watches.clear()
            fresh = [w for w in watches if w.id not in stored
                     or (self.db.get_meta(f"indexed:{w.id}") or "")[2:] != w.query]
            self._compile(fresh, upsert=True)
            self._compile([w for w in watches if w not in fresh], upsert=False, stored=stored)
            gone = [w for w in stored if w not in self._watches]
            self.index.delete(gone)
            posts, df = self.db.term_counts([str(t) for c in self._watches.values() for t in c.terms])
            self._posts = posts
            self._df = Counter({int(k): v for k, v in df.items()})
            self.calibrations = self.db.calibrations()

    def refresh(self) -> None:
        """Follow changes another process made to the watch set (cheap when there are none)."""
        version = self.db.get_meta("watches_version")
        if version == self._version:
            return
        with self._lock:
            self._version = version
            watches = {w.id: w for w in self.db.watches() if w.enabled}
            for watch_id in [w for w in self._watches if w not in watches]:
                self.remove(watch_id)
            for watch in watches.values():
                known = self._watches.get(watch.id)
                if known is None or (known.watch.query, known.watch.filters) != (
                        watch.query, watch.filters):
                    self.put(watch)
                else:
                    known.watch = watch

    def put(self, watch: Watch) -> None:
        with self._lock:
            self._watches.pop(watch.id, None)
            if watch.enabled:
                self._compile([watch], upsert=True)
            else:
                self.index.delete([watch.id])
            self.calibrations.pop(watch.id, None)

    def remove(self, watch_id: str) -> None:
        with self._lock:
            self._watches.pop(watch_id, None)
            self.calibrations.pop(watch_id, None)
            self.index.delete([watch_id])

    def watch_ids(self) -> list[str]:
        with self._lock:
            return list(self._watches)

    def dense_matrix(self, watch_ids: Sequence[str]) -> npt.NDArray[np.float32]:
        """Query vectors of these watches, one row each (for calibration)."""
        with self._lock:
            return np.stack([self._watches[w].dense for w in watch_ids]).astype(np.float32)

    def query_terms(self, watch_id: str) -> int:
        """How many terms the watch's query has (lexical evidence counts in average terms)."""
        with self._lock:
            compiled = self._watches.get(watch_id)
            return max(1, len(compiled.terms)) if compiled else 1

    def term_weights(self, watch_id: str) -> list[float]:
        """Each query term's weight now (its query weight x IDF among the posts seen), in
        `Match.terms_mask` bit order: what the pass weighs the terms of a window by."""
        with self._lock:
            c = self._watches.get(watch_id)
            if c is None:
                return []
            return [w * relevance.idf(self._df[t], self._posts) for t, w in c.terms.items()]

    def dense_trusted(self, watch_id: str) -> bool:
        with self._lock:
            compiled = self._watches.get(watch_id)
            return bool(compiled and compiled.dense_trusted)

    def _compile(self, watches: list[Watch], *, upsert: bool,
                 stored: dict[str, Any] | None = None) -> None:
        """Ready watches for matching; `upsert` embeds their queries into the index, else
        the vectors `stored` in the index are used (no embedding at start-up)."""
        if not watches:
            return
        parsed = [parse_query(w.query) for w in watches]
        if upsert or stored is None:
            encoded = self.embedder.encode_queries([p.text for p in parsed])
            dense = [np.asarray(v, dtype=np.float32) for v in encoded.dense]
            sparse = encoded.sparse
            coverage = encoded.coverage or [1.0] * len(watches)
            trusted = [c >= MIN_COVERAGE for c in coverage]
            self.index.upsert([w.id for w in watches], encoded)
            for w, ok in zip(watches, trusted, strict=True):
                self.db.set_meta(f"indexed:{w.id}", ("1|" if ok else "0|") + w.query)
        else:
            dense = [np.asarray(stored[w.id][0], dtype=np.float32) for w in watches]
            sparse = [stored[w.id][1] for w in watches]
            trusted = [(self.db.get_meta(f"indexed:{w.id}") or "1|").startswith("1|")
                       for w in watches]
        for i, (w, p) in enumerate(zip(watches, parsed, strict=True)):
            self._watches[w.id] = _Compiled(
                watch=w, dense=dense[i],
                terms=dict(zip(sparse[i].indices, sparse[i].values, strict=True)),
                dense_trusted=trusted[i], holds_phrases=phrase_matcher(p.phrases),
                excluded=[term_keys(term) for term in p.excluded])

    def backfill(self, watch_id: str, store: Store, since: datetime, until: datetime,
                 limit: int = BACKFILL_POSTS) -> int:
        """Match a new watch against the posts already indexed in [since, until), so it
        starts with its own baseline (and fires at the next pass if its story already
        moves). One hybrid search of the posts index with the watch's vectors, then the
        same scoring as at ingest, with the vectors the index holds (nothing is embedded)."""
        with self._lock:
            c = self._watches.get(watch_id)
        if c is None:
            return 0
        span = msgspec.structs.replace(c.watch.filters or SearchFilters(), since=since, until=until)
        sparse = SparseVector(indices=list(c.terms), values=list(c.terms.values()))
        signals: list[Signal] = [("sparse", sparse)]
        if c.dense_trusted:
            signals.append(("dense", c.dense.tolist()))
        found = {hit.point_id for hits in store.search(signals, span, None, limit) for hit in hits}
        if not found:
            return 0
        posts = store.posts_at(list(found))
        ids, encoded = stored_encoded(store, list(posts))
        out: list[Match] = []
        with self._lock:
            for i, point in enumerate(ids):
                out.extend(self._score(posts[point], encoded, i, {watch_id}))
        self.db.add_matches(out)
        return len(out)

    # -- matching -----------------------------------------------------------
    def percolate(self, posts: Sequence[Post], encoded: Encoded) -> list[Match]:
        """Match one batch (as written to the posts index) and record the matches."""
        self.refresh()
        with self._lock:
            if not self._watches or not posts:
                self._count_terms(encoded)
                self.db.add_traffic([ts(p.created_at) for p in posts])
                return []
            hits = self.index.nearest(encoded, DENSE_CANDIDATES, SPARSE_CANDIDATES)
            out: list[Match] = []
            for i, post in enumerate(posts):
                candidates = {w for w, _ in hits.dense[i]} | {w for w, _ in hits.sparse[i]}
                out.extend(self._score(post, encoded, i, candidates))
            self._count_terms(encoded)  # after: a batch's words are weighed by what came before
            self.db.add_traffic([ts(p.created_at) for p in posts])
        self.db.add_matches(out)
        return out

    def _score(self, post: Post, encoded: Encoded, i: int, candidates: set[str]) -> list[Match]:
        post_ids = set(encoded.sparse[i].indices)
        weights = dict(zip(encoded.sparse[i].indices, encoded.sparse[i].values, strict=True))
        vector = np.asarray(encoded.dense[i], dtype=np.float32)
        terms: set[str] | None = None
        copy: int | None = None
        out = []
        for watch_id in candidates:
            c = self._watches.get(watch_id)
            if c is None or not _passes_filters(post, c.watch.filters):
                continue
            shared = [t for t in c.terms if t in post_ids and weights.get(t, 0) > 0]
            lexical = self._lexical(c, shared)
            cosine = float(vector @ c.dense) if c.dense_trusted else 0.0
            z = relevance.z_score(cosine, self.calibrations.get(watch_id))
            if lexical <= 0 and watch_id in self.calibrations and z < RECORD_MIN_Z:
                continue
            if c.excluded or c.holds_phrases is not None:
                if c.excluded:
                    terms = terms if terms is not None else set(post_terms(post.text))
                    if any(all(k in terms for k in group) for group in c.excluded if group):
                        continue
                if not c.holds_phrases(post.text):
                    continue
            if copy is None:
                key = dedup.signature(post.text).key or post.id
                copy = zlib.crc32(key.encode("utf-8"))
            mask = sum(1 << k for k, t in enumerate(c.terms) if t in shared) if shared else 0
            score = relevance.score(z, lexical * max(1, len(c.terms)))
            out.append(Match(watch_id=watch_id, post_id=post.id, created_ts=ts(post.created_at),
                             dense=round(cosine, 5), lexical=round(lexical, 4), copy=copy,
                             terms_mask=mask, behind=score))
        # Rank-based evidence: how far each watch is behind the post's best watch (a Boston
        # explosion post is nearer "explosions at the Boston marathon" than "fertilizer
        # plant explosion in Texas"; with one watch, nothing is ever behind).
        best = max((m.behind for m in out), default=0.0)
        return [msgspec.structs.replace(m, behind=round(best - m.behind, 3)) for m in out]

    def _lexical(self, c: _Compiled, shared: list[int]) -> float:
        if not shared:
            return 0.0
        weight = {t: w * relevance.idf(self._df[t], self._posts) for t, w in c.terms.items()}
        return relevance.word_share(weight, set(shared))

    def _count_terms(self, encoded: Encoded) -> None:
        """Document frequencies of the watches' terms, this batch included afterwards."""
        wanted = {t for c in self._watches.values() for t in c.terms}
        batch: Counter[int] = Counter()
        for sparse in encoded.sparse:
            batch.update(wanted.intersection(sparse.indices))
        self._df.update(batch)
        self._posts += len(encoded.sparse)
        self.db.add_term_counts(len(encoded.sparse), {str(t): n for t, n in batch.items()})
