"""Candidate fusion rules for `evaluation.fusion_study` (study code, not the engine).

`mrrf-ws.3-min.5` is what ships (`search.pipeline` defaults, with `search.fusion`'s
tied-share-best-rank RRF); the others are the alternatives it was chosen against, kept so
the comparison can be rerun (`-ordinal`: Qdrant's positional ranks over ties).
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import numpy as np

from lab.evaluation.fusion_study import ranked, rrf

NEG = -np.inf


def masked(bm25: Any) -> Any:
    return np.where(bm25 > 0, bm25, NEG)


def r_bm25(*, bm25: Any, **_: Any) -> Any:
    return masked(bm25)


def r_dense(*, dense: Any, **_: Any) -> Any:
    return dense


def first_pass(dense: Any, bm25: Any, cov: float, k: float, ws: float, depth: int = 1000,
               ties: str = "min") -> Any:
    d_rows = ranked(dense, depth)
    s_rows = ranked(masked(bm25), depth)
    s_rows = s_rows[bm25[s_rows] > 0]
    return rrf([(d_rows, cov, dense), (s_rows, ws, bm25)], dense.size, k, ties)


def r_wrrf(*, dense: Any, bm25: Any, cov: float, k: float = 60, ws: float = 1.0,
           cov_pow: float = 1.0, ties: str = "min", **_: Any) -> Any:
    scores = first_pass(dense, bm25, cov ** cov_pow, k, ws, ties=ties)
    return np.where(scores > 0, scores, NEG)


def expansion(p: Any, rows: Any, n_terms: int, query_tokens: list[str]) -> list[tuple[str, float]]:
    """Top terms of the feedback documents by mean BM25 tf-part (what the engine can
    read from stored sparse vectors: no document frequencies), Qdrant's IDF added later."""
    k1, b, avg = 1.2, 0.75, 20.0
    weight: Counter[str] = Counter()
    for r in rows:
        toks = p.tokens[r]
        counts = Counter(toks)
        norm = k1 * (1 - b + b * len(toks) / avg)
        for t, c in counts.items():
            weight[t] += c * (k1 + 1) / (c + norm) / len(rows)
    scored = [(t, w) for t, w in weight.most_common() if t not in query_tokens]
    return scored[:n_terms]


def r_prf(*, p: Any, dense: Any, bm25: Any, cov: float, qd: Any, text: str, k: float = 60,
          ws: float = 1.0, fb: int = 10, alpha: float = 1.0, n_terms: int = 10,
          beta: float = 0.5, pin: int = 10, merge: str = 'pin', min_cov: float = 0.0,
          second_dense: str = 'one', dense_prf: bool = True, sparse_prf: bool = True,
          ties: str = "min", **_: Any) -> Any:
    from lab.evaluation.reference import query_tokens

    first = first_pass(dense, bm25, cov if cov >= min_cov else 0.0, k, ws, ties=ties)
    if cov < min_cov:
        return np.where(first > 0, first, NEG)
    top = ranked(np.where(first > 0, first, NEG), fb)
    top = top[first[top] > 0]
    # dense feedback: query moved towards the feedback centroid
    if dense_prf and top.size:
        centroid = p.doc_dense[top].mean(axis=0)
        q2 = cov * qd + alpha * centroid
        q2 = q2 / (np.linalg.norm(q2) or 1.0)
        dense2 = (p.doc_dense @ q2).astype(np.float64)
    else:
        dense2 = dense
    qt = query_tokens(text)
    bm2 = bm25.copy()
    if sparse_prf and top.size:
        terms = expansion(p, top, n_terms, qt)
        top_w = terms[0][1] if terms else 1.0
        for term, w in terms:
            ids = p.bm25._bm25.get_tokens_ids([term])
            if ids:
                bm2 += beta * (w / top_w) * np.asarray(
                    p.bm25._bm25.get_scores_from_ids(ids), dtype=np.float64)
    # second pass: the feedback model decides dense weight by itself (cov 1: the centroid is
    # made of documents, which the model reads whatever the query's language)
    second = first_pass(dense2, bm2, 1.0 if second_dense == 'one' else cov, k, ws, ties=ties)
    if merge == "rrf":
        both = rrf([(ranked(np.where(first > 0, first, NEG))[:1000], 1.0, first),
                    (ranked(np.where(second > 0, second, NEG))[:1000], 1.0, second)],
                   first.size, k, ties)
        both[first <= 0] = np.where(second[first <= 0] > 0, both[first <= 0], 0)
        return np.where(both > 0, both, NEG)
    if pin:
        pinned = ranked(np.where(first > 0, first, NEG), pin)
        pinned = pinned[first[pinned] > 0]
        second[pinned] = 1e6 - np.arange(pinned.size)
    return np.where(second > 0, second, NEG)


RULES = {
    "bm25": r_bm25,
    "dense": r_dense,
    "wrrf-cov": partial(r_wrrf, k=60),
    "wrrf-cov-ws.5": partial(r_wrrf, k=60, ws=0.5),
    "mrrf-ws.5": partial(r_prf, ws=0.5, merge="rrf"),
    "mrrf-ws.5-min.5": partial(r_prf, ws=0.5, merge="rrf", min_cov=0.5),
    "mrrf-ws.5-min.5-ordinal": partial(r_prf, ws=0.5, merge="rrf", min_cov=0.5, ties="ordinal"),
    "mrrf-ws1-min.5": partial(r_prf, ws=1.0, merge="rrf", min_cov=0.5),
    "mrrf-ws.2-min.5": partial(r_prf, ws=0.2, merge="rrf", min_cov=0.5),
    "mrrf-ws.3-min.5": partial(r_prf, ws=0.3, merge="rrf", min_cov=0.5),
    "mrrf-ws.4-min.5": partial(r_prf, ws=0.4, merge="rrf", min_cov=0.5),
    "mrrf-ws.5-min.5-fb20": partial(r_prf, ws=0.5, merge="rrf", min_cov=0.5, fb=20),
    "mrrf-ws.5-min.5-b1": partial(r_prf, ws=0.5, merge="rrf", min_cov=0.5, beta=1.0),
    "mrrf-ws.5-cov2": partial(r_prf, ws=0.5, merge="rrf", second_dense="cov"),
}
