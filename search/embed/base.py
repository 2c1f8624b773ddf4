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
    """`dense` is (n, dim) float32, L2-normalised; `sparse` has one vector per text.

    `coverage`, per text, is the share of its word pieces the dense model knows
    (not `[UNK]`). An English-only model reading Chinese sees mostly unknowns and
    its vector is then noise; fusion uses this to trust the lexical side instead.
    None means the model covers every script (BGE-M3).
    """

    dense: npt.NDArray[np.float32]
    sparse: list[SparseVector]
    coverage: list[float] | None = None


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
