"""Queries as people type them into a newsroom search box.

    flood "state of emergency" -sport #BostonStrong 「深圳禁摩」 -深圳

Words and hashtags are searched as they are (the tokeniser already splits
`#BostonStrong` and `#深圳禁摩#`). A quoted phrase must occur in the post, in
that order; its words are also searched. `-term` drops posts containing the
term; `-"two words"` drops posts containing both words. Anything that does not
parse as syntax is literal text, never an error: an unbalanced quote, a lone
`-`, a hyphen inside a word (`e-bike`, `COVID-19`), a negative number (`-5`).

Exact matching runs in two places, so that neither can silently shrink a page:
Qdrant filters on the `terms` payload field (`post_terms`, written with every
point; `term_filter`, what a query asks of it), and the pipeline then checks
phrase order in Python on the survivors.
Chinese has no spaces and jieba segments a phrase differently alone than in a
sentence (in 400 sampled Weibo posts, half of the 2-4 character substrings got
a token the post itself did not have), so for Han text `terms` holds character
unigrams and bigrams instead of jieba's words: any substring's bigrams are in
its post, and `-深圳` drops "深圳市" too.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable

import regex

from search.contracts import TermFilter
from search.errors import FieldError
from search.models import ParsedQuery
from search.text import normalize, tokenize
from search.text.normalize import clean

# Opening quote -> the characters that close it. Curly quotes arrive in both
# orders from phone keyboards and word processors; NFKC (`clean`) has already
# turned full-width ＂ into ".
QUOTES: dict[str, str] = {
    '"': '"', "\u201c": "\u201d\u201c", "\u201e": "\u201c\u201d", "\u201d": "\u201d",
    "\u300c": "\u300d", "\u300e": "\u300f", "\u00ab": "\u00bb",
}
_HAN = regex.compile(r"\p{Han}+")
_SEARCHABLE = regex.compile(r"[\p{L}\p{N}\p{Extended_Pictographic}]")
# Phrases compare word by word: punctuation and spaces are one separator, so
# "e-bike" matches "e bike" and "Calgary, flooding" matches "calgary flooding".
_SEPARATORS = regex.compile(r"[^\p{L}\p{M}\p{N}\p{Extended_Pictographic}]+")
# Scripts written with spaces need a word boundary at a phrase's edge ("rain"
# must not match "rainbow"); Chinese, Japanese and Thai are written without.
_SPACED = r"[[\p{L}\p{M}\p{N}]--[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}]]"
_SPACED_CHAR = regex.compile(_SPACED, flags=regex.V1)


def parse_query(query: str) -> ParsedQuery:
    """Split a search-box query into text, phrases and exclusions.

    Raises `FieldError("query", ...)` when nothing is left to search for.
    """
    source = clean(query)
    words: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    buf = ""
    pos = 0
    while pos < len(source):
        char = source[pos]
        close = _closing(source, pos)
        if close is not None:
            content = " ".join(source[pos + 1:close].split())
            if buf != "-":  # `-"a b"` excludes the phrase; `said"x"` is a word and a phrase
                _add_word(buf, words, excluded)
            if content and buf == "-":
                _add_term(content, words, excluded)
            elif content:
                phrases.append(content)
                words.append(content)
            buf = ""
            pos = close + 1
            continue
        if char.isspace():
            _add_word(buf, words, excluded)
            buf = ""
        else:
            buf += char
        pos += 1
    _add_word(buf, words, excluded)
    text = " ".join(words)
    if not _SEARCHABLE.search(text):
        if excluded:
            raise FieldError("query", (
                f"`-{excluded[0]}` only says what to leave out; add a word or a \"phrase\" to "
                f"search for"))
        raise FieldError("query", (
            "nothing to search for: the query has no words once quotes and -exclusions are "
            "taken out"))
    return ParsedQuery(text=text, phrases=tuple(phrases), excluded=tuple(excluded))


def _closing(source: str, pos: int) -> int | None:
    """Index of the quote closing the one at `pos`, or None (then it is literal)."""
    closers = QUOTES.get(source[pos])
    if closers is None:
        return None
    found = [i for i in (source.find(c, pos + 1) for c in closers) if i >= 0]
    return min(found, default=None)


def _add_word(word: str, words: list[str], excluded: list[str]) -> None:
    """A `-term` excludes when it names something searchable: `-5`, `--`, a lone `-`
    and `-the` (a stop word, no term to match) stay literal text."""
    if not word:
        return
    term = word[1:]
    if word.startswith("-") and term[:1] not in ("", "-") and not term[0].isdigit():
        _add_term(term, words, excluded)
    else:
        words.append(word)


def _add_term(term: str, words: list[str], excluded: list[str]) -> None:
    if term_keys(term):
        excluded.append(term)
    else:
        words.append(f"-{term}")


# -- exact matching -------------------------------------------------------------

def post_terms(text: str) -> list[str]:
    """The `terms` payload of a post, sorted and unique: whatever `term_keys` may
    ask of a text containing the phrase or term.

    That is its tokens twice over: as indexed (case kept: `#BostonStrong` gives
    boston, strong) and lowercased, as queries are read (`#iPhone SE#` gives
    iphon, which the case-kept split into i, phone misses); and its Han text as
    character unigrams and bigrams (see the module docstring).
    """
    folded = normalize(html.unescape(text))
    keys = {token for token in tokenize(text) if not _HAN.search(token)}
    keys.update(tokenize(_HAN.sub(" ", folded)))
    for run in _HAN.findall(folded):
        keys.update(run)
        keys.update(run[i:i + 2] for i in range(len(run) - 1))
    return sorted(keys)


def term_keys(term: str) -> list[str]:
    """The `terms` a post must hold to contain `term` (a phrase or an excluded term).

    Tokenised lowercased, so `#BOSTONSTRONG` and `#BostonStrong` ask for the same
    keys (camel-case splitting depends on case); Han runs give their bigrams, or
    the character itself when it stands alone.
    """
    folded = normalize(html.unescape(term))
    keys = tokenize(_HAN.sub(" ", folded))
    for run in _HAN.findall(folded):
        keys.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    return list(dict.fromkeys(keys))


def term_filter(query: ParsedQuery) -> TermFilter | None:
    """The exact-match part of a query, as keys of the `terms` payload field."""
    if not query.phrases and not query.excluded:
        return None
    require = [key for phrase in query.phrases for key in term_keys(phrase)]
    return TermFilter(require=tuple(dict.fromkeys(require)),
                      exclude=tuple(tuple(term_keys(term)) for term in query.excluded))


def phrase_form(text: str) -> str:
    """Normalised text with every run of punctuation and spaces as one space."""
    return " ".join(_SEPARATORS.split(normalize(html.unescape(text)))).strip()


def phrase_patterns(phrases: Iterable[str]) -> list[regex.Pattern[str]]:
    """One pattern per phrase, to search a `phrase_form` text with: on word
    boundaries where the script has them. Shared by the matcher and highlighting."""
    patterns = []
    for phrase in phrases:
        form = phrase_form(phrase)
        if not form:
            continue
        head = f"(?<!{_SPACED})" if _SPACED_CHAR.match(form[0]) else ""
        tail = f"(?!{_SPACED})" if _SPACED_CHAR.match(form[-1]) else ""
        patterns.append(regex.compile(head + regex.escape(form) + tail, flags=regex.V1))
    return patterns


def phrase_matcher(phrases: Iterable[str]) -> Callable[[str], bool]:
    """A test that a post's text holds every phrase, in order, on word boundaries
    where the script has them."""
    patterns = phrase_patterns(phrases)
    if not patterns:
        return lambda _text: True

    def matches(text: str) -> bool:
        form = phrase_form(text)
        return all(p.search(form) for p in patterns)

    return matches
