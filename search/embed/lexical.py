"""BM25 as sparse vectors, so Qdrant's sparse index can score it.

BM25(q, d) = sum over query terms t of idf(t) * tf(t,d)*(k1+1) / (tf(t,d) + k1*(1-b+b*dl/avgdl)).
The document side of each term is computed here, once, at index time; the
query side is 1.0 per term; Qdrant's `Modifier.Idf` multiplies in
idf(t) = ln(1 + (N - n_t + 0.5)/(n_t + 0.5)) from live collection statistics,
so the dot product is exactly Lucene's BM25 without us storing document
frequencies that go stale as posts arrive.

`avg_len` is fixed when the index is built (it is in the model id): document
values cannot follow a drifting average without re-encoding everything. Set it
to the corpus's mean token count; a wrong value only changes length
normalisation, not which documents match. A text with no tokens gets an empty
vector, and Qdrant's N then counts only points that have terms (seen on Qdrant
Edge 0.9), which is BM25's N over tokenised documents.
"""

from __future__ import annotations

import zlib
from collections import Counter

from search.models import SparseVector
from search.text.tokenize import fingerprint, tokenize

SCHEME_VERSION = "1"


def token_id(token: str) -> int:
    """Stable 31-bit id: CRC32 is the same in every process and release, unlike
    Python's salted `hash()`, and 31 bits keep ids valid as signed int32 too."""
    return zlib.crc32(token.encode("utf-8")) & 0x7FFFFFFF


class LexicalSparseEncoder:
    """BM25 term weights over `search.text.tokenize`, without IDF (Qdrant adds it)."""

    def __init__(self, k1: float = 1.2, b: float = 0.75, avg_len: float = 20.0) -> None:
        if not (k1 >= 0 and 0 <= b <= 1 and avg_len > 0):  # also refuses NaN
            raise ValueError(
                f"BM25 needs k1 >= 0, 0 <= b <= 1 and avg_len > 0; got k1={k1}, b={b}, "
                f"avg_len={avg_len}"
            )
        self.k1 = k1
        self.b = b
        self.avg_len = avg_len

    @property
    def model_id(self) -> str:
        """Names everything that shapes the vectors: an index built under another
        id would score against different tokens or weights."""
        return (
            f"lexical-bm25-v{SCHEME_VERSION}(k1={self.k1:g},b={self.b:g},"
            f"avg_len={self.avg_len:g},tok={fingerprint()})"
        )

    def encode_documents(self, texts: list[str]) -> list[SparseVector]:
        return [self._document(tokenize(text)) for text in texts]

    def encode_queries(self, texts: list[str]) -> list[SparseVector]:
        return [_vector({token_id(token): 1.0 for token in tokenize(text)}) for text in texts]

    def _document(self, tokens: list[str]) -> SparseVector:
        # Tokens that share an id (a CRC collision) are one term to Qdrant, so
        # their counts add up before saturation, as they would for one token.
        counts = Counter(token_id(token) for token in tokens)
        norm = self.k1 * (1 - self.b + self.b * len(tokens) / self.avg_len)
        return _vector({i: tf * (self.k1 + 1) / (tf + norm) for i, tf in counts.items()})


def _vector(weights: dict[int, float]) -> SparseVector:
    indices = sorted(weights)
    return SparseVector(indices=indices, values=[weights[i] for i in indices])
