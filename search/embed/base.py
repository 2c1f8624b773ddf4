"""The `Embedder` contract: dense and sparse vectors for a batch of texts, in one call.

BGE-M3 yields both from one forward pass; the offline profile pairs MiniLM
(dense) with a lexical encoder (sparse). The pipeline and the store see only
this protocol, so a profile is swapped without touching either.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from search.contracts import Encoded, ModelInfo

__all__ = ["Embedder", "about_cosine"]

# Dense cosine from which a post that shares no word with a query is still about it
# (trends' `query=` recall). A property of the model: MiniLM's cosines spread over
# [-0.1, 0.9]; multilingual-e5-small's sit in a narrow high band, unrelated posts at
# 0.75-0.8 (chosen by lab/evaluation/about_study.py, docs/decisions/0023). Other
# models keep the cut they were tuned with.
ABOUT_COSINE = (("multilingual-e5-small", 0.83), ("minilm-l6-v2", 0.7))
DEFAULT_ABOUT_COSINE = 0.7


def about_cosine(model_id: str) -> float:
    """The `ABOUT_COSINE` of the model family `model_id` names."""
    return next((cut for prefix, cut in ABOUT_COSINE if model_id.startswith(prefix)),
                DEFAULT_ABOUT_COSINE)


@runtime_checkable
class Embedder(Protocol):
    @property
    def info(self) -> ModelInfo: ...

    def encode_documents(self, texts: list[str]) -> Encoded: ...

    def encode_queries(self, texts: list[str]) -> Encoded: ...
