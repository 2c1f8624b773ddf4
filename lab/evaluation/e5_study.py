"""Fusion study for multilingual-e5-small: which per-query weights keep `shipped` above both inputs.

Why a second study beside `fusion_study`: its rules lean on MiniLM's coverage,
which e5 does not need (it reads every script). The question here is the issue's
bar: on every set and query variant, the fused list at least as good as the
better of BM25 and e5 dense alone, on nDCG@10 and Recall@1000. Each rule is a
few array operations over exact dense scores (from the evaluation's embedding
cache) and `bm25s` over the engine's tokens, so a grid runs in a minute or two;
the chosen rule is then confirmed by `trendsearch eval` through the engine.

Time-aware sets (queries with `as_of`) are scored over the posts visible at
each query's moment, as the eval's replay sees them.

    .venv/bin/python -m lab.evaluation.e5_study ../shared/eval/sets/*
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ranx import Qrels, Run, evaluate

from lab.evaluation import beir
from lab.evaluation.fusion_study import DEPTH, Prepared, ranked
from lab.evaluation.reference import query_tokens
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.embed.e5 import E5Dense
from search.embed.lexical import LexicalSparseEncoder

METRICS = ["ndcg@10", "recall@1000"]
NEG = -np.inf
Rule = Callable[..., Any]


def lexical_evidence(terms: set[str], top_posts: list[set[str]]) -> float:
    """Tried and rejected for the engine (docs/decisions/0024): the mean share of the
    query's terms that the lexical list's top posts hold."""
    if not terms or not top_posts:
        return 0.0
    return sum(len(terms & post) for post in top_posts) / (len(terms) * len(top_posts))


class Query:
    """One query's inputs to every rule: exact dense scores, BM25, and what the engine sees."""

    def __init__(self, p: Prepared, text: str, qd: Any, visible: Any) -> None:
        self.text = text
        self.qd = qd
        self.dense = np.where(visible, p.doc_dense @ qd, NEG).astype(np.float64)
        self.bm25 = np.where(visible, p.bm25.scores(query_tokens(text)), 0.0).astype(np.float64)
        self.terms = query_tokens(text)
        top = ranked(np.where(self.bm25 > 0, self.bm25, NEG), 10)
        top = top[self.bm25[top] > 0]
        self.lex_top = top
        # The engine reads the same from the stored sparse vectors of the lexical top 10.
        self.evidence = lexical_evidence(set(self.terms), [set(p.tokens[r]) for r in top])
        self.top_score = engine_top_score(p, self.terms, np.flatnonzero(self.bm25 > 0), visible)
        # BM25 with k1 = 0: each post scores the IDF of the query terms it holds, whatever
        # their count or the post's length ("which of the query's words does it hold").
        self.held = held_idf(p, self.terms, visible)


def held_idf(p: Prepared, terms: list[str], visible: Any) -> Any:
    n = int(visible.sum())
    df = p.doc_freq(terms, visible)
    out = np.zeros(len(p.tokens))
    for t in terms:
        rows = p._postings.get(t)
        if rows is not None and df[t]:
            out[rows] += np.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
    return np.where(visible, out, 0.0)


def engine_top_score(p: Prepared, terms: list[str], hits: Any, visible: Any) -> float:
    """The best score the engine's sparse search gives this query: BM25 with the lexical
    encoder's fixed avg_len (20) and Qdrant's IDF over the visible posts with terms."""
    if not hits.size:
        return 0.0
    encoder = LexicalSparseEncoder()
    k1, b, avg = encoder.k1, encoder.b, encoder.avg_len
    n = int(visible.sum())
    df = p.doc_freq(terms, visible)
    idf = {t: np.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in terms}
    best = 0.0
    for row in hits:
        tokens = p.tokens[row]
        norm = k1 * (1 - b + b * len(tokens) / avg)
        score = sum(idf[t] * c * (k1 + 1) / (c + norm)
                    for t in terms if (c := tokens.count(t)))
        best = max(best, score)
    return best


TIES = "min"  # "min": a tie group shares its best rank (search.fusion); "share": the mean
# of the shares its positions would get, so a group adds what it would on average
# if its order were drawn at random.


def rrf(lists: list[tuple[Any, Any]], n: int, k: float, ties: str | None = None) -> Any:
    """Weighted RRF over (scores, weight) lists, top DEPTH of each; a weight may be an
    array (one weight per post)."""
    from scipy.stats import rankdata

    ties = ties or TIES
    out = np.zeros(n)
    for scores, weight in lists:
        if np.isscalar(weight) and weight <= 0:
            continue
        rows = ranked(scores, DEPTH)
        rows = rows[np.isfinite(scores[rows]) & (scores[rows] > NEG)]
        if not np.isscalar(weight):
            w = weight[rows]
            ok = w > 0
            ranks = rankdata(-scores[rows], method="min")
            out[rows[ok]] += 1.0 / (ranks[ok] / w[ok] + k - 1)
            continue
        if ties == "min":
            out[rows] += 1.0 / (rankdata(-scores[rows], method="min") / weight + k - 1)
            continue
        share = 1.0 / (np.arange(1, rows.size + 1) / weight + k - 1)
        groups = rankdata(-scores[rows], method="dense")
        sums = np.bincount(groups, weights=share)
        counts = np.bincount(groups)
        out[rows] += sums[groups] / counts[groups]
    return np.where(out > 0, out, NEG)


LEXICAL = "bm25"  # or "held": BM25 with k1 = 0 (`Query.held`)


def lexical(q: Query, floor: float = 0.0) -> Any:
    """BM25 hits; with `floor`, only those scoring at least `floor` x the best hit: a post
    that matches one word of five ("e" of "e-bikes") is not a lexical answer."""
    scores = q.held if LEXICAL == "held" else q.bm25
    cut = floor * scores.max() if floor > 0 else 0.0
    return np.where((scores > 0) & (scores >= cut), scores, NEG)


def feedback_rows(first: Any, fb: int) -> Any:
    """The first fused list's top `fb` rows that scored, or None: no feedback pass."""
    if not fb:
        return None
    top = ranked(first, fb)
    top = top[np.isfinite(first[top])]
    return top if top.size else None


def fuse(p: Prepared, q: Query, *, wd: float = 1.0, ws: float = 0.3, k: float = 60,
         evidence_pow: float = 0.0, fb: int = 0, fb_terms: int = 10, beta: float = 0.5,
         alpha: float = 1.0, floor: float = 0.0, scale: float = 0.0, scale_pow: float = 1.0,
         per_post: bool = False, merge: float = 1.0, fb_dense: bool = True,
         fb_sparse: bool = True) -> Any:
    """The engine's recall: weighted RRF of dense and lexical; the lexical weight times
    evidence ** `evidence_pow`; with `fb` > 0, a feedback pair from the first fused top
    `fb` fused again with the first by plain RRF (`search.feedback`)."""
    w_lex = ws * (q.evidence ** evidence_pow if evidence_pow else 1.0)
    if scale > 0 and per_post:  # each hit's own BM25 (engine units: bm25s lucene x 2.2)
        w_lex = ws * np.minimum(1.0, 2.2 * q.bm25 / scale) ** scale_pow
    elif scale > 0:  # the best lexical hit's BM25 (~ the IDF its matched terms carry) / scale
        w_lex *= min(1.0, q.top_score / scale) ** scale_pow
    first = rrf([(q.dense, wd), (lexical(q, floor), w_lex)], q.dense.size, k)
    top = feedback_rows(first, fb)
    if top is None:
        return first
    centroid = p.doc_dense[top].mean(axis=0)
    q2 = wd * q.qd + (alpha if fb_dense else 0.0) * centroid
    q2 = q2 / (np.linalg.norm(q2) or 1.0)
    visible = np.isfinite(q.dense)
    dense2 = np.where(visible, p.doc_dense @ q2, NEG)
    from lab.evaluation.fusion_rules import expansion

    held = LEXICAL == "held"
    bm2 = (q.held if held else q.bm25).copy()
    terms = expansion(p, top, fb_terms, q.terms) if fb_sparse else []
    index = p.bm25._bm25
    if terms and index is not None:
        top_w = terms[0][1]
        for term, w in terms:
            if held:
                bm2 += beta * (w / top_w) * held_idf(p, [term], visible)
                continue
            ids = index.get_tokens_ids([term])
            if ids:
                extra = np.asarray(index.get_scores_from_ids(ids), dtype=np.float64)
                bm2 += beta * (w / top_w) * np.where(visible, extra, 0.0)
    cut2 = floor * bm2.max() if floor > 0 else 0.0
    w2 = ws * np.minimum(1.0, 2.2 * bm2 / scale) ** scale_pow if per_post and scale > 0 else w_lex
    second = rrf([(dense2, 1.0), (np.where((bm2 > 0) & (bm2 >= cut2), bm2, NEG), w2)],
                 q.dense.size, k)
    return rrf([(first, 1.0), (second, merge)], q.dense.size, k)


def score(p: Prepared, queries: list[tuple[str, Query]], rule: Rule) -> dict[str, float]:
    qrels = {qid: p.qrels[qid] for qid, _ in queries}
    run = {}
    for qid, q in queries:
        scores = rule(p, q)
        rows = ranked(scores)
        rows = rows[np.isfinite(scores[rows])]
        run[qid] = {p.ids[r]: float(DEPTH - i) for i, r in enumerate(rows)}
    result = evaluate(Qrels(qrels), Run(run), METRICS, make_comparable=True)
    return {m: float(result[m]) for m in METRICS}


def _doc_freq(self: Prepared, terms: list[str], visible: Any) -> dict[str, int]:
    if not hasattr(self, "_postings"):
        postings: dict[str, list[int]] = {}
        for row, tokens in enumerate(self.tokens):
            for token in set(tokens):
                postings.setdefault(token, []).append(row)
        self._postings = {t: np.asarray(r) for t, r in postings.items()}
    return {t: int(visible[self._postings[t]].sum()) if t in self._postings else 0
            for t in terms}


Prepared.doc_freq = _doc_freq  # type: ignore[attr-defined]


def prepare(folder: Path, dense: CachedEmbedder, encoder: E5Dense) -> list[tuple[str, Prepared,
                                                                                  list[Any]]]:
    data = beir.load_set(folder)
    p = Prepared(data, dense)
    created = np.array([d.post.created_at.timestamp() for d in data.docs])
    out = []
    for name, queries in p.variants:
        judged = [q for q in queries if q.id in p.qrels]
        q_dense = encoder.encode_queries([q.text for q in judged]).dense
        prepared = []
        for q, qd in zip(judged, q_dense, strict=True):
            visible = (created <= q.as_of.timestamp() if q.as_of is not None
                       else np.ones(len(created), dtype=bool))
            prepared.append((q.id, Query(p, q.text, qd, visible)))
        out.append((name, p, prepared))
    return out


WS = (0.5, 1.0)
MERGES = (1.0, 0.5, 0.3)
KS = (20, 60)
SCALES = (0.0, 10.0, 14.0, 18.0, 22.0)
POWERS = (1.0, 2.0)
FEEDBACK = (0, 10)
PER_POST = (False, True)


def dbsf(p: Prepared, q: Query) -> Any:
    """Qdrant's DBSF (`search.fusion.dbsf`): each list's top DEPTH scores mapped by their
    mean +- 3 std to about [0, 1], summed."""
    out = np.zeros(q.dense.size)
    for scores in (q.dense, lexical(q)):
        rows = ranked(scores, DEPTH)
        rows = rows[np.isfinite(scores[rows])]
        if rows.size < 2:
            continue
        values = scores[rows]
        spread = values.std(ddof=1)
        low = values.mean() - 3 * spread
        out[rows] += (values - low) / (6 * spread) if spread > 0 else 0.5
    return np.where(out > 0, out, NEG)


def rules() -> dict[str, Rule]:
    grid: dict[str, Rule] = {"bm25": lambda p, q: np.where(q.bm25 > 0, q.bm25, NEG),
                             "dense": lambda p, q: q.dense}
    for ws in WS:
        for merge in MERGES:
            for fbd, fbs in ((True, True), (True, False), (False, True)):
                grid[f"ws{ws:g}-m{merge:g}-{'d' if fbd else ''}{'s' if fbs else ''}"] = (
                    lambda p, q, ws=ws, merge=merge, fbd=fbd, fbs=fbs: fuse(
                        p, q, ws=ws, k=20, scale=22, scale_pow=2, fb=10, per_post=True,
                        merge=merge, fb_dense=fbd, fb_sparse=fbs))
        grid[f"ws{ws:g}-fb0"] = (lambda p, q, ws=ws: fuse(p, q, ws=ws, k=20, scale=22,
                                                          scale_pow=2, per_post=True))
    return grid


def main(argv: list[str]) -> int:
    global TIES, LEXICAL
    while argv and argv[0].startswith("--"):
        key, value = argv.pop(0)[2:].split("=", 1)
        if key == "ties":
            TIES = value
        elif key == "lexical":
            LEXICAL = value
    encoder = E5Dense()
    dense = CachedEmbedder(encoder, default_cache_dir(Path("var").resolve(), encoder.info.model_id))
    sets = [entry for folder in argv for entry in prepare(Path(folder), dense, encoder)]
    grid = rules()
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name, p, queries in sets:
        for rule_name, rule in grid.items():
            table.setdefault(rule_name, {})[name] = score(p, queries, rule)
        ev = " ".join(f"{qid}:{q.evidence:.2f}" for qid, q in queries[:8])
        print(f"{name}: evidence {ev}", flush=True)
    print_table(table, [name for name, _, _ in sets], digits=3)
    return 0


def print_table(table: dict[str, dict[str, dict[str, float]]], names: list[str],
                digits: int) -> None:
    """One line per rule: its worst margin over max(bm25, dense) on any cell, then its cells."""
    for rule_name, row in table.items():
        worst = min(row[n][m] - max(table["bm25"][n][m], table["dense"][n][m])
                    for n in names for m in METRICS)
        cells = "  ".join(f"{row[n]['ndcg@10']:.{digits}f}/{row[n]['recall@1000']:.{digits}f}"
                          for n in names)
        print(f"{rule_name:22s} worst {worst:+.{digits + 2}f}  {cells}", flush=True)
    print("sets: " + ", ".join(names))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
