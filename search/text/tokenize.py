"""The one tokeniser for the lexical (BM25) side, at index and at query time.

Index and query must agree token for token, so there is exactly one entry
point, `tokenize`, and its behaviour is versioned: `fingerprint()` changes when
the rules, the user dictionary, the stopwords or jieba change, and the lexical
model id carries it, so an index built by another tokeniser is refused rather
than silently half-matching.

Rules, in order:
- HTML entities are decoded (tweets arrive with "&amp;"), then `clean` (NFKC,
  invisible characters gone; case kept for hashtag splitting).
- "RT @user:" retweet prefixes go: they name the retweeter's source, not the topic.
- URLs go, domain included. Posts carry shortened links (t.co, t.cn, bit.ly),
  so the domain is nearly always the shortener: a near-universal token that only
  lengthens documents. Searching by site belongs in a payload filter.
- "@name" stays one token, so a mention never matches a word ("@nasa" vs "nasa").
- Hashtags give the whole tag plus its parts: "#BostonStrong" -> bostonstrong,
  boston, strong; Weibo's "#深圳禁摩限电#" (recognised only in posts that contain
  Chinese, where that style is used) -> 深圳禁摩限电, 深圳, 禁摩, 限电.
- Chinese runs go to jieba (precise mode, HMM on, our user dictionary); other
  letters and digits form words ("pm2.5" and "1,000" -> "1000" stay whole);
  each emoji is one token (skin tones dropped, flags kept whole); punctuation goes.
- Stopwords go (`_stopwords`); ASCII words are stemmed with Snowball English.
"""

from __future__ import annotations

import html
import importlib.metadata
import logging
import threading
import zlib
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path

import jieba
import regex
from snowballstemmer.english_stemmer import EnglishStemmer

from search.text import _patterns, _stopwords
from search.text.normalize import clean, fold

# Bump when a rule in this module changes what tokens come out.
TOKENIZER_VERSION = "1"

USERDICT_PATH = Path(__file__).with_name("userdict.txt")
_JIEBA_CACHE_DIR = Path.home() / ".cache" / "trendsearch" / "jieba"

_RT = rf"{_patterns.NOT_AFTER_WORD}(?i:rt)\s*@{_patterns.MENTION_NAME}\s*:?"
_MENTION = rf"{_patterns.NOT_AFTER_WORD}@(?P<mention>{_patterns.MENTION_NAME})"
_WEIBO_TAG = r"\#(?P<weibo>[^\#\s](?:[^\#\r\n]{0,58}[^\#\s])?)\#"
_HASHTAG = _patterns.NOT_AFTER_WORD + r"\#(?P<tag>[\p{L}\p{M}\p{N}_]+)"
_ENTITIES_PLAIN = regex.compile(
    rf"(?P<url>{_patterns.URL})|(?P<rt>{_RT})|{_MENTION}|{_HASHTAG}", flags=regex.V1
)
_ENTITIES_WEIBO = regex.compile(
    rf"(?P<url>{_patterns.URL})|(?P<rt>{_RT})|{_MENTION}|{_WEIBO_TAG}|{_HASHTAG}", flags=regex.V1
)
_HAN = regex.compile(r"\p{Han}")
# Letters, marks (Devanagari, Thai vowel signs) and digits, not Han; digits may
# hold "." or "," ("2.5", "1,000") and words an apostrophe ("don't", "obama's").
_PIECES = regex.compile(
    r"(?P<han>\p{Han}+)"
    r"|(?P<word>(?:[[\p{L}\p{M}\p{N}]--\p{Han}]|(?<=\p{N})[.,](?=\p{N})"
    r"|(?<=[\p{L}\p{N}])['\u2019](?=\p{L}))+)"
    r"|(?P<emoji>\p{RI}\p{RI}|\p{Extended_Pictographic})",
    flags=regex.V1,
)
# Where a hashtag splits: camelCase, ACRONYMWord, letter/digit, underscore.
_TAG_SPLIT = regex.compile(
    r"(?<=\p{Ll})(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})|(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})|_"
)
_NOT_WORD = regex.compile(r"[^\p{L}\p{M}\p{N}]+")

_jieba_lock = threading.Lock()
_jieba: jieba.Tokenizer | None = None


def tokenize(text: str) -> list[str]:
    """Tokens of `text` for BM25; never raises on any string."""
    text = clean(html.unescape(text))
    entities = _ENTITIES_WEIBO if _HAN.search(text) else _ENTITIES_PLAIN
    tokens: list[str] = []
    start = 0
    for match in entities.finditer(text):
        tokens.extend(_plain(text[start : match.start()]))
        start = match.end()
        if match["mention"] is not None:
            tokens.append("@" + fold(match["mention"]))
        elif match["tag"] is not None:
            tokens.extend(_hashtag(match["tag"]))
        elif match.groupdict().get("weibo") is not None:
            tokens.extend(_hashtag(match["weibo"]))
    tokens.extend(_plain(text[start:]))
    return tokens


@cache
def fingerprint() -> str:
    """Short id of everything that decides the tokens, for the lexical model id."""
    parts = [
        TOKENIZER_VERSION,
        jieba.__version__,
        USERDICT_PATH.read_text(encoding="utf-8"),
        " ".join(sorted(_stopwords.ALL)),
        _STEMMER_ID,
    ]
    return f"{TOKENIZER_VERSION}.{zlib.crc32(chr(0).join(parts).encode('utf-8')):08x}"


def _plain(text: str) -> Iterator[str]:
    """Tokens of text that holds no entities (URLs, mentions, hashtags)."""
    for match in _PIECES.finditer(fold(text)):
        if match["han"] is not None:
            for word in _segmenter().cut(match["han"], HMM=True):
                if word not in _stopwords.CHINESE:
                    yield word
        elif match["word"] is not None:
            word = _word(match["word"])
            if word:
                yield word
        else:
            yield match["emoji"]


def _word(raw: str) -> str:
    """Stopword-free, stemmed form of one word or whole tag; "" to drop it."""
    word = raw.replace(",", "").replace("\u2019", "'").removesuffix("'s").replace("'", "")
    if word in _stopwords.ALL:
        return ""
    return _stem(word) if word.isascii() and word.isalpha() else word


def _hashtag(raw: str) -> list[str]:
    """The whole tag as one token, then its parts, without repeating the whole."""
    whole = _word(_NOT_WORD.sub("", fold(raw)))
    parts = list(_plain(_TAG_SPLIT.sub(" ", raw)))
    if parts == [whole]:
        return parts
    return ([whole] if whole else []) + parts


def _segmenter() -> jieba.Tokenizer:
    """A private jieba, built once on first use.

    Private because jieba's global `dt` is shared process-wide: another
    module's `add_word` would change our tokens between index and query time.
    Loading takes about a second, so it waits until Chinese text shows up; the
    lock keeps two threads from building it twice.
    """
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                _jieba = _build_segmenter()
    return _jieba


def _build_segmenter() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)  # init logs "Building prefix dict..." to stderr
    segmenter = jieba.Tokenizer()
    segmenter.tmp_dir = _jieba_cache_dir()
    segmenter.initialize()
    for line in USERDICT_PATH.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            freq = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
            segmenter.add_word(fields[0], freq)
    return segmenter


def _jieba_cache_dir() -> str | None:
    """Our cache folder for jieba's ~9 MB prefix-dict cache, so /tmp stays clean.

    None (jieba's default, the system temp folder) when home is read-only:
    jieba still works there, and a tokeniser must not fail over a cache.
    """
    try:
        _JIEBA_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return str(_JIEBA_CACHE_DIR)


# Snowball English, measured with plain BM25 (k1=1.2, b=0.75) against no
# stemming: crisislex6 nDCG@10 0.962 -> 0.988, Recall@1000 0.163 -> 0.181;
# tweeteval_stance nDCG@10 0.840 -> 0.844, Recall@1000 0.158 -> 0.169. A
# plural-only stemmer reached 0.973 / 0.181 and 0.840 / 0.163.
# The pure-Python class is imported by name: `snowballstemmer.stemmer()` would
# switch to PyStemmer's C build when installed, whose Snowball release may differ.
_STEMMER_ID = f"snowball-english-{importlib.metadata.version('snowballstemmer')}"
_stemmer = EnglishStemmer()
_stemmer_lock = threading.Lock()  # the stemmer keeps its cursor on the instance


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    with _stemmer_lock:
        return str(_stemmer.stemWord(word))
