"""Fusion study: every candidate fusion rule on the public sets, in numpy, in seconds.

Why this exists next to `trendsearch eval`: choosing fusion weights through the
engine costs a full eval per try. Here each set's dense vectors come from the
evaluation's embedding cache, BM25 from `bm25s` over the engine's tokens, and
each rule is a few array operations, so a grid of rules runs in a minute and
the chosen one is then confirmed by `trendsearch eval` through the real engine.

    .venv/bin/python -m lab.evaluation.fusion_study ../shared/eval/sets/*

Dense search here is exact (all documents), as Qdrant Edge's is without HNSW.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from ranx import Qrels, Run, evaluate
from scipy.stats import rankdata

from lab.evaluation import beir
from lab.evaluation.reference import Bm25Reference, query_tokens
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.embed.minilm import MiniLMDense
from search.text import tokenize

DEPTH = 1000
METRICS = ["ndcg@10", "recall@1000"]
Scores = npt.NDArray[np.float64]


class Prepared:
    def __init__(self, data: beir.BeirSet, dense: MiniLMDense | CachedEmbedder) -> None:
        self.name = data.name
        self.ids = [d.corpus_id for d in data.docs]
        texts = [d.post.text for d in data.docs]
        self.tokens = [tokenize(t) for t in texts]
        self.doc_dense = dense.encode_documents(texts).dense.astype(np.float32)
        self.bm25 = Bm25Reference(self.tokens, k1=1.2, b=0.75)
        self.qrels = beir.relevant_only(data.qrels)
        self.variants = [(qs.name, qs.queries) for qs in data.query_sets]


def ranked(scores: Scores, k: int = DEPTH) -> npt.NDArray[np.int64]:
    k = min(k, scores.size)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


def rrf(lists: list[tuple[npt.NDArray[np.int64], float, Scores]], n: int, k: float,
        ties: str = "min") -> Scores:
    """Weighted RRF with Qdrant's formula, 1 / (rank / w + k - 1) per list, rank from 1; w <= 0
    adds 0. `ties="min"`: equal scores share the best rank, as `search.fusion` does;
    `"ordinal"`: rank by position, as Qdrant does (ties then follow `rows`' order)."""
    out = np.zeros(n)
    for rows, weight, scores in lists:
        if weight > 0 and rows.size:
            ranks = (rankdata(-scores[rows], method="min") if ties == "min"
                     else np.arange(1, rows.size + 1))
            out[rows] += 1.0 / (ranks / weight + k - 1)
    return out


def run_rule(p: Prepared, queries: list[beir.Query], coverage: list[float],
             q_dense: npt.NDArray[np.float32],
             rule: Callable[..., Scores]) -> dict[str, float]:
    qrels = {q.id: p.qrels[q.id] for q in queries if q.id in p.qrels}
    run: dict[str, dict[str, float]] = {}
    for q, cov, qd in zip(queries, coverage, q_dense, strict=True):
        if q.id not in qrels:
            continue
        dense = p.doc_dense @ qd
        bm25 = p.bm25.scores(query_tokens(q.text)).astype(np.float64)
        scores = rule(p=p, dense=dense.astype(np.float64), bm25=bm25, cov=cov, qd=qd,
                      text=q.text)
        rows = ranked(scores)
        rows = rows[scores[rows] > -np.inf]
        run[q.id] = {p.ids[r]: float(DEPTH - i) for i, r in enumerate(rows)}
    result = evaluate(Qrels(qrels), Run(run), METRICS, make_comparable=True)
    return {m: round(float(result[m]), 3) for m in METRICS}


def main(argv: list[str]) -> int:
    from lab.evaluation.fusion_rules import RULES

    minilm = MiniLMDense()
    dense = CachedEmbedder(minilm, default_cache_dir(Path("var"), minilm.info.model_id))
    rows = []
    for folder in argv:
        data = beir.load_set(Path(folder))
        if data.time_aware:
            continue
        p = Prepared(data, dense)
        for name, queries in p.variants:
            texts = [q.text for q in queries]
            q_dense = minilm.encode_queries(texts).dense
            coverage = minilm.coverage(texts)
            for rule_name, rule in RULES.items():
                m = run_rule(p, queries, coverage, q_dense, rule)
                rows.append((name, rule_name, m))
                print(f"{name:28s} {rule_name:28s} ndcg@10 {m['ndcg@10']:.3f}  "
                      f"R@1000 {m['recall@1000']:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
