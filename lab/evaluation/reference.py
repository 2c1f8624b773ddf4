"""Rankers outside the engine that the engine is measured against.

`Bm25Reference` is textbook BM25 from `bm25s` over the engine's own tokens
(`search.text.tokenize`) with the engine's own k1 and b. The engine's sparse
signal is the same formula computed inside Qdrant (term weights fixed at index
time with a fixed `avg_len`, IDF from live statistics), so the gap between
`bm25` and `sparse` is exactly what that approximation costs, never a
tokeniser difference. The reference uses the true mean document length.

`recency` is the trending baseline of the public sets' README: BM25 x
0.5 ** (age_h / 12). Both rank only documents with a positive BM25 score (a
document sharing no term with the query is not retrieved), ties by corpus order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import bm25s
import numpy as np
import numpy.typing as npt

from search.embed.lexical import LexicalSparseEncoder
from search.text import tokenize

RECENCY_HALF_LIFE_HOURS = 12.0
_K1_B = re.compile(r"lexical-bm25-v\d+\(k1=(?P<k1>[0-9.eE+-]+),b=(?P<b>[0-9.eE+-]+)")


def bm25_parameters(model_id: str) -> tuple[float, float]:
    """k1 and b of the running profile's lexical encoder, read from its model id
    (which names them); the encoder's defaults for profiles without one (BGE-M3)."""
    match = _K1_B.search(model_id)
    if match:
        return float(match["k1"]), float(match["b"])
    default = LexicalSparseEncoder()
    return default.k1, default.b


def query_tokens(text: str) -> list[str]:
    """Each query term once, as the lexical encoder sends it (weight 1.0 per term)."""
    return list(dict.fromkeys(tokenize(text)))


class Bm25Reference:
    """BM25 over a fixed list of tokenised documents; rows are positions in that list."""

    def __init__(self, documents: Sequence[list[str]], *, k1: float, b: float) -> None:
        self.size = len(documents)
        self._bm25: bm25s.BM25 | None = None
        if documents:
            self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
            self._bm25.index(list(documents), show_progress=False)

    def scores(self, tokens: list[str]) -> npt.NDArray[np.float32]:
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        ids = self._bm25.get_tokens_ids(tokens)
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)


def top_rows(scores: npt.NDArray[np.floating], k: int) -> list[int]:
    """Rows with a positive score, best first, ties by row; at most `k`."""
    rows = np.flatnonzero(scores > 0)
    if rows.size > k:
        # Keep every row tied with the k-th score so the tie-break below stays exact.
        cut = np.partition(scores[rows], rows.size - k)[rows.size - k]
        rows = rows[scores[rows] >= cut]
    order = np.lexsort((rows, -scores[rows]))
    return [int(r) for r in rows[order][:k]]


def recency_weights(created_ts: npt.NDArray[np.float64], as_of_ts: float,
                    half_life_hours: float = RECENCY_HALF_LIFE_HOURS) -> npt.NDArray[np.float64]:
    """0.5 ** (age_h / half_life): 1 for a post made at `as_of`, 0.5 one half-life earlier."""
    age_h = np.maximum(as_of_ts - created_ts, 0.0) / 3600.0
    return np.power(0.5, age_h / half_life_hours)
