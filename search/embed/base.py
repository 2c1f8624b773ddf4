"""The `Embedder` contract: dense and sparse vectors for a batch of texts, in one call.

BGE-M3 yields both from one forward pass; the offline profile pairs MiniLM
(dense) with a lexical encoder (sparse). The pipeline and the store see only
this protocol, so a profile is swapped without touching either.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import msgspec
import numpy as np
import numpy.typing as npt

from search.models import SparseVector


class Encoded(msgspec.Struct, frozen=True):
    """`dense` is (n, dim) float32, L2-normalised; `sparse` has one vector per text."""

    dense: npt.NDArray[np.float32]
    sparse: list[SparseVector]


class ModelInfo(msgspec.Struct, frozen=True):
    """What the index records about the model that built it.

    `model_id` names weights and sparse scheme together: two embedders with the
    same id must produce interchangeable vectors, anything else is a mismatch.
    """

    model_id: str
    dense_dim: int
    sparse_idf: bool  # Qdrant's IDF modifier on the sparse vector (lexical BM25 needs it)


@runtime_checkable
class Embedder(Protocol):
    @property
    def info(self) -> ModelInfo: ...

    def encode_documents(self, texts: list[str]) -> Encoded: ...

    def encode_queries(self, texts: list[str]) -> Encoded: ...
