"""Trends' `query=` cut: from which dense cosine is a post without the query's words "about" it?

`TrendsService._recall` keeps, of the query's hybrid recall (2,000 posts per
signal), the posts that use a query term plus the dense hits at or above a
cosine. That cosine is the model's: MiniLM's cosines spread over [-0.1, 0.9] and
0.7 was a tight cut; e5's live in a narrow high band (unrelated posts ~0.75-0.8),
where 0.7 keeps everything. Here the kept set (lexical hits + dense hits >= t) is
scored against the public sets' judgements for each t: precision, recall and F1
per query, averaged per set, so the cut is chosen where F1 peaks on several sets.

    .venv/bin/python -m lab.evaluation.about_study ../shared/eval/sets/*
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from lab.evaluation.e5_study import prepare
from lab.evaluation.fusion_study import ranked
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.embed.e5 import E5Dense

QUERY_POSTS = 2000  # search.trends.service.QUERY_POSTS
CUTS = [round(0.70 + 0.01 * i, 2) for i in range(21)]


def main(argv: list[str]) -> int:
    encoder = E5Dense()
    dense = CachedEmbedder(encoder, default_cache_dir(Path("var").resolve(), encoder.info.model_id))
    print("set  " + " ".join(f"{t:.2f}" for t in CUTS) + "   (F1 of lexical + dense >= t)")
    for folder in argv:
        for name, p, queries in prepare(Path(folder), dense, encoder):
            f1 = np.zeros(len(CUTS))
            for qid, q in queries:
                relevant = {i for i, cid in enumerate(p.ids) if p.qrels[qid].get(cid, 0) > 0}
                lex = set(ranked(np.where(q.bm25 > 0, q.bm25, -np.inf), QUERY_POSTS).tolist())
                lex = {r for r in lex if q.bm25[r] > 0}
                top = ranked(q.dense, QUERY_POSTS)
                for j, t in enumerate(CUTS):
                    kept = lex | {int(r) for r in top if q.dense[r] >= t}
                    hit = len(kept & relevant)
                    if hit:
                        precision, recall = hit / len(kept), hit / len(relevant)
                        f1[j] += 2 * precision * recall / (precision + recall)
            f1 /= max(len(queries), 1)
            best = CUTS[int(np.argmax(f1))]
            print(f"{name}: " + " ".join(f"{v:.3f}" for v in f1) + f"   best {best:.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
