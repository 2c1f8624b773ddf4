"""Embeddings kept on disk, so a rerun pays the model only for texts it never saw.

Why: embedding the 80k public evaluation posts takes minutes on 2 cores, and
most reruns (a ranking change, a new configuration) need the very same
vectors. `CachedEmbedder` wraps any `Embedder`, presents the same protocol and
the same `info`, and stores what the wrapped model produced, keyed by
(`model_id`, sha256 of the text): another model id, or one changed character,
is a miss, never a stale vector.

Storage is one SQLite file (stdlib): dense rows as float32 bytes, sparse
indices as int64 and values as float64 bytes, exactly what the model returned,
so a cached run ranks bit for bit like a fresh one. Each `encode_documents`
call commits its new rows in one transaction: a process killed mid-run leaves
the rows of finished calls and nothing half-written (WAL journal).

Queries are not cached by default: they are few and cheap, and caching them
would hide the query-embedding time that latency measurements must include.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np

from search.contracts import Encoded, ModelInfo
from search.embed.base import Embedder
from search.models import SparseVector

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    model_id TEXT NOT NULL,
    kind TEXT NOT NULL,            -- 'doc' or 'query': models may encode them differently
    sha256 BLOB NOT NULL,
    dense BLOB NOT NULL,           -- float32, little-endian, dense_dim values
    sparse_indices BLOB NOT NULL,  -- int64, little-endian
    sparse_values BLOB NOT NULL,   -- float64, little-endian
    PRIMARY KEY (model_id, kind, sha256)
) WITHOUT ROWID
"""
# SQLite's default limit on bound parameters is 32766; stay far below it.
_LOOKUP_CHUNK = 500


def model_slug(model_id: str) -> str:
    """A folder name for a model id: readable prefix plus a hash, since ids run
    long (the lexical one carries a tokeniser fingerprint) and prefixes collide."""
    readable = "".join(ch if ch.isalnum() else "-" for ch in model_id.lower())
    readable = "-".join(part for part in readable.split("-") if part)[:48]
    return f"{readable}-{hashlib.sha256(model_id.encode('utf-8')).hexdigest()[:10]}"


def default_cache_dir(data_dir: Path, model_id: str) -> Path:
    return data_dir / "embed-cache" / model_slug(model_id)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class CachedEmbedder:
    """An `Embedder` that remembers what the embedder it wraps produced.

    `hits` and `misses` count texts (after de-duplication within a call), so a
    caller can say how much of a run came from the cache.
    """

    def __init__(self, inner: Embedder, folder: Path, *, cache_queries: bool = False) -> None:
        self._inner = inner
        self._info = inner.info
        self._cache_queries = cache_queries
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        # A minute's patience for the lock: several processes (eval, two cache warmers)
        # share one cache, and sqlite's default 5 s gave up during a neighbour's write.
        self._db = sqlite3.connect(self.folder / "embeddings.sqlite", check_same_thread=False,
                                   isolation_level=None, timeout=60.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a power cut may lose the last commits, never corrupt the file;
        # a killed process loses nothing it committed.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def inner(self) -> Embedder:
        return self._inner

    def encode_documents(self, texts: list[str]) -> Encoded:
        return self._encode(texts, "doc")

    def encode_queries(self, texts: list[str]) -> Encoded:
        if not self._cache_queries:
            return self._inner.encode_queries(texts)
        return self._encode(texts, "query")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- internals --------------------------------------------------------
    def _encode(self, texts: list[str], kind: str) -> Encoded:
        digests = [_digest(t) for t in texts]
        unique = list(dict.fromkeys(digests))
        with self._lock:
            found = self._lookup(unique, kind)
        missing = [d for d in unique if d not in found]
        self.hits += len(unique) - len(missing)
        self.misses += len(missing)
        if missing:
            first_text: dict[bytes, str] = {}
            for digest, text in zip(digests, texts, strict=True):
                first_text.setdefault(digest, text)
            fresh = self._inner_encode([first_text[d] for d in missing], kind)
            rows = {d: (fresh.dense[i], fresh.sparse[i]) for i, d in enumerate(missing)}
            with self._lock:
                self._store(rows, kind)
            found.update(rows)
        dim = self._info.dense_dim
        dense = (np.stack([found[d][0] for d in digests]).astype(np.float32, copy=False)
                 if texts else np.zeros((0, dim), dtype=np.float32))
        return Encoded(dense=dense, sparse=[found[d][1] for d in digests])

    def _inner_encode(self, texts: list[str], kind: str) -> Encoded:
        if kind == "doc":
            return self._inner.encode_documents(texts)
        return self._inner.encode_queries(texts)

    def _lookup(self, digests: list[bytes],
                kind: str) -> dict[bytes, tuple[np.ndarray, SparseVector]]:
        out: dict[bytes, tuple[np.ndarray, SparseVector]] = {}
        want = self._info.dense_dim * 4
        for start in range(0, len(digests), _LOOKUP_CHUNK):
            chunk = digests[start:start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT sha256, dense, sparse_indices, sparse_values FROM vectors "
                f"WHERE model_id = ? AND kind = ? AND sha256 IN ({marks})",
                [self._info.model_id, kind, *chunk])
            for digest, dense, indices, values in rows:
                if len(dense) != want:  # written by a build with another dimension: recompute
                    continue
                out[bytes(digest)] = (
                    np.frombuffer(dense, dtype="<f4"),
                    SparseVector(indices=np.frombuffer(indices, dtype="<i8").tolist(),
                                 values=np.frombuffer(values, dtype="<f8").tolist()),
                )
        return out

    def _store(self, rows: dict[bytes, tuple[np.ndarray, SparseVector]], kind: str) -> None:
        model_id = self._info.model_id
        payload = [
            (model_id, kind, digest, np.asarray(dense, dtype="<f4").tobytes(),
             np.asarray(sparse.indices, dtype="<i8").tobytes(),
             np.asarray(sparse.values, dtype="<f8").tobytes())
            for digest, (dense, sparse) in rows.items()
        ]
        # One transaction per call: all of this call's rows, or (killed mid-way) none.
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?, ?)", payload)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
