"""Whether a matched post counts for a watch, by rules relative to the watch itself.

Pure: numbers in, numbers out.

Why no cosine threshold: a raw cosine means something else per model (MiniLM
puts unrelated tweets near 0.1 and related ones at 0.4-0.8; multilingual-e5
puts unrelated ones at 0.74-0.83), and even per query (a long query sits
closer to everything). So each watch is *calibrated*: the median and spread
(1.4826 x MAD, a robust standard deviation) of its cosine to a sample of recent
posts, most of which are not about it. A post's dense evidence is its z against
that: how unusual this closeness is *for this watch*. The lexical evidence is
the share of the query's weight (each term by its IDF among posts) that the
post holds, counted in *average query terms* (share x number of terms): 1.0 is
one term of average weight, whatever the query's length, so "hurricane" in a
five-word query counts like "queensland" in a two-word one, while a common word
("new", "water") weighs less than one. Also a ratio, not a model's number.

A post counts when its words and its meaning agree (some of the query's words
and a dense z well above the watch's usual), or when its meaning alone is far
out (a post about the story in other words: `#yycflood` for Calgary under
water). A post that *names* the story (more than one average query term, the
grounding bar of `detect`: "Alberta flooding") needs less of the meaning (z 2
instead of 3): its words are already most of the evidence, and with
multilingual-e5's compressed cosines such posts sat at z 2-3 (Sandy on the real
stream was found 22 h earlier, and shown with 10 posts instead of 7). The levels (`strict`, `normal`, `loose`) move these bars together.
(Measured in docs/decisions/0026-watches.md.)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

import msgspec
import numpy as np
import numpy.typing as npt

from search.watches.models import Relevance

__all__ = ["CALIBRATION_MIN_POSTS", "CALIBRATION_POSTS", "LEVELS", "Calibration",
           "RelevanceRule", "calibrate", "counts", "idf", "score", "word_share", "z_score"]

# Posts a calibration reads, newest first (a watch's pass, trending's gate) ...
CALIBRATION_POSTS = 2000
# ... and, when its span holds fewer than this, the newest posts of any age instead.
CALIBRATION_MIN_POSTS = 200
# Fewest posts a calibration is computed from (else the whole sample is used).
MIN_SAMPLE = 20
# Below this spread the sample says nothing (a handful of identical posts).
MIN_SPREAD = 1e-3
# Posts assumed in the index before the first one: with none yet, every term is rare
# alike, instead of the first hour's own words looking common (an index that starts
# with a story would otherwise weigh that story's words as noise).
IDF_PRIOR_POSTS = 1000


class Calibration(msgspec.Struct, frozen=True):
    """One watch's dense cosine to recent posts: their median and robust spread."""

    median: float
    spread: float
    n: int
    at_ts: float


class RelevanceRule(msgspec.Struct, frozen=True):
    # Words and meaning agree: at least this many average query terms ...
    min_terms: float
    # ... and at least this dense z.
    min_z_with_words: float
    # Meaning alone.
    min_z_alone: float
    # A post that names the story (at least `named_terms`: roughly two of the query's words,
    # the grounding bar of `detect`) needs less of the meaning: `min_z_named`.
    named_terms: float = 1.2
    min_z_named: float = 2.0


LEVELS: dict[Relevance, RelevanceRule] = {
    "strict": RelevanceRule(min_terms=0.7, min_z_with_words=4.0, min_z_alone=8.0),
    "normal": RelevanceRule(min_terms=0.3, min_z_with_words=3.0, min_z_alone=6.0),
    "loose": RelevanceRule(min_terms=0.2, min_z_with_words=2.0, min_z_alone=5.0),
}


def calibrate(cosines: npt.NDArray[np.float32], at_ts: float,
              exclude: npt.NDArray[np.bool_] | None = None) -> list[Calibration]:
    """Per column (watch) of an (n posts x n watches) cosine matrix, leaving out the cells
    `exclude` marks (posts holding the watch's words) while at least `MIN_SAMPLE` remain."""
    n = cosines.shape[0]
    if n == 0:
        return []
    out = []
    for j in range(cosines.shape[1]):
        column = cosines[:, j]
        if exclude is not None and n - int(exclude[:, j].sum()) >= MIN_SAMPLE:
            column = column[~exclude[:, j]]
        median = float(np.median(column))
        spread = 1.4826 * float(np.median(np.abs(column - median)))
        out.append(Calibration(median=median, spread=max(spread, MIN_SPREAD), n=len(column),
                               at_ts=at_ts))
    return out


def z_score(cosine: float, calibration: Calibration | None) -> float:
    """How unusual this closeness is for the watch; 0 before the watch is calibrated."""
    if calibration is None:
        return 0.0
    return (cosine - calibration.median) / calibration.spread


def idf(df: int, posts: int) -> float:
    """BM25's idf, over the posts seen plus `IDF_PRIOR_POSTS` that held no query term."""
    n = posts + IDF_PRIOR_POSTS
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def word_share(weights: Mapping[int, float], held: Collection[int]) -> float:
    """The share of the query's word weight (`weights`: term -> weight) the post holds."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in held) / total if total > 0 else 0.0


def counts(z: float, terms: float, rule: RelevanceRule) -> bool:
    """Whether a post counts for the watch (`terms`: its lexical share x the query's terms)."""
    return ((terms >= rule.min_terms and z >= rule.min_z_with_words)
            or (terms >= rule.named_terms and z >= rule.min_z_named) or z >= rule.min_z_alone)


def score(z: float, terms: float) -> float:
    """The order of a watch's posts, best first (and which watch a post is nearest to):
    dense z, plus a bonus per average query term held (a post that names the story is
    the better evidence to show)."""
    return z + 3.0 * terms
