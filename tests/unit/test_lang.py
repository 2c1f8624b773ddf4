"""`detect_lang` labels posts by writing system; the codes feed the `lang` filter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.text import detect_lang


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天天气很好，我们去公园散步吧", "zh"),
        ("Hurricane Sandy hits New Jersey", "en"),
        # Product names in a Chinese post leave it Chinese.
        ("iPhone SE手感初体验，Nice！", "zh"),
        ("三星 Galaxy S7 华为 P9 iPhone SE 都不错", "zh"),
        # A sentence in each language is mixed.
        (
            "Setting off firecrackers is a very important activity. 放鞭炮是春节期间的重要活动。",
            "mul",
        ),
        # Links and mentions say nothing about the language.
        ("http://t.cn/R5UKELs 二孩政策来了", "zh"),
        ("@BostonGlobe @CNN 加油", "zh"),
        ("😂😂👍 http://t.co/abc", "und"),
        ("@someone", "und"),
        ("12345 !!!", "und"),
        ("", "und"),
        # Hashtags do.
        ("#BostonStrong", "en"),
        # Other scripts.
        ("東京タワーに行きました", "ja"),
        ("안녕하세요 반갑습니다", "ko"),
        ("Привет, мир", "ru"),
        ("مرحبا بالعالم", "ar"),
        ("สวัสดีครับ", "th"),
        ("Γειά σου κόσμε", "el"),
        ("नमस्ते दुनिया", "hi"),
        ("שלום עולם", "he"),
        # Latin text is English unless told otherwise.
        ("Hola, ¿cómo estás?", "en"),
    ],
)
def test_detect_lang_examples(text: str, expected: str) -> None:
    assert detect_lang(text) == expected


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300))
def test_always_a_valid_code(text: str) -> None:
    code = detect_lang(text)
    assert code.islower()
    assert 2 <= len(code) <= 3
