"""Fusion study in the engine's own BM25 units, on every public set (issue 12's tail).

Why a second pass after `e5_study`: that study scored the per-hit lexical weight
with `bm25s`' Lucene BM25 (true average length) times 2.2, which matches the engine
only where posts are about as long as the lexical encoder's fixed `avg_len` (20
tokens: tweets, Weibo). On long posts (Reddit: title and body) the engine's length
normalisation shrinks every hit's score several-fold, so a rule tuned on tweets
weighs a forum post's lexical evidence near zero. Here each post's score is the
engine's exactly: `tf (k1 + 1) / (tf + k1 (1 - b + b len / 20))` per term times
Qdrant's IDF over the posts visible to the query, and the feedback pass adds its
terms in the same units (`search.feedback`).

    .venv/bin/python -m lab.evaluation.e5_tail_study ../shared/eval/sets/*
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lab.evaluation.e5_study import (NEG, Query, feedback_rows, prepare, print_table, rrf,
                                     score)
from lab.evaluation.fusion_rules import expansion
from lab.evaluation.fusion_study import Prepared
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.embed.e5 import E5Dense
from search.embed.lexical import LexicalSparseEncoder

ENCODER = LexicalSparseEncoder()


class Postings:
    """Per set: for each term, the rows holding it and the engine's document weight there."""

    def __init__(self, p: Prepared) -> None:
        k1, b, avg = ENCODER.k1, ENCODER.b, ENCODER.avg_len
        rows: dict[str, list[int]] = {}
        weights: dict[str, list[float]] = {}
        for row, tokens in enumerate(p.tokens):
            norm = k1 * (1 - b + b * len(tokens) / avg)
            counts: dict[str, int] = {}
            for t in tokens:
                counts[t] = counts.get(t, 0) + 1
            for t, tf in counts.items():
                rows.setdefault(t, []).append(row)
                weights.setdefault(t, []).append(tf * (k1 + 1) / (tf + norm))
        self.rows = {t: np.asarray(r) for t, r in rows.items()}
        # What the engine could recover from a stored token count: each post's score
        # brought to the nominal length (exact for words written once).
        self.fair = np.asarray([(1 + k1 * (1 - b + b * len(t) / avg)) / (k1 + 1)
                                for t in p.tokens])
        self.weights = {t: np.asarray(w) for t, w in weights.items()}
        self.size = len(p.tokens)

    def idf(self, term: str, visible: Any) -> float:
        rows = self.rows.get(term)
        if rows is None:
            return 0.0
        n = int(visible.sum())
        df = int(visible[rows].sum())
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5))) if df else 0.0

    def scores(self, terms: dict[str, float], visible: Any) -> Any:
        """The engine's sparse score of every post for a query of weighted terms."""
        out = np.zeros(self.size)
        for term, w in terms.items():
            rows = self.rows.get(term)
            if rows is not None:
                out[rows] += w * self.idf(term, visible) * self.weights[term]
        return np.where(visible, out, 0.0)

    def held(self, terms: list[str], visible: Any) -> Any:
        """The IDF mass of the query terms each post holds (count and length ignored)."""
        out = np.zeros(self.size)
        for term in terms:
            rows = self.rows.get(term)
            if rows is not None:
                out[rows] += self.idf(term, visible)
        return np.where(visible, out, 0.0)


class EngineQuery:
    def __init__(self, p: Prepared, postings: Postings, q: Query) -> None:
        self.q = q
        self.visible = np.isfinite(q.dense)
        self.dense = q.dense
        self.terms = q.terms
        self.bm25 = postings.scores({t: 1.0 for t in q.terms}, self.visible)
        self.held = postings.held(q.terms, self.visible)
        self.fair = postings.fair
        self.full = sum(postings.idf(t, self.visible) for t in q.terms)


Weigh = Callable[[EngineQuery, Any], Any]


def per_hit(scale: float, power: float) -> Weigh:
    """The shipped rule: min(1, engine BM25 / scale) ** power."""
    return lambda eq, s: np.minimum(1.0, s / scale) ** power


def per_held(scale: float, power: float) -> Weigh:
    """The IDF mass of the query words the hit holds, whatever its length."""
    return lambda eq, s: np.minimum(1.0, eq.held_now / scale) ** power


def per_fair(scale: float, power: float) -> Weigh:
    """The hit's engine score brought to the nominal length (`Postings.fair`)."""
    return lambda eq, s: np.minimum(1.0, s * eq.fair / scale) ** power


def per_fair_up(scale: float, power: float) -> Weigh:
    """As `per_fair`, but a post shorter than the nominal length keeps its engine score."""
    return lambda eq, s: np.minimum(1.0, s * np.maximum(1.0, eq.fair) / scale) ** power


def per_lifted(scale: float, power: float, gamma: float, floor: float = 0.0) -> Weigh:
    """The shipped rule since session 14: the length lift (never below 1) to the power
    `gamma`, and hits whose share is under `floor` weighing 0."""
    def weigh(eq: EngineQuery, s: Any) -> Any:
        share = np.minimum(1.0, s * np.maximum(1.0, eq.fair) ** gamma / scale) ** power
        return np.where(share >= floor, share, 0.0)
    return weigh


def flat(weight: float = 1.0) -> Weigh:
    return lambda eq, s: weight


def fuse(p: Prepared, postings: Postings, eq: EngineQuery, weigh: Weigh, *, k: float = 20,
         fb: int = 10, fb_terms: int = 10, beta: float = 0.5) -> Any:
    n = eq.dense.size

    def lists(sparse: Any, held: Any) -> Any:
        eq.held_now = held
        w = weigh(eq, sparse)
        lex = np.where(sparse > 0, sparse, NEG)
        return rrf([(eq.dense, 1.0), (lex, w if np.isscalar(w) else np.asarray(w))], n, k)

    first = lists(eq.bm25, eq.held)
    top = feedback_rows(first, fb)
    if top is None:
        return first
    terms = expansion(p, top, fb_terms, eq.terms)
    extra: dict[str, float] = {}
    if terms:
        top_w = terms[0][1]
        extra = {t: beta * w / top_w for t, w in terms}
    sparse2 = eq.bm25 + postings.scores(extra, eq.visible)
    held2 = eq.held + sum((w * postings.held([t], eq.visible) for t, w in extra.items()),
                          np.zeros(n))
    second = lists(sparse2, held2)
    return rrf([(first, 1.0), (second, 1.0)], n, k)


SCALES = (18.0, 22.0, 26.0, 30.0)


def rules() -> dict[str, Callable[[Prepared, Postings, EngineQuery], Any]]:
    grid: dict[str, Callable[[Prepared, Postings, EngineQuery], Any]] = {
        "bm25-engine": lambda p, po, eq: np.where(eq.bm25 > 0, eq.bm25, NEG),
        "rrf60-flat-nofb": lambda p, po, eq: fuse(p, po, eq, flat(), k=60, fb=0),
        "session 11 (no lift)": lambda p, po, eq: fuse(p, po, eq, per_hit(22, 2)),
    }
    for gamma in (1.0, 1.5, 2.0, 2.5):
        for floor in (0.0, 0.03, 0.05, 0.1):
            grid[f"lift^{gamma:g} floor {floor:g}"] = (
                lambda p, po, eq, g=gamma, f=floor: fuse(p, po, eq, per_lifted(22, 2, g, f)))
    for scale in SCALES:
        for power in (2.0,):
            grid[f"fairup{scale:g}^{power:g}"] = (
                lambda p, po, eq, s=scale, pw=power: fuse(p, po, eq, per_fair_up(s, pw)))
            grid[f"fair{scale:g}^{power:g}"] = (
                lambda p, po, eq, s=scale, pw=power: fuse(p, po, eq, per_fair(s, pw)))
    return grid


def main(argv: list[str]) -> int:
    encoder = E5Dense()
    dense = CachedEmbedder(encoder, default_cache_dir(Path("var").resolve(), encoder.info.model_id))
    table: dict[str, dict[str, dict[str, float]]] = {}
    names: list[str] = []
    for folder in argv:
        for name, p, queries in prepare(Path(folder), dense, encoder):
            postings = Postings(p)
            eqs = [(qid, EngineQuery(p, postings, q)) for qid, q in queries]
            names.append(name)
            plain = {"bm25": lambda p, q: np.where(q.bm25 > 0, q.bm25, NEG),
                     "dense": lambda p, q: q.dense}
            for rule_name, rule in plain.items():
                table.setdefault(rule_name, {})[name] = score(p, queries, rule)
            for rule_name, erule in rules().items():
                by_id = dict(eqs)
                table.setdefault(rule_name, {})[name] = score(
                    p, queries, lambda p, q, r=erule, ids=by_id, qs=queries: r(
                        p, postings, ids[next(i for i, x in qs if x is q)]))
            print(f"{name}: done", flush=True)
    print_table(table, names, digits=4)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
