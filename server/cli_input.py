"""CLI flags checked like API input: a bad value exits 2 naming the option, never a traceback."""

from __future__ import annotations

from typing import Any

import msgspec

from indexer.validate import field_error
from search.errors import FieldError
from search.pipeline import SearchRequest


def option_of(field: str) -> str:
    """`as_of` -> `--as-of`; `filters.platform[0]` -> `--platform`; `query` -> QUERY."""
    leaf = field.split(".")[-1].split("[")[0]
    return "QUERY" if leaf == "query" else f"--{leaf.replace('_', '-')}"


def search_request(raw: dict[str, Any]) -> SearchRequest:
    """`trendsearch search` flags as a SearchRequest (same bounds as `POST /v1/search`)."""
    try:
        return msgspec.convert(raw, SearchRequest, strict=False)
    except msgspec.ValidationError as exc:
        error = field_error(exc)
        raise FieldError(option_of(error.field), error.problem) from None
