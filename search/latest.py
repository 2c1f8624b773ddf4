"""`latest` mode: the newest matches of the whole index, page by page.

Before, `latest` sorted the ~50 relevance candidates by time, so a post that
arrived a minute ago and matched the query, but ranked 51st, never reached its
first page. Now it walks the match set (`search.matching`, as a store filter)
newest first with Qdrant's `order_by` on `created_ts`; ties in time are ordered
by post id here, never by the back end.

Pages are a keyset walk: the cursor holds page 1's moment (`as_of`: later posts
stay hidden, so arrivals cannot push anything between pages) and the last post
read, as (created_ts, post id). The next page starts right after it: nothing
repeats and nothing is skipped. A backfill (a post arriving later with an older
`created_at`) is shown if it lands below the reader's place, never twice.

Copies collapse within the posts read for a page: the newest copy stands for
the text, earlier ones read with it go into `duplicate_ids`, and a copy read on
a later page is a result of its own there (a different post, never an id shown
twice). Phrases are checked in order here, on the posts read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

import msgspec

from search.contracts import MatchFilter
from search.dedup import group, signature
from search.models import Earliest, Explain, Hit, Post
from search.store.base import Store

__all__ = ["MAX_READ", "LatestPage", "hit", "read_page"]

# Rows read per page at most: phrase checks and copies can thin a page out; past
# this the page is short and its cursor continues from the last post read.
MAX_READ = 4000
# Posts sharing one created_at are read whole (up to this many) so ties order by id.
TIES = 10_000
_FIRST_FETCH = 64
_MAX_FETCH = 1024

Row = tuple[float, Post]
_signature = lru_cache(maxsize=2**16)(signature)


class LatestPage(msgspec.Struct):
    """One page: each result's posts (newest first: the shown one, then its copies read
    with it), and where the next page starts (None at the end)."""

    results: list[list[Row]]
    skipped: int  # results before the page (offset)
    after: tuple[float, str] | None
    read: int


def walk(store: Store, match: MatchFilter, after: tuple[float, str] | None) -> Iterator[Row]:
    """Every post `match` admits, newest first, ties by post id, strictly after `after`."""
    before = None
    if after is not None:
        ts, last_id = after
        tied = store.newest(msgspec.structs.replace(match, at=ts, before=None), TIES)
        yield from sorted((r for r in tied if r[1].id > last_id), key=lambda r: r[1].id)
        before = ts
    fetch = _FIRST_FETCH
    while True:
        rows = store.newest(msgspec.structs.replace(match, at=None, before=before), fetch)
        full = len(rows) == fetch
        if full:  # the oldest time read may have more posts than made the cut
            edge = rows[-1][0]
            rows = ([r for r in rows if r[0] != edge]
                    or store.newest(msgspec.structs.replace(match, at=edge, before=None), TIES))
        rows.sort(key=lambda r: (-r[0], r[1].id))
        yield from rows
        if not full or not rows:
            return
        before = rows[-1][0]
        fetch = min(fetch * 4, _MAX_FETCH)


def read_page(store: Store, match: MatchFilter, after: tuple[float, str] | None, offset: int,
              limit: int, holds_phrases: Callable[[str], bool], collapse: bool) -> LatestPage:
    """Read matches newest first until the page (after `offset` results) and one more
    result are known, then cut: the next page starts after the last post before that one."""
    need = offset + limit + 1
    rows: list[Row] = []
    kept: list[int] = []  # indexes into rows of posts that hold the phrases in order
    posts = walk(store, match, after)
    exhausted = False
    firsts: list[int] = []
    groups: list[int] = []
    target = need
    while True:
        while len(kept) < target and len(rows) < MAX_READ:
            row = next(posts, None)
            if row is None:
                exhausted = True
                break
            rows.append(row)
            if holds_phrases(row[1].text):
                kept.append(len(rows) - 1)
        groups = (group([_signature(rows[i][1].text) for i in kept]) if collapse
                  else list(range(len(kept))))
        firsts = [j for j, g in enumerate(groups) if g == j]  # results, newest first
        if len(firsts) >= need or exhausted or len(rows) >= MAX_READ:
            break
        target = len(kept) + 2 * (need - len(firsts))  # copies merged: read further
    cut = len(rows)
    if len(firsts) >= need:  # the result after the page: the next page starts there
        cut = kept[firsts[need - 1]]
    members: dict[int, list[Row]] = {}
    for j, g in enumerate(groups):
        if kept[j] < cut:
            members.setdefault(g, []).append(rows[kept[j]])
    page = [members[g] for g in firsts[offset:offset + limit] if g in members]
    more = len(firsts) >= need or not exhausted
    last = rows[cut - 1] if cut else None
    return LatestPage(results=page, skipped=min(offset, len(firsts)),
                      after=(last[0], last[1].id) if more and last else None, read=len(rows))


def earliest(members: Sequence[Row]) -> Earliest | None:
    """The first-posted copy of a collapsed text (None for a text read once)."""
    if len(members) < 2:
        return None
    first = min(members, key=lambda r: (r[1].created_at, r[1].id))[1]
    return Earliest(id=first.id, created_at=first.created_at)


def hit(members: Sequence[Row], rank: int, models: dict[str, str]) -> Hit:
    """One result of a `latest` page: the newest post of its text, its copies read with it.

    Nothing is fused or reranked in this mode; explain says so, and its `fused_rank`
    is the result's place in the newest-first walk (the pipeline adds why it matched).
    """
    shown = members[0][1]
    explain = Explain(
        mode="latest", fusion="none: the newest matches first", dense_rank=None,
        dense_score=None, sparse_rank=None, sparse_score=None, fused_rank=rank,
        fused_score=0.0, rerank_score=None, rerank_rank=None,
        rerank_note="latest lists matches by time: nothing is reranked", decay=None,
        engagement=None, final=0.0, models=models)
    return Hit(post=shown, score=0.0, explain=explain, copies=len(members),
               duplicate_ids=[r[1].id for r in members[1:]], earliest=earliest(members))
