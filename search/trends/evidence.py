"""How many independent voices a topic rests on: distinct wordings and distinct authors.

Pure: posts and vectors in, counts out.

Why: a topic's size counts posts, and posts are not independent. Ten retweets of
one tweet, or one account posting the same thing five times, is one voice; on an
unrelated community's stream a handful of look-alike posts (another helicopter
crash, the same news link shared with a few words around it) would otherwise
make an entry. A topic is shown only when several different texts carry it
(copies and near-copies, by `search.dedup` signatures and dense cosine
`NEAR_COPY`, count once) and, where the posts name their authors, several
different authors post it. "Several" is three: fewer is a coincidence of two.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from search.dedup import group, signature
from search.models import Post
from search.trends.represent import NEAR_COPY

# Texts compared for near-copies at most (quadratic); a topic with more distinct
# signatures than this has shown its evidence long before.
MAX_TEXTS = 200
# Wordings counted for the explanation at most ("10 or more").
SHOWN = 10


class Evidence(msgspec.Struct, frozen=True):
    wordings: int
    # Distinct authors, or None when too few posts name theirs to tell.
    authors: int | None


def count(posts: Sequence[Post], dense: npt.NDArray[np.float32], enough: int) -> Evidence:
    """Distinct wordings and authors among `posts` (a topic's posts in its span).

    Stops counting wordings at `enough`: a busy topic does not pay for its copies.
    Authors count only when at least half the posts name one: a stream without
    authors is not a stream of one author.
    """
    groups = group([signature(p.text) for p in posts[:MAX_TEXTS * 4]])
    heads: list[int] = []
    seen: set[int] = set()
    for i, g in enumerate(groups):
        if g in seen:
            continue
        seen.add(g)
        if any(float(dense[h] @ dense[i]) >= NEAR_COPY for h in heads):
            continue
        heads.append(i)
        if len(heads) >= max(enough, 1) or len(heads) >= MAX_TEXTS:
            break
    named = [p.author for p in posts if p.author]
    authors = len(set(named)) if named and 2 * len(named) >= len(posts) else None
    return Evidence(wordings=len(heads), authors=authors)


def sufficient(evidence: Evidence, minimum: int) -> bool:
    """`minimum` distinct wordings and, where authors are known, `minimum` authors."""
    return evidence.wordings >= minimum and (evidence.authors is None
                                             or evidence.authors >= minimum)

