"""Where a post matches its query: character spans of the ORIGINAL text.

Why server-side: the lexical side matched tokens that only the tokeniser knows
(jieba's words with our user dictionary, Snowball stems, NFKC and case folding,
hashtag parts), so only the tokeniser can say which characters matched. The page
used to guess from the query; "floods" for "flooding" or ＦＬＯＯＤ for "flood"
need the real stemmer and folding.

Spans are `(start, end)` indices into the text exactly as stored and returned by
the API (Python `str` indices: code points, end exclusive), sorted, with
overlapping or touching spans merged. JavaScript strings index UTF-16 code units:
an emoji or other astral character counts 1 here and 2 there, so clients convert
(the page does, in `server/web/highlight.js`).

How, without a second tokeniser that could drift from the first: the original
text is cut into pieces (words, Han runs, emoji) at known offsets, and each piece
is run through `tokenize` itself; a piece whose tokens meet the query's tokens is
marked. Three refinements follow the tokeniser's rules:

- `@name` and `#tag` are tokenised with their sign (a mention is its own token);
  a tag whose whole form did not match is split at camel-case and digit
  boundaries, so "boston" marks "Boston" in "#BostonStrong".
- Chinese has no spaces and jieba cuts a run differently in a post than in a
  query, so each Han query token of two or more characters marks every place the
  run contains it; a one-character token marks only where the post's own tokens
  hold it (else 的-like characters would light up everywhere).
- Quoted phrases are matched as `search.query` matches them (normalised text,
  punctuation as one separator) on a copy of the text that remembers where each
  character came from, so the mark covers the phrase from its first to its last
  original character, punctuation between included.

Links are never marked: the tokeniser drops them.
"""

from __future__ import annotations

import html
from functools import lru_cache

import regex

from search.models import ParsedQuery
from search.query import phrase_patterns
from search.text import (
    _patterns,  # the tokeniser's own link pattern, so both agree
    tokenize,
)
from search.text.normalize import clean, fold

Span = tuple[int, int]

# The tokeniser's piece rules (`search.text.tokenize._PIECES`) read on raw text:
# invisible format characters (zero-width joiners, soft hyphens) inside a word or a
# Han run are part of it, because `clean` deletes them before tokenising.
_PIECES = regex.compile(
    r"(?P<han>\p{Han}(?:[\p{Han}\p{Cf}]*\p{Han})?)"
    r"|(?P<word>(?:[[\p{L}\p{M}\p{N}]--\p{Han}]|(?<=\p{N})[.,](?=\p{N})"
    r"|(?<=[\p{L}\p{N}])['\u2019](?=\p{L})|(?<=[\p{L}\p{M}\p{N}])\p{Cf}(?=[\p{L}\p{M}\p{N}]))+)"
    r"|(?P<emoji>\p{RI}\p{RI}|\p{Extended_Pictographic})",
    flags=regex.V1,
)
_URL = regex.compile(_patterns.URL, flags=regex.V1)
_HAN = regex.compile(r"\p{Han}")
# A mention or hashtag sign where the tokeniser would see one (not inside an e-mail).
_SIGN = regex.compile(_patterns.NOT_AFTER_WORD + r"[@#]", flags=regex.V1)
# Hashtag parts, as `tokenize` splits them: camelCase, ACRONYMWord, letter/digit, underscore.
_TAG_PART = regex.compile(r"\p{Lu}?\p{Ll}+|\p{Lu}+(?!\p{Ll})|\p{N}+|[\p{L}\p{M}]+")
# Phrase comparison units: an HTML entity (decoded as the matcher decodes the whole
# text) or one grapheme, so a composed accent stays with its letter.
_UNITS = regex.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);|\X")
_KEEP = regex.compile(r"[\p{L}\p{M}\p{N}\p{Extended_Pictographic}]")
_REPEAT = regex.compile(r"(\p{L})\1{2,}")


def highlight_spans(text: str, query: ParsedQuery) -> list[Span]:
    """Spans of `text` that match `query`'s searched words or its phrases."""
    wanted = frozenset(tokenize(query.text))
    spans: list[Span] = []
    if wanted:
        spans.extend(_token_spans(text, wanted))
    if query.phrases:
        spans.extend(_phrase_spans(text, query.phrases))
    return _merge(spans)


@lru_cache(maxsize=65536)
def _tokens(piece: str) -> frozenset[str]:
    """A piece's tokens; cached because the same words recur post after post."""
    return frozenset(tokenize(piece))


def _token_spans(text: str, wanted: frozenset[str]) -> list[Span]:
    links = [m.span() for m in _URL.finditer(text)]
    han_wanted = [t for t in wanted if _HAN.search(t)]
    out: list[Span] = []
    for match in _PIECES.finditer(text):
        start, end = match.span()
        if any(a <= start < b for a, b in links):
            continue
        if match["han"] is not None:
            out.extend(_han_spans(match["han"], start, han_wanted))
            continue
        piece = match[0]
        sign = _SIGN.match(text, start - 1) if start else None
        if match["word"] is not None and sign:
            whole = _tokens(sign[0] + piece)
            if sign[0] == "@":
                if whole & wanted:
                    out.append((start - 1, end))
                continue
            if _tokens(piece) & wanted:  # the tag's whole word
                out.append((start - 1, end))
                continue
            if whole & wanted:
                out.extend((start + m.start(), start + m.end()) for m in _TAG_PART.finditer(piece)
                           if _tokens(m[0]) & wanted)
            continue
        if _tokens(piece) & wanted:
            out.append((start, end))
    return out


def _han_spans(run: str, offset: int, wanted: list[str]) -> list[Span]:
    """Occurrences of Han query tokens in a run (offsets in the original text)."""
    if not wanted:
        return []
    # The run as the tokeniser sees it, with each character's original position:
    # NFKC maps a Han character to one character (compatibility ideographs to
    # unified ones); invisible characters are dropped.
    chars: list[str] = []
    where: list[int] = []
    for i, char in enumerate(run):
        folded = clean(char)
        if folded:
            chars.append(folded[0])
            where.append(offset + i)
    seen = "".join(chars)
    own = _tokens(seen)
    out: list[Span] = []
    for token in wanted:
        if len(token) == 1 and token not in own:
            continue
        at = seen.find(token)
        while at >= 0:
            out.append((where[at], where[at + len(token) - 1] + 1))
            at = seen.find(token, at + 1)
    return out


def _phrase_spans(text: str, phrases: tuple[str, ...]) -> list[Span]:
    form, starts, ends = _mapped_phrase_form(text)
    out: list[Span] = []
    for pattern in phrase_patterns(phrases):
        for match in pattern.finditer(form):
            if match.end() > match.start():
                out.append((starts[match.start()], ends[match.end() - 1]))
    return out


def _mapped_phrase_form(text: str) -> tuple[str, list[int], list[int]]:
    """`search.query.phrase_form(text)` built unit by unit, with each character's
    original start and end, so a phrase found in it maps back to the text."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pending_space = False
    for unit in _UNITS.finditer(text):
        for char in fold(clean(html.unescape(unit[0]))):
            if not _KEEP.match(char):
                pending_space = bool(chars)
                continue
            if pending_space:
                chars.append(" ")
                starts.append(unit.start())
                ends.append(unit.start())
                pending_space = False
            chars.append(char)
            starts.append(unit.start())
            ends.append(unit.end())
    form = "".join(chars)
    # `fold` cuts letter runs to two ("soooo" -> "soo"); the second kept letter
    # stands for the rest of the run.
    for match in reversed(list(_REPEAT.finditer(form))):
        a, b = match.start() + 2, match.end()
        ends[a - 1] = ends[b - 1]
        del starts[a:b], ends[a:b]
        form = form[:a] + form[b:]
    return form, starts, ends


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
