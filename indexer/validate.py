"""Raw records -> `Post`, or a `FieldError` that names the field and the problem.

msgspec stops at a record's first error, which is what a rejects file needs
(one line, one reason). Batch ingest collects one error per bad item itself.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from search.bounds import instant_problem
from search.errors import FieldError
from search.models import Post
from search.text import detect_lang

_AT = re.compile(r"^(?P<problem>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
CSV_LIST_FIELDS = ("image_urls",)
# What a regex constraint means, in words a user can act on (keyed by the leaf field).
PATTERN_PROBLEMS = {
    "id": "must be 1-128 characters without spaces, control characters, `/`, `?` or `#`",
    "url": "must be an http:// or https:// URL",
    "image_urls": "must be an http:// or https:// URL",
    "lang": "must be a language code such as `en`, `zh` or `zh-hant`",
}


def _field_of(path: str) -> str:
    """`$.image_urls[2]` -> `image_urls[2]`; `$` (the whole record) -> `(record)`."""
    return path.lstrip(".") or "(record)"


def field_error(exc: msgspec.ValidationError, *, index: int | None = None,
                line: int | None = None) -> FieldError:
    message = str(exc)
    match = _AT.match(message)
    problem, path = (match.group("problem"), match.group("path") or "") if match else (message, "")
    # A struct's own check (`__post_init__`) says "`field`: problem" at the struct's path.
    inner = re.match(r"`([A-Za-z_]+)`: (.*)$", problem, re.S)
    if inner:
        path, problem = f"{path}.{inner.group(1)}", inner.group(2)
    unknown = re.match(r"Object contains unknown field `([^`]+)`", problem)
    if unknown:
        return FieldError(_field_of(f"{path}.{unknown.group(1)}"), "unknown field (not part of a post)",
                          index=index, line=line)
    missing = re.match(r"Object missing required field `([^`]+)`", problem)
    if missing:
        return FieldError(_field_of(f"{path}.{missing.group(1)}"), "required field is missing",
                          index=index, line=line)
    if "matching regex" in problem:
        leaf = re.sub(r"\[\d+\]$", "", _field_of(path)).rsplit(".", 1)[-1]
        problem = PATTERN_PROBLEMS.get(leaf, problem)
    if "Expected `datetime`" in problem or "datetime" in problem and "timezone" in problem.lower():
        problem = f"{problem} (RFC 3339 with an offset, e.g. 2024-05-01T12:00:00+08:00)"
    return FieldError(_field_of(path), problem, index=index, line=line)


def to_post(raw: Any, *, index: int | None = None, line: int | None = None,
            strict: bool = True) -> Post:
    """Validate one record; fill `lang` by detection when the record has none.

    `strict`: JSON has numbers and booleans, so `"likes": "3"` is a mistake to name,
    not to guess at; only CSV cells (all strings) are converted (`strict=False`).
    """
    try:
        post = msgspec.convert(raw, Post, strict=strict)
    except msgspec.ValidationError as exc:
        raise field_error(exc, index=index, line=line) from None
    problem = instant_problem(post.created_at)
    if problem:
        raise FieldError("created_at", problem, index=index, line=line)
    if post.lang is None:
        post = msgspec.structs.replace(post, lang=detect_lang(post.text))
    return post


def integral_floats_as_ints(value: Any) -> Any:
    """`84.0` -> `84`, all the way down: JSON has one number type, and JSON Schema's
    `integer` (the published API schema) is any number without a fraction; msgspec's
    strict mode would refuse it. Other floats stay floats."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [integral_floats_as_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: integral_floats_as_ints(v) for k, v in value.items()}
    return value


def from_csv_row(row: dict[str, str]) -> dict[str, Any]:
    """CSV cells are strings: empty means absent, lists are space-separated."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            out["(extra columns)"] = value
            continue
        if value is None or value == "":
            continue
        out[key] = value.split() if key in CSV_LIST_FIELDS else value
    return out
