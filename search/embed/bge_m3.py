"""BGE-M3: dense and learned sparse vectors from one forward pass.

One model covers both recall signals in 100+ languages, Chinese included,
which the offline MiniLM profile cannot (see FACTS.md). Its sparse weights
are learned per token, so the index must not apply IDF on top (`sparse_idf`
is False).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from search.embed.base import Encoded, ModelInfo
from search.embed.loading import choose_device, local_model_id, resolve_model_folder, use_fp16
from search.errors import ModelLoadFailed
from search.models import SparseVector

SETTING = "TRENDSEARCH_MODEL_PATH"


class BgeM3Embedder:
    """`Embedder` over FlagEmbedding's `BGEM3FlagModel`.

    No length sorting here: `BGEM3FlagModel.encode_single_device` already
    sorts the tokenised batch by length (less padding) and restores input
    order, so sorting again would only cost time.
    """

    def __init__(self, name_or_path: str, *, model_id: str | None = None,
                 device: str | None = None, batch_size: int = 32,
                 max_length: int = 512) -> None:
        """Load from a local folder or a cached hub name; ModelLoadFailed otherwise.

        FlagEmbedding is imported here, not at module level: its import takes
        4-9 s (datasets, peft, pandas), which the offline profile never needs.
        """
        folder = resolve_model_folder(name_or_path, what="BGE-M3 embedder", setting=SETTING)
        self._device = choose_device(device)
        self._batch_size = batch_size
        self._max_length = max_length
        from FlagEmbedding import BGEM3FlagModel

        try:
            self._model = BGEM3FlagModel(
                str(folder), use_fp16=use_fp16(self._device), devices=self._device,
                batch_size=batch_size, query_max_length=max_length,
                passage_max_length=max_length, return_dense=True, return_sparse=True,
                return_colbert_vecs=False,
            )
        except Exception as error:  # corrupt or incomplete folders raise many types
            raise ModelLoadFailed(
                f"cannot load the BGE-M3 embedder from {folder}: {type(error).__name__}: {error}"
            ) from error
        dim = int(self._model.model.model.config.hidden_size)
        self._info = ModelInfo(
            model_id=model_id or local_model_id("bge-m3", name_or_path, folder),
            dense_dim=dim, sparse_idf=False,
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def encode_documents(self, texts: list[str]) -> Encoded:
        if not texts:
            return self._empty()
        return self._convert(self._model.encode_corpus(
            texts, batch_size=self._batch_size, max_length=self._max_length,
            return_dense=True, return_sparse=True, return_colbert_vecs=False,
        ))

    def encode_queries(self, texts: list[str]) -> Encoded:
        if not texts:
            return self._empty()
        return self._convert(self._model.encode_queries(
            texts, batch_size=self._batch_size, max_length=self._max_length,
            return_dense=True, return_sparse=True, return_colbert_vecs=False,
        ))

    def _empty(self) -> Encoded:
        """FlagEmbedding fails on an empty list (it concatenates no batches)."""
        return Encoded(dense=np.zeros((0, self._info.dense_dim), dtype=np.float32), sparse=[])

    def _convert(self, output: dict[str, Any]) -> Encoded:
        return Encoded(
            dense=normalise(np.asarray(output["dense_vecs"], dtype=np.float32)),
            sparse=[to_sparse(weights) for weights in output["lexical_weights"]],
        )


def normalise(dense: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """L2-normalise rows again in float32.

    Why again: on GPU the model normalises in fp16, whose rounding leaves
    norms a few 1e-4 off 1; cosine and dot-product scores must agree.
    """
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return (dense / np.maximum(norms, 1e-12)).astype(np.float32)


def to_sparse(weights: dict[str, float]) -> SparseVector:
    """M3 lexical weights (token-id string -> weight) as Qdrant's sorted int indices."""
    pairs = sorted((int(token), float(weight)) for token, weight in weights.items()
                   if weight > 0)
    return SparseVector(indices=[index for index, _ in pairs],
                        values=[value for _, value in pairs])
