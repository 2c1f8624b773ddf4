"""Per-post lexical weight: a lexical hit counts as much as the query it holds.

Why: with multilingual-e5-small the dense list reads every post, and one global
lexical weight was a compromise between hits that hold the question (an English
query's words, "Spring Festival", in the five Weibo posts that use them) and hits
that hold a common word of it ("abortion" in one tweet of twenty in a stance set; "e"
of "e-bikes"). A hit's BM25 score is the IDF mass of the query words it holds
(damped by their count and the post's length): a post holding rare words of the
query scores high, one holding a word every other post uses scores low. So each hit
weighs `lexical_weight x min(1, score / scale) ** power` in the fusion: full weight
from `scale` up, fading fast below it. Ties weigh alike (same score, same weight).

Chosen on nlpcc_weibo (both query files) and tweeteval_stance with
`lab/evaluation/e5_study.py`; docs/decisions/0024-multilingual-default.md has the grid.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["hit_weight"]


def hit_weight(base: float, scale: float, power: float) -> float | Callable[[float], float]:
    """The lexical list's weight: `base` for every hit when `scale` is 0, else per hit."""
    if scale <= 0 or base <= 0:
        return base

    def weight(score: float) -> float:
        return base * float(min(1.0, max(score, 0.0) / scale) ** power)

    return weight
