"""`trendsearch eval`: retrieval quality of the engine's configurations on BEIR-format sets.

    beir.py       sets on disk -> posts, queries, judgements, engagement side file
    reference.py  bm25s BM25 over our tokens, and the BM25 x recency baseline
    trending.py   replaying a stream: posts in creation order, engagement per as_of
    configs.py    one function per configuration: query -> ranked corpus ids
    metrics.py    ranx: nDCG@10, Recall@100, Recall@1000, MRR@10
    report.py     the JSON contract and the markdown table
    run.py        orchestration: one throw-away index per set, every configuration
"""

from lab.evaluation.run import Evaluation, evaluate, run_eval

__all__ = ["Evaluation", "evaluate", "run_eval"]
