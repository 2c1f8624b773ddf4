"""Copies of one text (retweets, "RT @user:" copies, copy-paste campaigns) as one result.

A page of ten retweets of one tweet tells a reporter one thing. The signature
is the text with what differs between copies taken out: "RT @user:" prefixes,
links (every copy gets its own t.co address), @mentions, case, punctuation,
emoji and spacing. Twitter cut old retweets to 140 characters and ended them
with "…", so a truncated copy also joins the best-ranked text that starts with
it, once the shared start is long enough to mean something.

Copies that gained a few words ("Police: …", an aggregator's "| Brisbane
Times", a Weibo location tag) join when their signatures share at least 80 % of
their word 3-shingles (Jaccard). On the 4,668 sample posts (exact duplicates
removed when it was built), signatures with cut copies find 28 groups of 95
posts; with the Jaccard pass at 0.8, 33 groups of 107, every added post a copy
when read. Lower thresholds (0.7: 37 groups of 124; 0.5: 46 of 157) also fold
in quote-tweets whose added comment is news of its own ("Brisbane flood NOTHING
like 2010-11 “@newscientist: …").

Everything here is pure: texts and hits in, groups and collapsed hits out.
"""

from __future__ import annotations

import html
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import lru_cache

import msgspec
import regex

from search.models import Earliest, Hit
from search.text import _patterns  # the tokeniser's own link and mention patterns
from search.text.normalize import clean, fold

# A truncated copy links to a longer text only if it keeps this many characters
# of signature: "pray for boston" (15) starts too many different tweets. Trailing
# hashtags go only if this much text is left ("#BostonStrong" alone is the text).
MIN_PREFIX_CHARS = 24
NEAR_JACCARD = 0.8
SHINGLE_WORDS = 3
# Fewer shingles (texts under 6 words) and one changed word is a different text.
MIN_SHINGLES = 4
# The Jaccard pass reads the best-ranked distinct texts only: 500 cost 7-13 ms of
# CPU here, 2,000 (the largest recall pool) 80-200 ms, for texts no page shows.
NEAR_MAX_KEYS = 500

_MENTION = rf"{_patterns.NOT_AFTER_WORD}@{_patterns.MENTION_NAME}"
_RT_PREFIX = regex.compile(
    rf"^(?:\s*(?:(?i:rt|mt)\s*@{_patterns.MENTION_NAME}\s*:?|\"?@{_patterns.MENTION_NAME}\s*:))+",
    flags=regex.V1)
_NOISE = regex.compile(rf"(?i:\bvia\s*)?{_MENTION}|{_patterns.URL}", flags=regex.V1)
_TAIL_WORD = regex.compile(
    rf"{_patterns.URL}|@{_patterns.MENTION_NAME}:?|(?i:via|rt|cc)|[^\p{{L}}\p{{M}}\p{{N}}]*",
    flags=regex.V1)
_HASHTAG_WORD = regex.compile(r"\#[\p{L}\p{M}\p{N}_]+\#?[^\p{L}\p{M}\p{N}]*")
_ELLIPSIS = regex.compile(r"(?:\.{3,}|\u2026)$")
# What a cut can leave of a link: "h", "htt", "http:/", "https://t.c", "www.exa".
_PARTIAL_URL = regex.compile(r"h|ht|htt|https?:?/{0,2}\S*|www\.\S*")
_NON_WORD = regex.compile(r"[^\p{L}\p{M}\p{N}]+")
# Chinese is written without spaces; one typed beside a Han character means nothing.
_HAN_SPACE = regex.compile(r"(?<=\p{Han}) | (?=\p{Han})")
# Shingle units: words, and each Han character (Chinese has no spaces).
_UNIT = regex.compile(r"\p{Han}|[^\s\p{Han}]+")
_HAN = regex.compile(r"\p{Han}")


class Signature(msgspec.Struct, frozen=True):
    """`key` is "" for a text with no words (only links or emoji): such posts
    are never grouped, since nothing says they are the same."""

    key: str
    truncated: bool = False


def signature(text: str) -> Signature:
    # Folded once, up front: folding is most of the cost (casefold + NFKC twice).
    text = _RT_PREFIX.sub("", fold(clean(html.unescape(text))))
    words, truncated = _strip_tail(text.split())
    body = list(words)
    while body and _HASHTAG_WORD.fullmatch(body[-1]):
        body.pop()
    if len(body) < len(words):
        shorter = _key(body)
        if len(shorter) >= MIN_PREFIX_CHARS:
            return Signature(key=shorter, truncated=truncated)
    return Signature(key=_key(words), truncated=truncated)


def _strip_tail(words: list[str]) -> tuple[list[str], bool]:
    """Drop what apps append (links, "via @x", punctuation) and a cut's "…" with
    the partial link it may have left; say whether the text was cut."""
    truncated = False
    while words:
        last = words[-1]
        cut = _ELLIPSIS.search(last)
        if cut:
            truncated = True
            last = last[:cut.start()]
            if last and not _PARTIAL_URL.fullmatch(last):
                words[-1] = last
                continue
            words.pop()
        elif _TAIL_WORD.fullmatch(last):
            words.pop()
        else:
            break
    return words, truncated


def _key(words: list[str]) -> str:
    text = _NOISE.sub(" ", " ".join(words))
    return str(_HAN_SPACE.sub("", " ".join(_NON_WORD.split(text)).strip()))


def group(signatures: Sequence[Signature]) -> list[int]:
    """Group of each item, as the index of its group's first item.

    Items come best-ranked first. Equal keys group; a truncated key joins the
    best-ranked other key that starts with it (one link per truncated copy, so
    a short start shared by two different texts never merges them); among the
    first `NEAR_MAX_KEYS` keys, those whose shingles are `NEAR_JACCARD` alike group.
    """
    parent = list(range(len(signatures)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(a: int, b: int) -> None:
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)

    first: dict[str, int] = {}
    for i, sig in enumerate(signatures):
        if sig.key:
            join(i, first.setdefault(sig.key, i))
    keys_in_order = list(first)[:NEAR_MAX_KEYS]
    keys = sorted(first)
    for i, sig in enumerate(signatures):
        if not sig.truncated or len(sig.key) < MIN_PREFIX_CHARS:
            continue
        at = bisect_left(keys, sig.key)
        longer = []
        while at < len(keys) and keys[at].startswith(sig.key):
            if keys[at] != sig.key:
                longer.append(first[keys[at]])
            at += 1
        if longer:
            join(i, min(longer))
    for a, b in near_pairs([shingles(key) for key in keys_in_order]):
        join(first[keys_in_order[a]], first[keys_in_order[b]])
    return [root(i) for i in range(len(signatures))]


@lru_cache(maxsize=2**16)
def shingles(key: str) -> frozenset[tuple[str, ...]]:
    """Word 3-grams of a signature key; cached, since the same posts come back
    query after query."""
    units = _UNIT.findall(key) if _HAN.search(key) else key.split()
    return frozenset(zip(*(units[i:] for i in range(SHINGLE_WORDS)), strict=False))


def near_pairs(sets: Sequence[frozenset[tuple[str, ...]]]) -> Iterator[tuple[int, int]]:
    """Index pairs whose Jaccard similarity is at least `NEAR_JACCARD`.

    Prefix filtering (Chaudhuri, Ganti, Kaushik, ICDE 2006): with shingles in
    one global order, rarest first, two sets that similar must share one of the
    first |s| - ceil(t |s|) + 1 of each, so only pairs sharing such a shingle
    are compared.
    """
    frequency = Counter(shingle for s in sets if len(s) >= MIN_SHINGLES for shingle in s)
    # The order: by frequency, ties by first appearance; an int per shingle, no global sort.
    order = {shingle: n * len(frequency) + i for i, (shingle, n) in enumerate(frequency.items())}
    index: dict[tuple[str, ...], list[int]] = {}
    for i, s in enumerate(sets):
        if len(s) < MIN_SHINGLES:
            continue
        seen: set[int] = set()
        prefix = sorted(s, key=order.__getitem__)[:len(s) - math.ceil(NEAR_JACCARD * len(s)) + 1]
        for shingle in prefix:
            for j in index.setdefault(shingle, []):
                if j not in seen:
                    seen.add(j)
                    if len(s & sets[j]) >= NEAR_JACCARD * len(s | sets[j]):
                        yield j, i
            index[shingle].append(i)


def collapse(hits: Sequence[Hit], group_of: dict[str, int]) -> list[Hit]:
    """Each group's best-ranked hit, carrying how many copies the ranked list
    held, the others' ids, and the earliest copy (the original, usually)."""
    members: dict[int, list[Hit]] = {}
    for hit in hits:
        members.setdefault(group_of[hit.post.id], []).append(hit)
    out = []
    for copies in members.values():
        best = copies[0]
        if len(copies) == 1:
            out.append(best)
            continue
        earliest = min(copies, key=lambda h: (h.post.created_at, h.post.id)).post
        out.append(msgspec.structs.replace(
            best, copies=len(copies), duplicate_ids=[h.post.id for h in copies[1:]],
            earliest=Earliest(id=earliest.id, created_at=earliest.created_at)))
    return out
