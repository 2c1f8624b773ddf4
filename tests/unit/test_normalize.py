"""`normalize` gives one spelling per word, whatever keyboard or app typed it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.text import normalize
from search.text.normalize import clean, fold

ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200)
# Pieces that exercise each rule, mixed with arbitrary characters.
TRICKY = st.lists(
    st.sampled_from(
        [
            "Ａ",
            "１",
            "，",
            "\u200b",
            "\u200d",
            "\ufeff",
            "\u00ad",
            "ß",
            "İ",
            "ﬁ",
            "ǰ",
            "ᾳ",
            "ooo",
            "OOO",
            "哈哈哈",
            "\x00",
            "\t",
            "\u3000",
            "\ufe0f",
            "❤",
            "\ud800",
            "\u0301",
            " ",
        ]
    )
    | ANY_TEXT,
    max_size=12,
).map("".join)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width letters and digits
        ("你好，世界！", "你好,世界!"),  # full-width punctuation
        ("Hello WORLD", "hello world"),
        ("Straße", "strasse"),  # casefold, not lower
        ("zero\u200bwidth\u200c\u200djoin\ufeff", "zerowidthjoin"),
        ("soooo goooood", "soo good"),
        ("SOOOO", "soo"),
        ("哈哈哈哈哈", "哈哈"),
        ("1000000 aaa", "1000000 aa"),  # digits keep their runs
        ("  many \n\t spaces\u3000here  ", "many spaces here"),
        ("ctrl\x00char", "ctrl char"),
        ("❤️", "❤"),  # variation selector dropped
        ("ﬁne", "fine"),  # ligature
        ("", ""),
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_clean_keeps_case_for_hashtag_splitting() -> None:
    assert clean("#ＢｏｓｔｏｎStrong\u200b") == "#BostonStrong"


def test_fold_shortens_runs_after_casefolding() -> None:
    assert fold("SoOoO") == "soo"


@given(TRICKY)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(TRICKY)
def test_normalize_output_is_encodable_and_trimmed(text: str) -> None:
    out = normalize(text)
    out.encode("utf-8")  # no lone surrogates survive
    assert out == out.strip()
    assert "  " not in out
