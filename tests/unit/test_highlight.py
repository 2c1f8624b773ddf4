"""Highlight spans: code-point offsets of the original text, for every script we index."""

from __future__ import annotations

import pytest

from search.highlight import highlight_spans
from search.query import parse_query


def marked(text: str, query: str) -> list[str]:
    spans = highlight_spans(text, parse_query(query))
    assert spans == sorted(spans) and all(0 <= a < b <= len(text) for a, b in spans)
    return [text[a:b] for a, b in spans]


@pytest.mark.parametrize(("text", "query", "expected"), [
    # Snowball stems: the query's "flooding" matched "floods" and "flooded" in BM25.
    ("Floods hit Calgary; FLOODING everywhere, flooded roads", "flooding",
     ["Floods", "FLOODING", "flooded"]),
    # Stop words were never searched, so they are never marked.
    ("The flood of the year", "the flood", ["flood"]),
    # Full-width letters from Chinese input methods fold to ASCII (NFKC).
    ("ＦＬＯＯＤ warning in ｃａｌｇａｒｙ", "flood calgary", ["ＦＬＯＯＤ", "ｃａｌｇａｒｙ"]),
    # Chinese: jieba cuts the query into 深圳/禁摩/限电; touching matches join.
    ("深圳禁摩限电今起实施，快递小哥怎么办？#深圳禁摩#", "深圳禁摩限电", ["深圳禁摩限电", "深圳禁摩"]),
    ("电动车被扣了，深圳交警说禁摩限电不是一刀切", "深圳 电动车", ["电动车", "深圳"]),
    # Mixed Chinese and English in one post and one query.
    ("深圳 motorbike ban 禁摩 is hurting delivery workers", "深圳 motorbikes 禁摩",
     ["深圳", "motorbike", "禁摩"]),
    # Hashtag parts and mentions, as the tokeniser splits them; links never.
    ("#BostonStrong @nasa says http://t.co/flood", "boston @nasa flood", ["Boston", "@nasa"]),
    ("@nasa tweets", "nasa", []),  # "@nasa" is its own token: the word nasa did not match it
    # An invisible zero-width space inside a word is part of the word.
    ("Flo\u200bod now", "flood", ["Flo\u200bod"]),
    # Excluded terms are not marked.
    ("flood and sport", "flood -sport", ["flood"]),
])
def test_terms(text: str, query: str, expected: list[str]) -> None:
    assert marked(text, query) == expected


def test_emoji_offsets_are_code_points() -> None:
    text = "🔥🔥 fire in 深圳 today 🔥"
    spans = highlight_spans(text, parse_query("🔥 深圳"))
    assert spans == [(0, 2), (11, 13), (20, 21)]
    # UTF-16 (JavaScript) offsets differ: each 🔥 is two code units there.
    assert len("🔥".encode("utf-16-le")) // 2 == 2


@pytest.mark.parametrize(("text", "query", "expected"), [
    ("We need a state of emergency, now! State-of-emergency declared", '"state of emergency"',
     ["state of emergency", "State-of-emergency"]),
    ("the e-bike ban; e bike riders", '"e-bike"', ["e-bike", "e bike"]),
    ("说深圳禁摩 flood😀x", '"深圳禁摩 flood"', ["深圳禁摩 flood"]),
    ("深圳禁摩限电", "「禁摩」", ["禁摩"]),
    ("Soooo much rain", '"sooo much"', ["Soooo much"]),
    ("a &amp; b", '"a & b"', ["a &amp; b"]),
    ("rainbow", '"rain"', []),  # Latin phrases match whole words, as the filter does
])
def test_phrases_are_marked_whole_on_the_original_text(text: str, query: str,
                                                      expected: list[str]) -> None:
    assert marked(text, query) == expected


@pytest.mark.parametrize(("text", "query", "expected"), [
    # The dense model finds a Chinese post for an English query: no word of the query is
    # in it, so nothing is marked (the page says "found by meaning").
    ("今年春节深圳市区禁止燃放烟花爆竹，违者罚款", "setting off firecrackers at Spring Festival", []),
    # A mixed post is marked by the half the query's words are in, whichever it is: the
    # marks come from the lexical tokeniser, never from which half the dense model read.
    ("iPhone SE 发布了，价格 3288 元 — Apple's new small phone is cheap", "iPhone SE 价格",
     ["iPhone", "SE", "价格"]),
    ("iPhone SE 发布了，价格 3288 元 — Apple's new small phone is cheap", "cheap phone",
     ["phone", "cheap"]),
    ("iPhone SE 发布了，价格 3288 元 — Apple's new small phone is cheap", "苹果新手机多少钱", []),
    # jieba cuts 放鞭炮 differently in a post than in the query; the Han run still
    # holds the query's words, and they are marked.
    ("过年了大家放鞭炮要注意安全", "春节放鞭炮", ["放鞭炮"]),
])
def test_posts_found_by_meaning(text: str, query: str, expected: list[str]) -> None:
    assert marked(text, query) == expected
