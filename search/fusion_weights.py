"""Per-post lexical weight: a lexical hit counts as much as the query it holds.

Why: with multilingual-e5-small the dense list reads every post, and one global
lexical weight was a compromise between hits that hold the question (an English
query's words, "Spring Festival", in the five Weibo posts that use them) and hits
that hold a common word of it ("abortion" in one tweet of twenty in a stance set; "e"
of "e-bikes"). A hit's BM25 score is the IDF mass of the query words it holds
(damped by their count and the post's length): a post holding rare words of the
query scores high, one holding a word every other post uses scores low. So each hit
weighs `lexical_weight x min(1, score / scale) ** power` in the fusion: full weight
from `scale` up, fading fast below it.

Long posts are first lifted (`length_lift`): BM25's length normalisation divides
a 100-token forum post's score by about 2.6 against a 20-token tweet holding the
same words, which says nothing about how much of the query the post holds. The
lift brings a post to the lexical encoder's nominal length, and squared (the
shipped power) past it, the extra factor at most 2: a long post's dense vector
reads it less sharply, so its words are the surer evidence. Without the lift the
scale (chosen on tweets and Weibo posts) weighed every Reddit hit near zero, and
fusion fell below BM25 alone there (docs/decisions/0024). Posts at or under the
nominal length keep their score, so the rule is unchanged where it was chosen. A
hit whose share is under the floor weighs nothing.

Chosen on nlpcc_weibo (both query files) and tweeteval_stance with
`lab/evaluation/e5_study.py`; the lift on all four public sets with
`lab/evaluation/e5_tail_study.py`; docs/decisions/0024-multilingual-default.md has the grids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from search.contracts import ScoredId
from search.models import SparseVector

__all__ = ["hit_weight", "length_lift"]


def hit_weight(base: float, scale: float, power: float,
               lift: Mapping[str, float] | None = None,
               floor: float = 0.0) -> float | Callable[[ScoredId], float]:
    """The lexical list's weight: `base` for every hit when `scale` is 0, else per hit,
    each hit's score first multiplied by its `lift` (1 where none is known).

    A hit whose share of the full weight is under `floor` weighs 0: a post holding
    only a common word of the query ("change" of "climate change") is no lexical
    evidence, yet added to a deep dense rank it still pushed that post over the dense
    list's last, better answers (docs/decisions/0024)."""
    if scale <= 0 or base <= 0:
        return base
    lifts = lift or {}

    def weight(hit: ScoredId) -> float:
        score = max(hit.score, 0.0) * lifts.get(hit.point_id, 1.0)
        share = float(min(1.0, score / scale) ** power)
        return base * share if share >= floor else 0.0

    return weight


# With a power above 1, the factor past the nominal-length lift is at most this: a
# 500-token post's lift is ~10.8, squared ~117, which would give a post holding one
# common word of the query full weight.
MAX_EXTRA_LIFT = 2.0


def length_lift(vectors: Mapping[str, SparseVector], power: float = 1.0) -> dict[str, float]:
    """Per post, what brings its BM25 to the encoder's nominal length, never below 1,
    raised to `power` (past 1, the extra factor capped at `MAX_EXTRA_LIFT`).

    A stored lexical vector holds `tf (k1 + 1) / (tf + k1 (1 - b + b len / avg_len))`
    per word (`search.embed.lexical`); its smallest value is a word written once, which
    weighs exactly 1 at the nominal length (`avg_len`) and less in a longer post. So
    `1 / smallest` is the lift, read from what the index holds, with no length stored
    and whatever `k1`, `b` and `avg_len` the index was built with. (A post whose every
    word is repeated gets a slightly smaller lift: harmless.)
    """
    out = {}
    for point_id, vector in vectors.items():
        values = [v for v in vector.values if v > 0]
        lift = max(1.0, 1.0 / min(values)) if values else 1.0
        out[point_id] = (lift ** power if power <= 1
                         else lift * min(lift ** (power - 1), MAX_EXTRA_LIFT))
    return out
