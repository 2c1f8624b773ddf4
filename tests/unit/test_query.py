"""The search-box query syntax: phrases, -exclusions, literal fall-backs, exact-match keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.errors import FieldError
from search.models import ParsedQuery
from search.query import parse_query, phrase_form, phrase_matcher, post_terms, term_keys


@pytest.mark.parametrize(("query", "expected"), [
    ("flood evacuation", ParsedQuery("flood evacuation")),
    ('"exact words"', ParsedQuery("exact words", phrases=("exact words",))),
    ('flood "state of  emergency" Calgary',
     ParsedQuery("flood state of emergency Calgary", phrases=("state of emergency",))),
    ("flood -sport", ParsedQuery("flood", excluded=("sport",))),
    ("-sport flood -深圳", ParsedQuery("flood", excluded=("sport", "深圳"))),
    ('donate -"red cross"', ParsedQuery("donate", excluded=("red cross",))),
    ("-#BostonStrong marathon", ParsedQuery("marathon", excluded=("#BostonStrong",))),
    ("launch -@NASA", ParsedQuery("launch", excluded=("@NASA",))),
    # hyphens inside words, numbers, lone and doubled dashes are text
    ("e-bike COVID-19", ParsedQuery("e-bike COVID-19")),
    ("-e-bike bikes", ParsedQuery("bikes", excluded=("e-bike",))),
    ("-5 degrees", ParsedQuery("-5 degrees")),
    ("flood - warning", ParsedQuery("flood - warning")),
    ("--verbose flag", ParsedQuery("--verbose flag")),
    # a stop word names no term to match: not an exclusion
    ("-the flood", ParsedQuery("-the flood")),
    # unbalanced quotes are literal
    ('"flood warning', ParsedQuery('"flood warning')),
    ('"a" b "c', ParsedQuery('a b "c', phrases=("a",))),
    ('said"flood"now', ParsedQuery("said flood now", phrases=("flood",))),
    ('"" flood', ParsedQuery("flood")),
    # hashtags are plain terms
    ("#BostonStrong", ParsedQuery("#BostonStrong")),
    ("#深圳禁摩# 限电", ParsedQuery("#深圳禁摩# 限电")),
    # full-width and typographic quotes
    ("“curly quotes” and 「深圳禁摩」", ParsedQuery("curly quotes and 深圳禁摩",
                                               phrases=("curly quotes", "深圳禁摩"))),
    ("『二胎』 ＂full＂ «guillemets»", ParsedQuery("二胎 full guillemets",
                                              phrases=("二胎", "full", "guillemets"))),
    ("„low high“", ParsedQuery("low high", phrases=("low high",))),
    ("”a” b", ParsedQuery("a b", phrases=("a",))),
    ("stray ” quote", ParsedQuery("stray ” quote")),
    # invisible characters and full-width letters fold (NFKC), case is kept
    ("Ｃａｌｇａｒｙ\u200b flood", ParsedQuery("Calgary flood")),
])
def test_parse(query: str, expected: ParsedQuery) -> None:
    assert parse_query(query) == expected


NOTHING = ("nothing to search for: the query has no words once quotes and -exclusions are "
           "taken out")


@pytest.mark.parametrize(("query", "problem"), [
    ("", NOTHING),
    ("   ", NOTHING),
    ("-", NOTHING),
    ('""', NOTHING),
    ("!!! ...", NOTHING),
    ("-sport", '`-sport` only says what to leave out; add a word or a "phrase" to search for'),
    ('-"red cross" -深圳',
     '`-red cross` only says what to leave out; add a word or a "phrase" to search for'),
])
def test_nothing_to_search_for_is_a_field_error(query: str, problem: str) -> None:
    with pytest.raises(FieldError) as info:
        parse_query(query)
    assert info.value.field == "query"
    assert info.value.problem == problem


@pytest.mark.parametrize(("term", "keys"), [
    ("sport", ["sport"]),
    ("sports", ["sport"]),  # stemmed like the post side
    ("#BOSTONSTRONG", ["bostonstrong"]),  # lowercased first: no case-dependent split
    ("#BostonStrong", ["bostonstrong"]),
    ("@NASA", ["@nasa"]),
    ("e-bike", ["e", "bike"]),
    ("深圳", ["深圳"]),
    ("深圳禁摩", ["深圳", "圳禁", "禁摩"]),
    ("摩", ["摩"]),
    ("iPhone 价格", ["iphon", "价格"]),
    ("the", []),
    ("!!!", []),
])
def test_term_keys(term: str, keys: list[str]) -> None:
    assert term_keys(term) == keys


def test_post_terms_hold_tokens_and_han_grams() -> None:
    terms = post_terms("RT @x: 深圳市禁摩 sports #BostonStrong http://t.co/abc 😂")
    assert terms == sorted(terms) and len(set(terms)) == len(terms)
    assert {"sport", "bostonstrong", "boston", "strong", "😂"} <= set(terms)
    assert {"深", "圳", "市", "禁", "摩", "深圳", "圳市", "市禁", "禁摩"} <= set(terms)
    assert "深圳市" not in terms  # jieba's words are not used for Han text
    assert not {"rt", "@x", "t", "co", "abc", "http"} & set(terms)


@pytest.mark.parametrize(("phrase", "text", "matches"), [
    ("rain", "Heavy RAIN today", True),
    ("rain", "a rainbow", False),
    ("heavy rain", "heavy, rain", True),
    ("heavy rain", "rain heavy", False),
    ("e-bike", "my e bike", True),
    ("e-bike", "ebikes", False),
    ("covid-19", "COVID 19 cases", True),
    ("深圳禁摩", "#深圳禁摩限电# 开始了", True),
    ("禁摩限", "深圳禁摩限电", True),
    ("限电 电动车", "深圳禁摩限电，电动车", True),
    ("深圳禁摩", "深圳 禁摩", False),
    ("iphone", "iPhone发布了", True),
    ("state of emergency", "A State of Emergency!", True),
    ("don't", "I don’t know", True),
])
def test_phrase_matcher(phrase: str, text: str, matches: bool) -> None:
    assert phrase_matcher([phrase])(text) is matches


def test_a_post_holding_a_phrase_holds_its_keys() -> None:
    """The Qdrant pre-filter never drops a post the phrase check would keep."""
    cases = [("深圳禁摩限电，电动车车主怎么上班？", "电动车车主"), ("深圳禁摩限电", "禁摩限"),
             ("Flood waters rising in Calgary", "waters rising"), ("#BostonStrong forever", "#BOSTONSTRONG"),
             ("这条新闻太可怕了", "这条新闻")]
    for text, phrase in cases:
        assert phrase_matcher([phrase])(text)
        assert set(term_keys(phrase)) <= set(post_terms(text)), (text, phrase)


# -- properties -----------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.text(
    alphabet=st.sampled_from(list('ab "“”「」『』«»„-#@ 深圳禁摩\t')), max_size=40)


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
def test_parse_never_raises_anything_but_a_field_error(query: str) -> None:
    try:
        parsed = parse_query(query)
    except FieldError as exc:
        assert exc.field == "query"
        return
    assert parsed.text.strip() == parsed.text and parsed.text
    for phrase in parsed.phrases:
        assert phrase_form(phrase) in phrase_form(parsed.text)


WORD = st.text(alphabet=st.sampled_from(list("abcxyz深圳禁摩二胎")), min_size=1, max_size=6)
PHRASE = st.lists(WORD, min_size=1, max_size=3).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(WORD.map(lambda w: ("word", w)), PHRASE.map(lambda p: ("phrase", p)),
                          WORD.filter(lambda w: bool(term_keys(w))).map(lambda w: ("not", w))),
                min_size=1, max_size=6))
def test_composing_a_query_from_parts_parses_back_into_them(parts: list[tuple[str, str]]) -> None:
    query = " ".join(f'"{v}"' if k == "phrase" else f"-{v}" if k == "not" else v for k, v in parts)
    if all(k == "not" for k, _ in parts):
        with pytest.raises(FieldError):
            parse_query(query)
        return
    parsed = parse_query(query)
    assert parsed.text == " ".join(v for k, v in parts if k != "not")
    assert parsed.phrases == tuple(v for k, v in parts if k == "phrase")
    assert parsed.excluded == tuple(v for k, v in parts if k == "not")


@settings(max_examples=200, deadline=None)
@given(st.lists(WORD, min_size=1, max_size=8).map(" ".join))
def test_plain_text_is_its_own_query(text: str) -> None:
    assert parse_query(text) == ParsedQuery(text)
    assert parse_query(parse_query(text).text) == parse_query(text)


MIXED = st.text(alphabet=st.sampled_from(list("abcxyzABCXYZ 深圳禁摩二胎,.!-#")), max_size=30)


@settings(max_examples=400, deadline=None)
@given(MIXED, MIXED, MIXED)
def test_a_post_that_holds_a_phrase_holds_its_keys(before: str, phrase: str, after: str) -> None:
    """The Qdrant pre-filter never drops what the phrase check keeps, whatever the
    neighbours (jieba's context, hashtags, punctuation). Mentions ("@ab" is not the
    word "ab") and digit groups ("1,000") are left out: there the tokeniser is stricter."""
    text = f"{before} {phrase} {after}"
    if phrase_matcher([phrase])(text):
        assert set(term_keys(phrase)) <= set(post_terms(text))
