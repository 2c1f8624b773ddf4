"""Cursors: page 2 and beyond of one search, stable while new posts arrive.

Why not `offset` alone: a post indexed between two requests shifts every later
result by one, so the reader sees one post twice (or never); trending scores
also move with the clock. A cursor pins what page 1 saw:

- `as_of`: the moment page 1 was computed (its explicit `as_of`, else the
  time of that request). Later pages search with that `as_of`: posts created
  after it are filtered out in Qdrant and trending decay is measured from the
  same instant, so the same index state gives the same order.
- `pool`: how many recall candidates the ordering was computed over. Trending
  and latest re-sort the candidates, so a bigger pool can put a new candidate
  anywhere, above posts already shown. Pages therefore walk one fixed pool (a
  *tier*) to its end; the next tier (x4, as recall grows) then shows its
  candidates minus every candidate of the tier before (`shown_pool`), in its
  own order. Nothing repeats and nothing in a tier is passed over.
- `position`: how many results of the tier were handed out, and the id of the
  last one. A page resumes right after that id wherever it now stands (a
  backfilled old post or a takedown above it moves it), else at the count.
- `gate`: trending's calibration of the query (`search.topical`), as page 1 read
  it from the recent posts. A late post or a takedown would move that calibration
  and could move a post between trending's tiers, repeating or skipping it; later
  pages decide with page 1's numbers instead.
- `fingerprint`: a hash of the query, mode, filters, collapse and explicit
  `as_of`. A cursor sent with another search is refused, naming `cursor`,
  rather than silently paging through something else. `limit` and `explain`
  may change from page to page.

What it cannot pin: a post that arrives with a `created_at` older than page 1's
`as_of` (a backfill) joins the ordering; a reader already past its place does
not see it, and nothing repeats.

The token is base64url of msgpack state plus a keyed BLAKE2b tag, versioned by
its first field. The tag makes edits and truncation evident (a copy-paste that
lost a character is a clear 422, not a wrong page); it is not a secret-keyed
security boundary, because a cursor grants nothing that `as_of` and `offset`
in a request do not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from search.errors import FieldError
from search.models import Hit, SearchFilters

VERSION = 1
# The recall pool's growth and bound (`search.pipeline` uses the same numbers).
GROWTH = 4
MAX_POOL = 2000
_KEY = b"trendsearch.cursor.v1"
_TAG_BYTES = 12
_STALE = "start again from the first page (send the search without `cursor`)"


class Cursor(msgspec.Struct, array_like=True, frozen=True):
    """What a cursor holds; array-like keeps tokens short (~90 characters)."""

    version: int
    as_of_us: int  # microseconds since the epoch, UTC
    fingerprint: bytes
    pool: int
    shown_pool: int  # the previous tier's pool, all of it shown; 0 on the first tier
    offset: int
    last_id: str
    # `latest` pages walk the matches by time: the last post read, as (created_ts,
    # post id); `pool` is 0 there (`search.latest`).
    last_ts: float = 0.0
    # Trending's gate as page 1 calibrated it (`search.topical.QueryCalibration.pack`);
    # None: page 1 decided by the match rule (or there was no gate).
    gate: list[float] | None = None

    @property
    def as_of(self) -> datetime:
        return datetime.fromtimestamp(self.as_of_us / 1_000_000, UTC)


def fingerprint(query: str, mode: str, filters: SearchFilters | None, collapse: bool,
                as_of: datetime | None) -> bytes:
    """What must not change between pages of one search."""
    parts = [query, mode, filters, collapse, as_of.astimezone(UTC) if as_of else None]
    return hashlib.blake2b(msgspec.msgpack.encode(parts), digest_size=8).digest()


def encode(state: Cursor) -> str:
    body = msgspec.msgpack.encode(state)
    tag = hmac.new(_KEY, body, hashlib.blake2b).digest()[:_TAG_BYTES]
    return base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")


def decode(token: str, expected_fingerprint: bytes) -> Cursor:
    """The cursor's state, or `FieldError("cursor", ...)` saying what is wrong with it."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise FieldError("cursor", f"not a cursor this API issued (not base64url); {_STALE}") \
            from None
    body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    good = hmac.new(_KEY, body, hashlib.blake2b).digest()[:_TAG_BYTES]
    if len(raw) <= _TAG_BYTES or not hmac.compare_digest(tag, good):
        raise FieldError("cursor", f"damaged or edited: copy `next_cursor` whole; {_STALE}")
    try:
        version = msgspec.msgpack.decode(body, type=tuple)[0]
    except (msgspec.DecodeError, IndexError):
        raise FieldError("cursor", f"damaged: {_STALE}") from None
    if version != VERSION:
        raise FieldError("cursor", f"issued by another version of this API; {_STALE}")
    state = msgspec.msgpack.decode(body, type=Cursor)
    if not hmac.compare_digest(state.fingerprint, expected_fingerprint):
        raise FieldError("cursor", (
            "belongs to a different search: `query`, `mode`, `filters`, `collapse` and `as_of` "
            f"must be the same as on the page that gave it; {_STALE}"))
    return state


def paginate(hits: Sequence[Hit], offset: int, limit: int, state: Cursor | None, pool: int,
             more: bool, as_of: datetime, print_: bytes, seen: set[str],
             gate: list[float] | None = None) -> tuple[int, list[Hit], str | None]:
    """(start in the tier's list, the page, the next page's cursor or None).

    `hits` is the ordering over `pool` candidates; `more` says the index holds
    more than the pool; `seen` holds the ids of the previous tiers' candidates
    (`state.shown_pool` of them), already shown on earlier pages.
    """
    if state is None:
        tier, done = list(hits), 0
    else:
        done = state.shown_pool
        tier = [h for h in hits if h.post.id not in seen and not seen.intersection(h.duplicate_ids)]
        offset = _resume_at(tier, state)
    page = tier[offset:offset + limit]
    end = offset + len(page)
    if end < len(tier):
        following = Cursor(VERSION, micros(as_of), print_, pool, done, end,
                           page[-1].post.id if page else "", gate=gate)
    elif more and pool < MAX_POOL:
        following = Cursor(VERSION, micros(as_of), print_, min(pool * GROWTH, MAX_POOL), pool,
                           0, "", gate=gate)
    else:
        return offset, page, None
    return offset, page, encode(following)


def _resume_at(hits: Sequence[Hit], state: Cursor) -> int:
    """Where the next page starts in this request's ordering of the tier."""
    n = state.offset
    if not state.last_id:
        return min(n, len(hits))
    if 0 < n <= len(hits) and hits[n - 1].post.id == state.last_id:
        return n
    for i, hit in enumerate(hits):
        if hit.post.id == state.last_id:
            return i + 1
    return min(n, len(hits))


def micros(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
