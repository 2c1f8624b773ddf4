"""Trending study for issue 16: relevance as a gate, engagement for age, in numpy.

Why: `trendsearch eval` on `trending_reddit_public` replays the stream through
the pipeline and pages to depth 1,000 per query; on two shared cores it does not
finish in 25 minutes, and it needs e5 vectors for all 13,133 posts. This mirrors
the offline profile's trending arithmetic closely enough to compare *rules*:

- recall: weighted RRF (k = `lexical_rrf_k`) of the e5 dense list (cosines from the
  shared embedding cache, read only; a post not cached yet is not in the dense
  list, and the coverage is printed) and the BM25 reference list, each BM25 hit
  weighing min(1, score / lexical_scale) ** lexical_power, as `search.fusion_weights`;
  over the posts visible at `as_of` within the horizon; pool = the rerank depth (50);
  no pseudo-relevance feedback (the pipeline's second pass), so relevance is a
  little weaker than the engine's;
- relevance = fused / best fused (the offline profile has no cross-encoder);
- the shipped key: relevance x 0.5 ** (age from the newest / half-life) x engagement;
- a gate: "on topic" = the match rule of decision 0025 (every required term, or an
  e5 cosine >= the model's threshold, chosen on crisislex6), or relevance >= tau;
  gated posts first, each tier ordered by the same key or by decay x engagement.

Engagement for age: count + 1 over typical + 1, typical = the median count, now,
of the visible posts in the post's age band (under a day, a day or more): what
the forecaster's calibration gives when its references are read once a day, as
this set's are.

    .venv/bin/python -m lab.evaluation.trending_gate_study ../shared/eval/sets/trending_reddit_public
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
import sys
from pathlib import Path

import numpy as np
from ranx import Qrels, Run, evaluate

from lab.evaluation import beir
from lab.evaluation.reference import Bm25Reference, query_tokens
from search.contracts import SearchParams
from search.embed.cache import default_cache_dir
from search.matching import dense_threshold
from search.text import tokenize
from search.watches import relevance

POOL = 50
ENGINE_LIKE = False
LEVEL = "normal"  # the watches' relevance level the "watch" gate uses (`--level`)


def _cached_dense(texts: list[str], model_id: str) -> np.ndarray:
    """Cached e5 document vectors (NaN rows where not cached yet), read-only."""
    path = default_cache_dir(Path("var"), model_id) / "embeddings.sqlite"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = np.full((len(texts), 384), np.nan, dtype=np.float32)
    for i, text in enumerate(texts):
        row = db.execute("SELECT dense FROM vectors WHERE model_id = ? AND kind = 'doc' AND "
                         "sha256 = ?", (model_id, hashlib.sha256(text.encode()).digest())).fetchone()
        if row:
            out[i] = np.frombuffer(row[0], dtype=np.float32)
    return out


def _rrf_rank(scores: np.ndarray, keep: np.ndarray, weights: np.ndarray, k: float) -> np.ndarray:
    out = np.zeros(len(scores))
    rows = np.where(keep)[0]
    rows = rows[np.argsort(-scores[rows], kind="stable")][:200]
    out[rows] = weights[rows] / (np.arange(1, len(rows) + 1) + k - 1)
    return out


def main(argv: list[str]) -> int:
    from search.embed.e5 import E5Dense

    global LEVEL, ENGINE_LIKE
    ENGINE_LIKE = "--engine-like" in argv
    for arg in argv:
        if arg.startswith("--level="):
            LEVEL = arg.split("=", 1)[1]
    data = beir.load_set(Path(argv[0]))
    e5 = E5Dense()
    model_id = e5.info.model_id
    threshold = dense_threshold(model_id) or 1.0
    p = SearchParams()
    docs = data.docs
    ids = [d.corpus_id for d in docs]
    row = {c: i for i, c in enumerate(ids)}
    created = np.array([d.post.created_at.timestamp() for d in docs])
    tokens = [tokenize(d.post.text) for d in docs]
    held = [set(t) for t in tokens]
    bm25 = Bm25Reference(tokens, k1=1.2, b=0.75)
    dense = _cached_dense([d.post.text for d in docs], model_id)
    cached = ~np.isnan(dense[:, 0])
    print(f"e5 vectors cached for {cached.sum()} of {len(docs)} posts", flush=True)
    queries = data.query_sets[0].queries
    qrels = {q.id: data.qrels[q.id] for q in queries if q.id in data.qrels}
    texts = sorted({q.text for q in queries})
    qvec = dict(zip(texts, e5.encode_queries(texts).dense, strict=True))
    prepared = []
    for q in queries:
        t = q.as_of.timestamp() if q.as_of else float("inf")
        visible = created < t
        qt = query_tokens(q.text)
        b = np.where(visible, bm25.scores(qt), 0.0)
        cos = np.where(visible & cached, np.nan_to_num(dense) @ qvec[q.text], -np.inf)
        counts = np.zeros(len(docs))
        for cid, n in (data.engagement or {}).get(q.as_of, {}).items():
            counts[row[cid]] = n
        terms = np.array([bool(qt) and all(w in h for w in set(qt)) for h in held])
        # The watches' rule (`search.watches.relevance`): dense z against the cosines of
        # recent visible posts holding none of the query's words, lexical share in average
        # query terms (IDF among the visible posts).
        words = sorted(set(qt))
        has = np.array([[w in h for w in words] for h in held]) if words else np.zeros((len(docs), 0), bool)
        recent_rows = np.where(visible & cached)[0]
        recent_rows = recent_rows[np.argsort(-created[recent_rows])][:2000]
        if ENGINE_LIKE:  # the last 48 h as the watches read it, the newest 2,000 if under 200
            last = recent_rows[created[recent_rows] >= t - 48 * 3600]
            recent_rows = last if len(last) >= 200 else recent_rows
        sample = recent_rows[~has[recent_rows].any(axis=1)] if words else recent_rows
        if len(sample) < relevance.MIN_SAMPLE:
            sample = recent_rows
        cal = relevance.calibrate(cos[sample][:, None].astype(np.float32), t)[0] if len(sample) else None
        z = (cos - cal.median) / cal.spread if cal else np.zeros(len(docs))
        n_vis = int(visible.sum())
        if ENGINE_LIKE:  # document frequencies in the calibration's read, not the index
            weights = np.array([relevance.idf(int(has[recent_rows, k].sum()), len(recent_rows))
                                for k in range(len(words))])
        else:
            weights = np.array([relevance.idf(int((has[:, k] & visible).sum()), n_vis)
                                for k in range(len(words))])
        share = (has @ weights) / weights.sum() if words and weights.sum() > 0 else np.zeros(len(docs))
        lex = share * len(words)
        rule = relevance.LEVELS[LEVEL]
        watch = np.array([relevance.counts(float(zi), float(li), rule) for zi, li in zip(z, lex)])
        age = (t - created) / 3600
        young = visible & (age < 24)
        typical = {True: np.median(counts[young]) if young.any() else 0.0,
                   False: np.median(counts[visible & ~young]) if (visible & ~young).any() else 0.0}
        prepared.append((q.id, t, b, cos, counts, terms, age, visible, typical, watch))

    def score(horizon: float, half: float, weight: float, gate: str, key: str,
              for_age: bool, tau: float = 0.5) -> float:
        run = {}
        for qid, _t, b, cos, counts, terms, age, visible, typical, watch in prepared:
            window = visible & (age < horizon)
            lexw = np.minimum(1.0, b / p.lexical_scale) ** p.lexical_power * p.lexical_weight
            fused = (_rrf_rank(cos, window & np.isfinite(cos), np.ones(len(b)), p.lexical_rrf_k)
                     + _rrf_rank(b, window & (b > 0), lexw, p.lexical_rrf_k))
            cand = np.where(fused > 0)[0]
            cand = cand[np.argsort(-fused[cand], kind="stable")][:POOL]
            if not cand.size:
                continue
            rel = fused[cand] / fused[cand].max()
            decay = 0.5 ** ((age[cand] - age[cand].min()) / half)
            c = counts[cand]
            if for_age:
                usual = np.array([typical[bool(a < 24)] for a in age[cand]])
                eng = ((c + 1) / (usual + 1)) ** weight
            else:
                eng = 1 + weight * np.log1p(2 * c)
            value = rel * decay * eng if key == "rel" else decay * eng
            on_topic = {"none": np.zeros(len(cand), bool),
                        "match": terms[cand] | (cos[cand] >= threshold),
                        "tau": rel >= tau,
                        "watch": watch[cand],
                        "match|watch": terms[cand] | (cos[cand] >= threshold) | watch[cand],
                        "match&watch": (terms[cand] | (cos[cand] >= threshold)) & watch[cand],
                        }[gate]
            order = cand[np.lexsort((-value, ~on_topic))]
            run[qid] = {ids[r]: float(len(order) - i) for i, r in enumerate(order)}
        return float(evaluate(Qrels(qrels), Run(run), "ndcg@10", make_comparable=True))

    print(f"shipped (72 h, half-life 36 h, raw counts 0.1)  {score(72, 36, 0.1, 'none', 'rel', False):.3f}")
    if "--watch-gate" in argv:
        for gate in ["none", "match", "watch", "match|watch", "match&watch"]:
            for key, w in (("rel", 0.1), ("rel", 1.0), ("decay", 1.0)):
                print(f"horizon 24 half 36 w {w:.1f} gate {gate:<11} key {key:<5} for-age "
                      f"{score(24, 36, w, gate, key, True):.3f}", flush=True)
        return 0
    grid = itertools.product([72, 24], [36, 12], [0.1, 0.5, 1.0], ["none", "match", "tau"],
                             ["rel", "decay"], [False, True])
    for horizon, half, weight, gate, key, for_age in grid:
        if gate == "none" and key == "decay":
            continue
        print(f"horizon {horizon:>2} half {half:>2} w {weight:.1f} gate {gate:<5} key {key:<5} "
              f"{'for-age' if for_age else 'raw    '} {score(horizon, half, weight, gate, key, for_age):.3f}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
