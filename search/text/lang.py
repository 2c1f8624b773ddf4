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

# URLs would count as Latin letters, mentions are names: neither says what a
# post is written in. Hashtags do, so only their "#" goes (with the punctuation).
XX@[\p{L}\p{N}_-]+")

# Script -> language. Kana and Hangul are handled apart because Japanese and
# Korean text also contains Han characters.
_SCRIPT_LANG = {
    "Latin": "en", "Cyrillic": "ru", "Arabic": "ar", "Hebrew": "he", "Greek": "el",
    "Thai": "th", "Devanagari": "hi", "Bengali": "bn", "Tamil": "ta", "Telugu": "te",
    "Kannada": "kn", "Malayalam": "ml", "Gujarati": "gu", "Gurmukhi": "pa",
    "Sinhala": "si", "Armenian": "hy", "Georgian": "ka", "Ethiopic": "am",
    "Khmer": "km", "Lao": "lo", "Myanmar": "my", "Tibetan": "bo",
}
_SCRIPTS = regex.compile(
    "|".join(
        rf"(?P<{name}>\p{{Script={name}}}+)"
        for name in ("Han", "Hiragana", "Katakana", "Hangul", *_SCRIPT_LANG)
    )
)
# One Han character carries about what three Latin letters do (a Chinese word
# is ~1.5 characters, an English one ~5 letters), so Han counts three times.
_HAN_WEIGHT = 3
# "mul" needs Chinese and English each to carry this share of the weighted
# letters, and each at least MIXED_MIN_LETTERS of them: a product name
# ("iPhone SE") in a Chinese post is still Chinese; a sentence of each is mixed.
MIXED_MIN_SHARE = 0.3
MIXED_MIN_LETTERS = 12
# Kana share of the CJK characters above which Han-and-kana text is Japanese;
# a stray "の" in a Chinese post is decoration.
JAPANESE_MIN_KANA_SHARE = 0.1


def detect_lang(text: str) -> str:
    """Lowercase code: "zh", "en", "mul" (Chinese + English), "ja", "ko", "ru", ...;
    "und" when the text has no letters to go by (only emoji, links, numbers)."""
    letters: dict[str, int] = {}
    for match in _SCRIPTS.finditer(_NOISE.sub(" ", text)):
        script = match.lastgroup or ""
        letters[script] = letters.get(script, 0) + len(match.group())
    if not letters:
        return "und"
    kana = letters.pop("Hiragana", 0) + letters.pop("Katakana", 0)
    han = letters.pop("Han", 0)
    if kana >= max(1.0, JAPANESE_MIN_KANA_SHARE * (kana + han)):
        return "ja"
    if letters.get("Hangul", 0) >= han > 0 or (han == 0 and "Hangul" in letters):
        return "ko"  # Korean may carry Hanja; compared by raw count on purpose
    letters.pop("Hangul", None)
    weighted_han = _HAN_WEIGHT * han
    latin = letters.get("Latin", 0)
    if min(weighted_han, latin) >= max(
        MIXED_MIN_LETTERS, MIXED_MIN_SHARE * (weighted_han + latin)
    ):
        return "mul"
    best = max(letters, key=letters.__getitem__, default=None)
    if best is None or weighted_han >= letters[best]:
        return "zh"
    return _SCRIPT_LANG[best]
