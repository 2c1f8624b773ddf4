"""Copy signatures, grouping and collapsing: pure, no store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from search.dedup import (
    MIN_PREFIX_CHARS,
    MIN_SHINGLES,
    NEAR_JACCARD,
    Signature,
    collapse,
    group,
    near_pairs,
    shingles,
    signature,
)
from search.models import Earliest, Explain, Hit
from search.text import normalize
from tests.factories import BASE_TIME, make_post

ORIGINAL = "Flood waters rising in Calgary, evacuation ordered for downtown #yycflood"


@pytest.mark.parametrize("copy", [
    ORIGINAL,
    f"RT @CalgaryPolice: {ORIGINAL}",
    f"RT @a: RT @b_2: {ORIGINAL}",
    f'"@CalgaryPolice: {ORIGINAL}"',
    f"{ORIGINAL} http://t.co/AbC123",
    f"{ORIGINAL} https://t.co/zzz999 via @cbcnews",
    f"@someone {ORIGINAL.upper()}",
    "  flood   WATERS rising in calgary evacuation ordered for downtown #YYCFLOOD!!! 🌊🌊 ",
    ORIGINAL.replace("Flood", "Ｆｌｏｏｄ").replace(" ", "\u200b "),
    f"{ORIGINAL} &amp;",
])
def test_what_differs_between_copies_does_not_change_the_signature(copy: str) -> None:
    assert signature(copy) == signature(ORIGINAL) == Signature(
        key="flood waters rising in calgary evacuation ordered for downtown")


@pytest.mark.parametrize("text", [
    "Flood waters rising in Calgary",
    "Flood waters rising in Edmonton, evacuation ordered for downtown",
    "Calgary flood waters rising, evacuation ordered for downtown",
])
def test_other_texts_have_other_signatures(text: str) -> None:
    assert signature(text).key != signature(ORIGINAL).key


@pytest.mark.parametrize(("text", "key"), [
    ("RT @x: Flood waters rising in Calgary, evacuation ord…", "flood waters rising in calgary evacuation ord"),
    ("RT @x: Flood waters rising in Calgary, evacuation... http://t.co/abc",
     "flood waters rising in calgary evacuation"),
    ("RT @x: Flood waters rising in Calgary, evacuation ordered htt…",
     "flood waters rising in calgary evacuation ordered"),
    ("Flood waters rising in Calgary, evacuation ordered http://t. ...",
     "flood waters rising in calgary evacuation ordered"),
])
def test_a_cut_copy_is_marked_truncated_and_loses_the_partial_link(text: str, key: str) -> None:
    assert signature(text) == Signature(key=key, truncated=True)


def test_chinese_spacing_and_weibo_tags_do_not_matter() -> None:
    assert signature("#深圳禁摩限电#咋还不回复我呢 @深圳交警").key == signature(
        "# 深圳禁摩 限电# 咋还不回复我呢 @深圳交警").key == "深圳禁摩限电咋还不回复我呢"


def test_texts_without_words_get_an_empty_key() -> None:
    assert signature("http://t.co/abc 😂😂").key == ""
    assert signature("@someone").key == ""


def test_trailing_hashtags_go_only_when_enough_text_is_left() -> None:
    assert signature("#BostonStrong").key == "bostonstrong"
    assert signature("Pray #Boston").key == "pray boston"


def test_group_joins_equal_keys_and_cut_copies_to_the_best_ranked_longer_text() -> None:
    full = Signature("flood waters rising in calgary evacuation ordered for downtown")
    other = Signature("flood waters rising in calgary evacuation ordered for the weekend")
    cut = Signature("flood waters rising in calgary evacuation ord", truncated=True)
    short_cut = Signature("flood waters", truncated=True)
    assert len(short_cut.key) < MIN_PREFIX_CHARS <= len(cut.key)
    sigs = [other, full, cut, Signature(""), Signature(""), full, short_cut]
    # the cut copy joins the best-ranked text it starts: `other` (0); empty keys stay alone
    assert group(sigs) == [0, 1, 0, 3, 4, 1, 6]


def test_copies_that_gained_a_few_words_group_by_shingles() -> None:
    texts = [
        "5 to 15 people killed in Texas explosion tonight, officials say http://t.co/a",
        "Police: 5 to 15 people killed in Texas explosion tonight, officials say",
        "5 to 15 people injured in Texas explosion tonight, officials say",  # a word changed
        "#全面二胎#其实放开最大的好处是让新一代的人们更容易学会分享",
        "#全面二胎#其实放开最大的好处是让新一代的人们更容易学会分享 |铜仁·松桃",
        "Pray for Boston tonight",  # too short to judge by shingles
        "Pray for Boston tonight friends",
    ]
    assert group([signature(t) for t in texts]) == [0, 0, 2, 3, 3, 5, 6]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefgh"), min_size=3, max_size=12).map(" ".join),
                max_size=25))
def test_prefix_filtering_finds_exactly_the_similar_pairs(keys: list[str]) -> None:
    sets = [shingles(k) for k in keys]
    brute = {(i, j) for j in range(len(sets)) for i in range(j)
             if min(len(sets[i]), len(sets[j])) >= MIN_SHINGLES
             and len(sets[i] & sets[j]) >= NEAR_JACCARD * len(sets[i] | sets[j])}
    assert set(near_pairs(sets)) == brute


def hit(post_id: str, hours: int, score: float) -> Hit:
    explain = Explain(mode="relevance", fusion="rrf(k=60)", dense_rank=None, dense_score=None,
                      sparse_rank=None, sparse_score=None, fused_rank=1, fused_score=score,
                      rerank_score=None, rerank_rank=None, rerank_note="", decay=None,
                      engagement=None, final=score, models={})
    post = make_post(id=post_id, created_at=BASE_TIME + timedelta(hours=hours))
    return Hit(post=post, score=score, explain=explain)


def test_collapse_keeps_the_best_ranked_copy_and_names_the_earliest() -> None:
    hits = [hit("rt-2", 5, 0.9), hit("solo", 1, 0.8), hit("rt-1", 3, 0.7), hit("orig", 0, 0.6)]
    out = collapse(hits, {"rt-2": 0, "solo": 1, "rt-1": 0, "orig": 0})
    assert [h.post.id for h in out] == ["rt-2", "solo"]
    assert (out[0].copies, out[0].duplicate_ids) == (3, ["rt-1", "orig"])
    assert out[0].earliest == Earliest(id="orig", created_at=BASE_TIME)
    assert out[1] == hits[1] and out[1].copies == 1 and out[1].earliest is None


# -- properties -----------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=120)
NAME = st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True)
URL = st.from_regex(r"https?://t\.co/[A-Za-z0-9]{4,10}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(TEXT)
@example("0:\u06e7")  # a lone combining mark: a word to the key, once "tail" to the tail rule
def test_signature_is_idempotent_on_its_own_key_and_on_normalised_text(text: str) -> None:
    sig = signature(text)
    assert signature(sig.key).key == sig.key
    assert signature(normalize(text)).key == sig.key


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc xyz 深圳禁摩,.!?")), max_size=60), NAME, URL)
def test_retweet_prefixes_and_links_never_change_the_signature(text: str, name: str, url: str) -> None:
    sig = signature(text)
    assert signature(f"RT @{name}: {text}") == sig
    assert signature(f"{text} {url}").key == sig.key
    assert signature(f"RT @{name}: {text} {url}").key == sig.key
