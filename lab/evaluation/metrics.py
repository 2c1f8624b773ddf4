"""Ranked lists + judgements -> the four metrics, computed by `ranx`.

`ranx` rather than our own arithmetic: its nDCG (linear gains, Järvelin &
Kekäläinen), recall and MRR are the ones the public sets' baselines were
measured with, so our numbers and theirs are comparable.

Only grades >= 1 reach ranx (`beir.relevant_only`), and only queries with at
least one relevant document are scored (BEIR's convention). A ranked list
becomes scores n, n-1, ..., 1 so ranx keeps our order exactly, ties included.
"""

from __future__ import annotations

import warnings

import numpy as np

METRICS = ("ndcg@10", "recall@100", "recall@1000", "mrr@10")


def score(qrels: dict[str, dict[str, int]], run: dict[str, list[str]]) -> dict[str, float]:
    """Mean of each metric over the queries of `qrels` (a query absent from `run` scores 0)."""
    if not any(run.get(q) for q in qrels):  # ranx cannot build a run with no document at all
        return {m: 0.0 for m in METRICS}
    with warnings.catch_warnings():
        # numba warns about uint64 -> int64 casts inside ranx's kernels, and imports
        # emit deprecation noise; neither concerns our inputs.
        warnings.simplefilter("ignore")
        from ranx import Qrels, Run, evaluate

        ranx_qrels = Qrels.from_dict({q: dict(docs) for q, docs in qrels.items()})
        ranx_run = Run.from_dict({
            q: {doc: float(len(ids) - i) for i, doc in enumerate(ids)}
            for q, ids in ((q, run.get(q, [])) for q in qrels)
        })
        values = evaluate(ranx_qrels, ranx_run, list(METRICS), make_comparable=True)
    return {m: float(np.round(values[m], 6)) for m in METRICS}
