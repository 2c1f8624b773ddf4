"""Topic labels: the terms that set a topic apart from its baseline (c-TF-IDF).

Terms are the lexical tokens of `search.text.tokenize` (Chinese segmented by
jieba, stop words gone, English stemmed), so a label speaks the index's own
vocabulary. A stem is shown in the spelling the topic's posts use most
("explos" is shown as "explosion", "#yycflood" keeps its "#").

c-TF-IDF (Grootendorst, BERTopic, 2022): each topic is one class, the baseline
is one more; a term weighs its share of the class's posts times
log(1 + A / f), where f counts the term's posts over all classes and A is the
average class size in terms. A term every baseline post uses gets ~0; a term
only this topic uses gets the most.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import regex

from search.text import tokenize

_WORD = regex.compile(r"#?[\p{L}\p{M}\p{N}_']+")
_HAN = regex.compile(r"\p{Han}")
_LETTER = regex.compile(r"\p{L}")


def is_label_term(term: str) -> bool:
    """Words only: no @mentions, numbers, emoji or one-letter Latin scraps."""
    if term.startswith("@") or not _LETTER.search(term):
        return False
    return bool(_HAN.search(term)) or len(term) >= 3


def post_terms(text: str) -> frozenset[str]:
    """The distinct label-worthy tokens of one post."""
    return frozenset(t for t in tokenize(text) if is_label_term(t))


@lru_cache(maxsize=200_000)
def _word_token(word: str) -> str | None:
    tokens = tokenize(word)
    return tokens[0] if len(tokens) >= 1 and not _HAN.search(word) else None


def surface_forms(texts: Iterable[str]) -> dict[str, str]:
    """Token -> its most frequent written form in `texts` (lower-cased)."""
    seen: dict[str, Counter[str]] = {}
    for text in texts:
        for word in _WORD.findall(text.lower()):
            token = _word_token(word)
            if token is not None:
                seen.setdefault(token, Counter())[word.strip("'")] += 1
    return {token: forms.most_common(1)[0][0] for token, forms in seen.items()}


def class_tfidf(classes: Sequence[Counter[str]], sizes: Sequence[int],
                background: Counter[str], background_size: int) -> list[dict[str, float]]:
    """c-TF-IDF weight of each term in each class, against the classes and the background.

    `classes[i]` counts, per term, the posts of class i that use it (document
    frequency, so one spammer repeating a word counts once); `sizes[i]` is its
    number of posts. The background is one more class.
    """
    totals: Counter[str] = Counter(background)
    for counts in classes:
        totals.update(counts)
    words_per_class = [sum(c.values()) for c in (*classes, background)]
    average = max(sum(words_per_class) / max(len(words_per_class), 1), 1.0)
    out = []
    for counts, size in zip(classes, sizes):
        out.append({term: (n / max(size, 1)) * math.log(1 + average / totals[term])
                    for term, n in counts.items()})
    return out


def top_terms(weights: dict[str, float], forms: dict[str, str], k: int,
              counts: Counter[str], min_posts: int = 2) -> list[tuple[str, str]]:
    """The k heaviest (term, as written), skipping one already said by another
    ("flood" after "#yycflood") and terms fewer than `min_posts` posts use."""
    chosen: list[tuple[str, str]] = []
    for term, _w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
        if counts[term] < min_posts:
            continue
        shown = forms.get(term, term)
        bare = shown.lstrip("#")
        if any(bare in c.lstrip("#") or c.lstrip("#") in bare for _t, c in chosen):
            continue
        chosen.append((term, shown))
        if len(chosen) == k:
            break
    return chosen
