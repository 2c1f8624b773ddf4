"""`tokenize` is the only tokeniser of the lexical index: each rule is pinned
here, because a silent change splits index and query tokens apart."""

from __future__ import annotations

import importlib
import logging
import threading
from pathlib import Path

import jieba
import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.text import tokenize
from search.text.tokenize import TOKENIZER_VERSION, USERDICT_PATH, fingerprint

# Arbitrary unicode (surrogates included) plus the pieces each rule looks for.
POSTS = st.lists(
    st.sampled_from(
        [
            "#",
            "##",
            "@",
            "RT @a:",
            "http://t.co/x",
            "www.",
            "#深圳#",
            "#Tag",
            "的",
            "比特币",
            "😂",
            "🇺🇸",
            "👍🏽",
            "\u200d",
            "Ａ",
            "ß",
            "İ",
            "'s",
            "1,000",
            "2.5",
            "&amp;",
            " ",
            "\n",
        ]
    )
    | st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40),
    max_size=15,
).map("".join)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Chinese: jieba precise mode with our user dictionary; function words dropped.
        ("深圳禁摩限电", ["深圳", "禁摩", "限电"]),
        ("春节放鞭炮", ["春节", "放鞭炮"]),
        ("俄罗斯叙利亚反恐行动", ["俄罗斯", "叙利亚", "反恐", "行动"]),
        ("开放二胎", ["开放", "二胎"]),
        ("比特币又涨了", ["比特币", "涨"]),  # default jieba: 比特/币
        ("雾霾天气", ["雾霾", "天气"]),  # default jieba: 雾/霾
        ("的了是在和", []),
        # Mixed Chinese and English in one post.
        ("iPhone SE正式开卖", ["iphon", "se", "正式", "开卖"]),
        ("今天去Starbucks喝coffee", ["今天", "去", "starbuck", "喝", "coffe"]),
        # Hashtags: the whole tag, then its parts.
        ("#BostonStrong", ["bostonstrong", "boston", "strong"]),
        ("#boston_strong", ["bostonstrong", "boston", "strong"]),
        ("#NYCMarathon", ["nycmarathon", "nyc", "marathon"]),
        ("#Floods", ["flood"]),  # one part: not repeated
        ("#深圳禁摩限电# 支持", ["深圳禁摩限电", "深圳", "禁摩", "限电", "支持"]),
        ("#iPhoneSE# 好看", ["iphones", "phone", "se", "好看"]),
        ("今天#春节 快乐", ["今天", "春节", "快乐"]),
        # Without Chinese in the post, "#a b #c" is two Twitter tags, not one Weibo tag.
        ("#Sandy is bad #NYC", ["sandi", "bad", "nyc"]),
        # Mentions: one token, also straight after Chinese; e-mail addresses are not mentions.
        ("@CNN breaking", ["@cnn", "break"]),
        ("转发@深圳交警：注意", ["转发", "@深圳交警", "注意"]),
        ("mail foo@bar.com", ["mail", "foo", "bar", "com"]),
        # URLs go whole, and stop where Chinese text runs on.
        ("see http://t.co/AbC123 now", ["see"]),
        ("www.example.com/x?y=1 ok", ["ok"]),
        ("http://t.cn/R5UKELs二孩政策", ["二孩", "政策"]),
        # Emoji: one token each; skin tone dropped, flag kept whole, variation selector gone.
        ("love 😂😂 👍🏽 🇺🇸 ❤️", ["love", "😂", "😂", "👍", "🇺🇸", "❤"]),
        # Full-width forms, shouting, numbers.
        ("ＨＥＬＬＯ　ｗｏｒｌｄ！１２３", ["hello", "world", "123"]),
        ("soooo goooood", ["soo", "good"]),
        ("PM2.5 is 1,000 at 12:30", ["pm2.5", "1000", "12", "30"]),
        # Retweet prefixes, stopwords, possessives, contractions, entities, punctuation.
        ("RT @user: Sandy hits NJ", ["sandi", "hit", "nj"]),
        ("rt @abc hurricane", ["hurrican"]),
        ("the and of a is", []),
        ("Obama's speech didn't help", ["obama", "speech", "help"]),
        ("Tom &amp; Jerry", ["tom", "jerri"]),
        ("!!! ... ???", []),
        # Stemming: Snowball English, ASCII words only.
        ("floods flooded flooding", ["flood", "flood", "flood"]),
        ("café Привет", ["café", "привет"]),
        ("", []),
    ],
)
def test_tokenize_examples(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_every_userdict_word_stays_whole() -> None:
    words = [
        line.split()[0]
        for line in USERDICT_PATH.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(words) >= 30
    assert [w for w in words if tokenize(w) != [w]] == []


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_jieba_builds_quietly_into_our_cache_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    module = importlib.import_module("search.text.tokenize")
    monkeypatch.setattr(module, "_JIEBA_CACHE_DIR", tmp_path / "jieba")
    monkeypatch.setattr(module, "_jieba", None)
    # As on a fresh import: jieba logs its start-up to stderr at DEBUG.
    monkeypatch.setattr(jieba.default_logger, "level", logging.DEBUG)
    collect = _Collect()
    jieba.default_logger.addHandler(collect)
    try:
        assert tokenize("中文分词") == ["中文", "分词"]
    finally:
        jieba.default_logger.removeHandler(collect)
    assert (tmp_path / "jieba" / "jieba.cache").is_file()  # not in the system temp folder
    assert [r.getMessage() for r in collect.records] == []


def test_jieba_is_built_once_when_threads_race(monkeypatch: pytest.MonkeyPatch) -> None:
    module = importlib.import_module("search.text.tokenize")
    built: list[object] = []
    real_build = module._build_segmenter

    def counting_build() -> object:
        built.append(real_build())
        return built[-1]

    monkeypatch.setattr(module, "_jieba", None)
    monkeypatch.setattr(module, "_build_segmenter", counting_build)
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(tokenize("深圳禁摩限电 running")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert results == [["深圳", "禁摩", "限电", "run"]] * 8


def test_fingerprint_names_the_version() -> None:
    assert fingerprint().startswith(f"{TOKENIZER_VERSION}.")
    assert len(fingerprint()) == len(TOKENIZER_VERSION) + 9


@given(POSTS)
def test_never_raises_and_tokens_are_clean(text: str) -> None:
    tokens = tokenize(text)
    for token in tokens:
        assert token
        assert not any(ch.isspace() for ch in token)
        token.encode("utf-8")  # token ids hash the UTF-8 bytes


@given(POSTS)
def test_is_deterministic(text: str) -> None:
    assert tokenize(text) == tokenize(text)
