"""One canonical form of post text, so that index and query time agree.

Social posts spell the same word many ways: full-width ＡＢＣ１２３ from Chinese
input methods, invisible zero-width joiners pasted from other apps, shouting
("SOOOO"), stray line breaks. Folding them here means the tokeniser, language
detection and any exact-match logic see one spelling.

The steps are split in two because hashtag splitting (#BostonStrong -> boston,
strong) needs case, which `normalize` folds away: the tokeniser runs `clean`
first, finds its entities, then folds each piece with `fold`.
"""

from __future__ import annotations

import unicodedata

import regex

# Cf: zero-width space/joiners, BOM, bidi marks, soft hyphen, tag characters.
# Cs: lone surrogates, which Python strings may hold but UTF-8 cannot encode.
# Variation selectors only pick text vs emoji glyphs ("❤" vs "❤️"): same meaning.
_INVISIBLE = regex.compile(r"[\p{Cf}\p{Cs}\uFE00-\uFE0F\U000E0100-\U000E01EF]+")
# Other control characters would glue or split words unpredictably; make them spaces.
_CONTROL = regex.compile(r"[\p{Cc}--\s]+", flags=regex.V1)
# Letters only: "soooo" -> "soo", "哈哈哈哈" -> "哈哈"; digits ("1000") are left alone.
_REPEATS = regex.compile(r"(\p{L})\1{2,}")
# Casefold + NFKC settles in one or two rounds on real text; the cap only
# guarantees termination on adversarial input.
_MAX_FOLD_ROUNDS = 4


def clean(text: str) -> str:
    """NFKC plus removal of invisible and control characters; case is kept.

    NFKC maps full-width letters, digits and punctuation to their ASCII forms
    and ligatures to letters, which is what users mean when they type them.
    """
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    return unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """Casefold and shorten letter runs of an already `clean` text.

    NFKC is applied again after casefolding because casefolding can produce
    sequences that NFKC would compose (and vice versa); repeating until stable
    keeps `normalize` idempotent for any input.
    """
    for _ in range(_MAX_FOLD_ROUNDS):
        folded = _REPEATS.sub(r"\1\1", unicodedata.normalize("NFKC", text.casefold()))
        if folded == text:
            break
        text = folded
    return text


def normalize(text: str) -> str:
    """Canonical, idempotent form: NFKC, casefolded, invisible characters gone,
    letters repeated three or more times cut to two, whitespace collapsed."""
    return " ".join(fold(clean(text)).split())
