"""`CachedEmbedder`: hits, misses, persistence, model isolation, exactness, crash safety."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from search.contracts import Encoded, ModelInfo
from search.embed.base import Embedder
from search.embed.cache import CachedEmbedder, default_cache_dir, model_slug
from search.models import SparseVector

REPO = Path(__file__).resolve().parents[2]


class CountingEmbedder:
    """Deterministic vectors from the text's hash; records every text it was asked to encode."""

    def __init__(self, model_id: str = "fake-model", dim: int = 8) -> None:
        self._info = ModelInfo(model_id=model_id, dense_dim=dim, sparse_idf=True)
        self.seen: list[str] = []
        self.fail_on: str | None = None

    @property
    def info(self) -> ModelInfo:
        return self._info

    def _vectors(self, texts: list[str], salt: str) -> Encoded:
        self.seen.extend(texts)
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError("model crashed")
        rows, sparse = [], []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256((salt + text).encode()).digest()[:4], "little")
            rng = np.random.default_rng(seed)
            row = rng.standard_normal(self._info.dense_dim).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
            indices = sorted({int(i) for i in rng.integers(0, 2**31 - 1, size=3)})
            sparse.append(SparseVector(indices=indices,
                                       values=[float(v) for v in rng.random(len(indices))]))
        dense = np.stack(rows) if rows else np.zeros((0, self._info.dense_dim), np.float32)
        return Encoded(dense=dense, sparse=sparse)

    def encode_documents(self, texts: list[str]) -> Encoded:
        return self._vectors(texts, "doc:")

    def encode_queries(self, texts: list[str]) -> Encoded:
        return self._vectors(texts, "query:")


def assert_same(a: Encoded, b: Encoded) -> None:
    assert a.dense.dtype == b.dense.dtype == np.float32
    assert np.array_equal(a.dense, b.dense)
    assert a.sparse == b.sparse


def test_is_an_embedder_with_the_same_info(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    assert isinstance(cached, Embedder)
    assert cached.info == inner.info


def test_misses_then_hits_with_exactly_the_inner_vectors_in_input_order(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    texts = ["flood in calgary", "深圳禁摩限电", "flood in calgary", "explosion"]
    first = cached.encode_documents(texts)
    assert inner.seen == ["flood in calgary", "深圳禁摩限电", "explosion"]  # duplicates once
    assert (cached.hits, cached.misses) == (0, 3)
    assert_same(first, CountingEmbedder().encode_documents(texts))
    again = cached.encode_documents(["explosion", "new text", "flood in calgary"])
    assert inner.seen[3:] == ["new text"]
    assert (cached.hits, cached.misses) == (2, 4)
    assert_same(again, CountingEmbedder().encode_documents(["explosion", "new text",
                                                            "flood in calgary"]))
    assert cached.encode_documents([]).dense.shape == (0, 8)


def test_persists_across_instances(tmp_path: Path) -> None:
    CachedEmbedder(CountingEmbedder(), tmp_path).encode_documents(["a", "b"])
    inner = CountingEmbedder()
    reopened = CachedEmbedder(inner, tmp_path)
    assert_same(reopened.encode_documents(["b", "a"]),
                CountingEmbedder().encode_documents(["b", "a"]))
    assert inner.seen == [] and (reopened.hits, reopened.misses) == (2, 0)


def test_model_ids_never_share_vectors(tmp_path: Path) -> None:
    CachedEmbedder(CountingEmbedder("model-a"), tmp_path).encode_documents(["same text"])
    other = CountingEmbedder("model-b")
    cached = CachedEmbedder(other, tmp_path)  # same folder on purpose: the key holds the id
    cached.encode_documents(["same text"])
    assert other.seen == ["same text"] and cached.misses == 1


def test_queries_pass_through_unless_asked_and_never_mix_with_documents(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    cached.encode_documents(["storm"])
    assert_same(cached.encode_queries(["storm"]), CountingEmbedder().encode_queries(["storm"]))
    cached.encode_queries(["storm"])
    assert inner.seen == ["storm", "storm", "storm"]
    both = CachedEmbedder(inner, tmp_path / "q", cache_queries=True)
    both.encode_documents(["storm"])
    query = both.encode_queries(["storm"])  # a query is not served the document's vector
    assert_same(query, CountingEmbedder().encode_queries(["storm"]))
    both.encode_queries(["storm"])
    assert (both.hits, both.misses) == (1, 2)


def test_a_failing_model_call_stores_nothing(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    cached.encode_documents(["kept"])
    inner.fail_on = "boom"
    with pytest.raises(RuntimeError, match="model crashed"):
        cached.encode_documents(["fresh", "boom"])
    inner.fail_on = None
    cached.encode_documents(["kept", "fresh", "boom"])
    assert inner.seen[-2:] == ["fresh", "boom"]


def test_default_folder_is_per_model_under_the_data_dir(tmp_path: Path) -> None:
    model_id = "minilm-l6-v2+lexical-bm25-v1(k1=1.2,b=0.75,avg_len=20,tok=1.38298a11)"
    folder = default_cache_dir(tmp_path, model_id)
    assert folder.parent == tmp_path / "embed-cache"
    assert folder.name.startswith("minilm-l6-v2-lexical-bm25-v1-k1-1-2-b-0-75")
    assert model_slug(model_id) != model_slug(model_id.replace("1.38298a11", "1.00000000"))


def test_real_model_vectors_come_back_bit_for_bit(tmp_path: Path, tiny_embedder: Embedder) -> None:
    texts = ["Flood waters rising in Calgary", "深圳禁摩限电", "iPhone SE 发布了"]
    CachedEmbedder(tiny_embedder, tmp_path).encode_documents(texts)
    reopened = CachedEmbedder(tiny_embedder, tmp_path)
    assert_same(reopened.encode_documents(texts), tiny_embedder.encode_documents(texts))
    assert reopened.misses == 0


WRITER = textwrap.dedent("""
    import sys, time
    sys.path[:0] = [{repo!r}, {tests!r}]
    from pathlib import Path
    from search.embed.cache import CachedEmbedder
    from test_embed_cache import CountingEmbedder
    cached = CachedEmbedder(CountingEmbedder(), Path({folder!r}))
    for batch in range(100000):
        cached.encode_documents([f"text {{batch}} {{i}}" for i in range(50)])
        print(batch, flush=True)
""")


def test_a_killed_writer_leaves_whole_batches_and_a_sound_file(tmp_path: Path) -> None:
    script = WRITER.format(repo=str(REPO), tests=str(Path(__file__).parent), folder=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while int(proc.stdout.readline() or -1) < 20:  # at least 20 batches committed
        assert time.monotonic() < deadline and proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(tmp_path / "embeddings.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    db.close()
    assert rows >= 21 * 50 and rows % 50 == 0  # whole calls only, never half of one
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    cached.encode_documents([f"text {b} {i}" for b in range(21) for i in range(50)])
    assert inner.seen == []
