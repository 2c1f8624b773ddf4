"""The `Embedder` contract: dense and sparse vectors for a batch of texts, in one call.

BGE-M3 yields both from one forward pass; the offline profile pairs MiniLM
(dense) with a lexical encoder (sparse). The pipeline and the store see only
this protocol, so a profile is swapped without touching either.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from search.contracts import Encoded, ModelInfo

__all__ = ["Embedder", "about_cosine"]

# From which dense cosine a post that shares no word with a query is still about it
# (trends' `query=` recall). A property of the model. MiniLM's cosines spread over
# [-0.1, 0.9] and 0.7 was its cut. multilingual-e5-small's sit in a narrow high band
# (unrelated posts 0.75-0.8) that moves with the languages: an English query's best
# Chinese post scores ~0.87, a Chinese query's ~0.95. So its cut is relative: within
# 0.08 of the query's best post (lab/evaluation/about_study.py, docs/decisions/0024).
# (prefix of the model id, absolute cut or None, distance below the best or None)
ABOUT = (("multilingual-e5-small", None, 0.08), ("minilm-l6-v2", 0.7, None))
DEFAULT_ABOUT = 0.7


def about_cosine(model_id: str, best: float) -> float:
    """The cut for the model `model_id` names, for a query whose best post scores `best`."""
    for prefix, absolute, below in ABOUT:
        if model_id.startswith(prefix):
            return absolute if absolute is not None else best - (below or 0.0)
    return DEFAULT_ABOUT


@runtime_checkable
class Embedder(Protocol):
    @property
    def info(self) -> ModelInfo: ...

    def encode_documents(self, texts: list[str]) -> Encoded: ...

    def encode_queries(self, texts: list[str]) -> Encoded: ...
