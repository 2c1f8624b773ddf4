"""Trending study: half-life, horizon and engagement weight on a time-aware set, in numpy.

Why: the engine's `trending` configuration replays the whole stream per try;
this mirrors its arithmetic (weighted RRF of dense and BM25 over the posts
visible at `as_of`, relevance = fused / best fused, x 0.5^(age/half-life)
x (1 + w log1p(2 x comments))) so a grid runs in a minute; the chosen values
are then confirmed by `trendsearch eval`.

    .venv/bin/python -m lab.evaluation.trending_study ../shared/eval/sets/trending_reddit_public
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
from ranx import Qrels, Run, evaluate

from lab.evaluation import beir
from lab.evaluation.fusion_study import Prepared, ranked, rrf
from lab.evaluation.reference import query_tokens
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.embed.minilm import MiniLMDense


def main(argv: list[str]) -> int:
    minilm = MiniLMDense()
    dense = CachedEmbedder(minilm, default_cache_dir(Path("var"), minilm.info.model_id))
    data = beir.load_set(Path(argv[0]))
    p = Prepared(data, dense)
    created = np.array([d.post.created_at.timestamp() for d in data.docs])
    queries = data.query_sets[0].queries
    q_dense = minilm.encode_queries([q.text for q in queries]).dense
    cov = minilm.coverage([q.text for q in queries])
    row_of = {cid: i for i, cid in enumerate(p.ids)}
    qrels = {q.id: p.qrels[q.id] for q in queries if q.id in p.qrels}
    cache = {}
    for q, qd, c in zip(queries, q_dense, cov, strict=True):
        t = q.as_of.timestamp()
        visible = created < t
        d = np.where(visible, p.doc_dense @ qd, -np.inf)
        b = np.where(visible, p.bm25.scores(query_tokens(q.text)), 0)
        comments = np.zeros(len(p.ids))
        for cid, n in (data.engagement or {}).get(q.as_of, {}).items():
            if cid in row_of:
                comments[row_of[cid]] = n
        cache[q.id] = (t, d, b, c, comments, visible)
    grid = itertools.product([12, 24], [48, 72], [0.1, 0.3], [0.5], [30, 60, 100, 200], [1.0, 2.0, 4.0])
    for half, horizon, w, ws, depth, gamma in grid:
        run = {}
        for qid, (t, d, b, c, comments, visible) in cache.items():
            window = visible & ((created >= t - horizon * 3600) if horizon else True)
            dd = np.where(window, d, -np.inf)
            bb = np.where(window, b, 0)
            d_rows = ranked(dd, 200)
            d_rows = d_rows[np.isfinite(dd[d_rows])]
            s_rows = ranked(np.where(bb > 0, bb, -np.inf), 200)
            s_rows = s_rows[bb[s_rows] > 0]
            fused = rrf([(d_rows, c), (s_rows, ws)], len(d), 60)
            pool = ranked(np.where(fused > 0, fused, -np.inf), depth)
            pool = pool[fused[pool] > 0]
            if not pool.size:
                continue
            rel = (fused[pool] / fused[pool].max()) ** gamma
            age_h = (t - created[pool]) / 3600
            score = rel * 0.5 ** (age_h / half) * (1 + w * np.log1p(2 * comments[pool]))
            order = pool[np.argsort(-score, kind="stable")]
            run[qid] = {p.ids[r]: float(len(order) - i) for i, r in enumerate(order)}
        m = evaluate(Qrels(qrels), Run(run), ["ndcg@10"], make_comparable=True)
        print(f"half {half:>3} horizon {horizon:>3} w {w:.1f} ws {ws:.1f} pool {depth:>3} "
              f"gamma {gamma:.0f}  ndcg@10 {m:.3f}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
