"""Property fuzz of the two doors every post passes: the file reader and `Post` validation.

Whatever the bytes, the reader yields one record or one located `FieldError` per
non-blank line and raises nothing; whatever the record, `to_post` gives a post
that every later stage can handle (its instant converts to UTC, its payload
builds) or a `FieldError` naming a field. Issue 14's families are in the mix:
deep nesting, calendar-edge instants with offsets, trailing newlines, numbers
in strings, repeated ids.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.sources import read_jsonl
from indexer.validate import to_post
from search.bounds import EARLIEST, LATEST
from search.errors import FieldError
from search.models import Post
from search.store.payload import to_payload

GOOD = {"id": "a1", "text": "hello", "platform": "twitter",
        "created_at": "2024-05-01T12:00:00+08:00"}
FIELDS = ["id", "text", "platform", "created_at", "author", "lang", "likes", "reposts",
          "comments", "image_urls", "url"]

offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(),
                     st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
                     offsets)
edge_instants = st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-00:01",
                                 "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                                 "9998-12-31T23:59:59Z", "1970-01-01T00:30:00+01:00"])
nested = st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
json_values: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=10)
field_values = (json_values | instants | edge_instants | st.sampled_from(
    ["abc\n", "en\n", "https://x.org/a\n", "3", "-1", " ", "", "\x00", "a\u2028b"]))
records = st.fixed_dictionaries({}, optional={name: field_values for name in FIELDS}).map(
    lambda extra: {**GOOD, **extra})


def assert_usable(post: Post) -> None:
    utc = post.created_at.astimezone(UTC)  # what overflowed before issue 14
    assert EARLIEST <= utc <= LATEST
    payload = to_payload(post)
    assert payload["created_at"].endswith("Z")
    assert re.fullmatch(r"[^\s/?#]+", post.id)
    for url in [*post.image_urls, *([post.url] if post.url else [])]:
        assert re.fullmatch(r"https?://\S+", url)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_any_record_is_a_usable_post_or_a_named_field_error(record: dict[str, Any]) -> None:
    try:
        post = to_post(record)
    except FieldError as error:
        assert error.field and error.problem
        assert error.field.split("[")[0].split(".")[0] in [*FIELDS, "(record)"]
        return
    assert_usable(post)
    for name in ("likes", "reposts", "comments"):
        assert not isinstance(record.get(name), str)  # numbers in strings never pass


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)), offsets)
def test_created_at_is_accepted_exactly_when_its_utc_instant_is_in_range(moment: datetime,
                                                                        tz: timezone) -> None:
    aware = moment.replace(tzinfo=tz)
    inside = EARLIEST.replace(tzinfo=None) <= moment - tz.utcoffset(None) <= LATEST.replace(
        tzinfo=None)
    try:
        post = to_post({**GOOD, "created_at": aware.isoformat()})
    except FieldError as error:
        assert not inside and error.field == "created_at"
        return
    assert inside
    assert_usable(post)


lines = st.one_of(
    records.map(json.dumps), nested, nested.map(lambda n: f'{{"text": {n}}}'),
    st.text(max_size=60).map(lambda t: t.replace("\n", " ").replace("\r", " ")),
    json_values.map(json.dumps))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(lines, min_size=1, max_size=12))
def test_the_reader_yields_one_located_result_per_line_and_never_raises(
        tmp_path: Path, content: list[str]) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(content) + "\n", encoding="utf-8")
    got = list(read_jsonl(path))
    expected = [n for n, line in enumerate(path.read_bytes().split(b"\n"), 1) if line.strip()]
    assert [n for n, _ in got] == expected[:len(got)] and len(got) == len(expected)
    for number, record in got:
        if isinstance(record, FieldError):
            assert record.line == number and record.field == "(line)"
            continue
        try:
            assert_usable(to_post(record, line=number))
        except FieldError as error:
            assert error.line == number
