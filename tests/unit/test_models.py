from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.validate import to_post
from search.errors import FieldError
from search.models import MAX_TEXT_CHARS, Post

GOOD = {"id": "a1", "text": "hello", "platform": "twitter",
        "created_at": "2024-05-01T12:00:00+08:00"}


def test_a_complete_record_becomes_a_post_with_its_offset_kept() -> None:
    post = to_post({**GOOD, "likes": 3, "image_urls": ["https://x.org/a.png"], "lang": "en"})
    assert post.created_at.utcoffset().total_seconds() == 8 * 3600
    assert post.likes == 3 and post.image_urls == ["https://x.org/a.png"]


@pytest.mark.parametrize(("change", "field", "problem"), [
    ({"created_at": "2024-05-01T12:00:00"}, "created_at", "timezone"),
    ({"likes": -1}, "likes", ">= 0"),
    ({"likes": "many"}, "likes", "Expected `int`"),
    ({"image_urls": ["ftp://x.org/a.png"]}, "image_urls[0]", "must be an http:// or https:// URL"),
    ({"url": "javascript:alert(1)"}, "url", "must be an http:// or https:// URL"),
    ({"text": ""}, "text", "length >= 1"),
    ({"text": "x" * (MAX_TEXT_CHARS + 1)}, "text", f"length <= {MAX_TEXT_CHARS}"),
    ({"id": "has space"}, "id", "without spaces"),
    ({"lang": "English"}, "lang", "language code"),
    ({"colour": "red"}, "colour", "unknown field"),
])
def test_bad_fields_are_named_with_the_problem(change: dict[str, object], field: str, problem: str) -> None:
    with pytest.raises(FieldError) as info:
        to_post({**GOOD, **change}, line=7)
    assert info.value.field == field
    assert problem in info.value.problem
    assert info.value.line == 7
    assert str(info.value).startswith(f"line 7: `{field}`:")


def test_a_missing_required_field_is_named() -> None:
    record = dict(GOOD)
    del record["platform"]
    with pytest.raises(FieldError) as info:
        to_post(record)
    assert (info.value.field, info.value.problem) == ("platform", "required field is missing")


def test_language_is_detected_only_when_absent() -> None:
    assert to_post({**GOOD, "text": "深圳禁摩限电，电动车车主怎么上班"}).lang == "zh"
    assert to_post({**GOOD, "text": "深圳禁摩限电", "lang": "en"}).lang == "en"


aware = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.just(UTC))
posts = st.builds(
    Post,
    id=st.from_regex(r"[A-Za-z0-9_.:-]{1,40}", fullmatch=True),
    text=st.text(min_size=1, max_size=300),
    platform=st.sampled_from(["twitter", "weibo", "reddit"]),
    created_at=aware,
    likes=st.integers(0, 10**9), reposts=st.integers(0, 10**6), comments=st.integers(0, 10**6),
    lang=st.sampled_from([None, "en", "zh", "mul"]),
)


@given(posts)
def test_any_valid_post_survives_a_json_round_trip(post: Post) -> None:
    assert msgspec.json.decode(msgspec.json.encode(post), type=Post) == post


@given(st.dictionaries(st.text(max_size=12), st.integers() | st.text(max_size=20), max_size=6))
def test_arbitrary_records_give_a_post_or_a_field_error_never_a_crash(record: dict[str, object]) -> None:
    try:
        to_post(record)
    except FieldError as error:
        assert error.field and error.problem
