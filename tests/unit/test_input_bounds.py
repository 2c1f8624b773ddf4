"""Issue 14's input families, one door at a time: each is refused by name, none raises past it.

Deep nesting, instants that overflow once in UTC, absurd durations, trailing
newlines under anchored patterns, numbers in strings, and a host that only
looks like loopback.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from indexer.sources import read_jsonl
from indexer.validate import from_csv_row, to_post
from search.contracts import SearchRequest
from search.errors import FieldError
from search.models import SearchFilters
from search.trends.window import parse_duration
from server.settings import load_settings

GOOD = {"id": "a1", "text": "hello", "platform": "twitter",
        "created_at": "2024-05-01T12:00:00+08:00"}
NESTED = "[" * 5000 + "]" * 5000


def test_a_deeply_nested_line_is_a_located_error_and_the_next_line_is_read(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text(f'{{"id": "a"}}\n{{"text": {NESTED}}}\n{NESTED}\n{{"id": "b"}}\n')
    got = list(read_jsonl(path))
    assert [line for line, _ in got] == [1, 2, 3, 4]
    for _, error in got[1:3]:
        assert isinstance(error, FieldError) and error.field == "(line)"
        assert "nested more than" in error.problem
    assert got[3][1] == {"id": "b"}


@pytest.mark.parametrize("created_at", [
    "0001-01-01T00:00:00+01:00",  # year 0 once in UTC: OverflowError before issue 14
    "9999-12-31T23:30:00-01:00",  # year 10000 once in UTC
    "1969-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-01-01T00:00:00Z",
])
def test_created_at_outside_the_documented_range_is_refused_by_name(created_at: str) -> None:
    with pytest.raises(FieldError) as info:
        to_post({**GOOD, "created_at": created_at})
    assert info.value.field == "created_at"
    assert "between 1970-01-01T00:00:00Z and 9998-12-31T23:59:59Z" in info.value.problem


@pytest.mark.parametrize("created_at", ["1970-01-01T00:00:00Z", "1970-01-01T08:00:00+08:00",
                                        "9998-12-31T23:59:59Z"])
def test_the_ends_of_the_range_are_accepted(created_at: str) -> None:
    assert to_post({**GOOD, "created_at": created_at}).created_at.year in (1970, 9998)


@pytest.mark.parametrize(("field", "value"), [
    ("id", "abc\n"), ("lang", "en\n"), ("url", "https://x.org/a\n"),
    ("image_urls", ["https://x.org/a.png\n"]),
])
def test_a_trailing_newline_does_not_pass_an_anchored_pattern(field: str, value: object) -> None:
    with pytest.raises(FieldError) as info:
        to_post({**GOOD, field: value})
    assert info.value.field in (field, f"{field}[0]")


def test_numbers_in_json_strings_are_refused_but_csv_cells_are_converted() -> None:
    with pytest.raises(FieldError) as info:
        to_post({**GOOD, "likes": "3"})
    assert (info.value.field, info.value.problem) == ("likes", "Expected `int`, got `str`")
    row = from_csv_row({**GOOD, "likes": "3"})
    assert to_post(row, strict=False).likes == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"query": "x", "as_of": "0001-01-01T00:00:00+01:00"}, "as_of"),
    ({"query": "x", "as_of": "9999-12-31T23:00:00-05:00"}, "as_of"),
    ({"query": "x", "filters": {"since": "0001-01-01T00:00:00+01:00"}}, "filters.since"),
    ({"query": "x", "filters": {"until": "9999-12-31T23:59:59-10:00"}}, "filters.until"),
])
def test_search_instants_outside_the_range_are_refused_by_name(body: dict[str, object],
                                                              field: str) -> None:
    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.convert(body, SearchRequest)
    assert f"`{field.rsplit('.', 1)[-1]}`: must lie between 1970" in str(info.value)
    assert str(info.value).endswith(f"`$.{field.split('.')[0]}`") or "filters" not in field


def test_filters_in_range_are_kept() -> None:
    filters = msgspec.convert({"since": "2024-01-01T00:00:00Z"}, SearchFilters)
    assert filters.since is not None and filters.since.year == 2024


@pytest.mark.parametrize("text", ["99999999999999999999h", "9" * 400 + "d", "5000w"])
def test_absurd_durations_are_refused_naming_the_parameter(text: str) -> None:
    with pytest.raises(FieldError) as info:
        parse_duration(text, "window")
    assert info.value.field == "window" and "at most" in info.value.problem


def test_a_long_but_sane_duration_still_parses() -> None:
    assert parse_duration("30d", "baseline") == timedelta(days=30)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("127.evil.example", False), ("127.0.0.1.nip.io", False), ("0.0.0.0", False),
    ("10.0.0.1", False), ("::", False),
])
def test_loopback_is_decided_by_parsing_the_address(host: str, loopback: bool) -> None:
    assert load_settings({}, host=host).loopback_only is loopback


def test_a_collection_name_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(FieldError) as info:
        load_settings({"TRENDSEARCH_COLLECTION": "posts\n"})
    assert info.value.field == "TRENDSEARCH_COLLECTION"
