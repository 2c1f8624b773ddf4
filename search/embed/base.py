"""The `Embedder` contract: dense and sparse vectors for a batch of texts, in one call.

BGE-M3 yields both from one forward pass; the offline profile pairs MiniLM
(dense) with a lexical encoder (sparse). The pipeline and the store see only
this protocol, so a profile is swapped without touching either.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from search.contracts import Encoded, ModelInfo

__all__ = ["Embedder"]


@runtime_checkable
class Embedder(Protocol):
    @property
    def info(self) -> ModelInfo: ...

    def encode_documents(self, texts: list[str]) -> Encoded: ...

    def encode_queries(self, texts: list[str]) -> Encoded: ...
