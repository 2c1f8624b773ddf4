"""A language guess from the writing system alone: cheap, offline, and right
where it matters here.

The corpus is Chinese (Weibo) and English (Twitter, Reddit), and their scripts
tell them apart without a model. Other scripts map to their main language
("ru" for Cyrillic, "ar" for Arabic script): a label good enough to filter on,
not a linguistic claim. Latin text is "en": a statistical detector would tell
Spanish from English, but on tweet-length text it also mislabels a good share
of English, and nothing downstream treats the other Latin languages differently.
"""

from __future__ import annotations

import regex

from search.text import _patterns

# URLs would count as Latin letters, mentions are names: neither says what a
# post is written in. Hashtags do, so only their "#" goes (with the punctuation).
_NOISE = regex.compile(
    rf"{_patterns.URL}|{_patterns.NOT_AFTER_WORD}@{_patterns.MENTION_NAME}", flags=regex.V1
)

# Script -> language. Kana and Hangul are handled apart because Japanese and
# Korean text also contains Han characters.
_SCRIPT_LANG = {
    "Latin": "en",
    "Cyrillic": "ru",
    "Arabic": "ar",
    "Hebrew": "he",
    "Greek": "el",
    "Thai": "th",
    "Devanagari": "hi",
    "Bengali": "bn",
    "Tamil": "ta",
    "Telugu": "te",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Gujarati": "gu",
    "Gurmukhi": "pa",
    "Sinhala": "si",
    "Armenian": "hy",
    "Georgian": "ka",
    "Ethiopic": "am",
    "Khmer": "km",
    "Lao": "lo",
    "Myanmar": "my",
    "Tibetan": "bo",
}
_SCRIPTS = regex.compile(
    "|".join(
        rf"(?P<{name}>\p{{Script={name}}}+)"
        for name in ("Han", "Hiragana", "Katakana", "Hangul", *_SCRIPT_LANG)
    )
)
# Chinese and English are compared in words: a Chinese word is ~1.5 characters;
# an English word is a run of 2+ Latin letters not glued to digits ("iPhone6s"
# and "5se" are model names, not English) and ~4.5 letters long. So when
# scripts are weighed by letters, one Han character counts as three.
_HAN_CHARS_PER_WORD = 1.5
_HAN_WEIGHT = 3
_LATIN_WORD = regex.compile(r"(?<![\p{L}\p{N}])\p{Script=Latin}{2,}(?![\p{L}\p{N}])")
# "mul" needs each language to have MIXED_MIN_WORDS words and this share of
# them: product names in a Chinese post ("iPhone SE", "Galaxy S7") leave it
# Chinese; a sentence of each makes it mixed. Tuned on the Weibo posts.
MIXED_MIN_SHARE = 0.4
MIXED_MIN_WORDS = 4
# Kana share of the CJK characters from which Han-and-kana text is Japanese;
# a stray "の" in a long Chinese post is decoration.
JAPANESE_MIN_KANA_SHARE = 0.1


def detect_lang(text: str) -> str:
    """Lowercase code: "zh", "en", "mul" (Chinese + English), "ja", "ko", "ru", ...;
    "und" when the text has no letters to go by (only emoji, links, numbers)."""
    text = _NOISE.sub(" ", text)
    letters: dict[str, int] = {}
    for match in _SCRIPTS.finditer(text):
        script = match.lastgroup or ""
        letters[script] = letters.get(script, 0) + len(match.group())
    kana = letters.pop("Hiragana", 0) + letters.pop("Katakana", 0)
    han = letters.pop("Han", 0)
    hangul = letters.pop("Hangul", 0)
    if kana and kana >= JAPANESE_MIN_KANA_SHARE * (kana + han):
        return "ja"
    if hangul and hangul >= han:
        return "ko"  # Korean may carry Hanja, and is written mostly in Hangul
    if han and "Latin" in letters and _is_mixed(han / _HAN_CHARS_PER_WORD, text):
        return "mul"
    best = max(letters, key=letters.__getitem__, default=None)
    if best is None or _HAN_WEIGHT * han >= letters[best]:
        return "zh" if han else "und"
    return _SCRIPT_LANG[best]


def _is_mixed(zh_words: float, text: str) -> bool:
    en_words = len(_LATIN_WORD.findall(text))
    fewer = min(zh_words, en_words)
    return fewer >= MIXED_MIN_WORDS and fewer >= MIXED_MIN_SHARE * (zh_words + en_words)
