"""Streamed readers: one record at a time, so a 5 GB file never sits in memory.

Each yields `(line_number, record_or_error)`; a line that is not even valid
JSON (or CSV) comes back as a `FieldError` so the run can reject it and go on.
That includes a line nested deeper than the decoder's recursion allows (a few KB
of `[[[[...`): msgspec raises `RecursionError`, not `DecodeError`, for it.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from indexer.validate import from_csv_row, integral_floats_as_ints
from search.errors import FieldError

Record = tuple[int, dict[str, Any] | FieldError]
# A post is two levels deep (the record, its `image_urls`).
TOO_DEEP = "JSON nested more than the decoder allows (about 1,000 levels; a post needs 2)"
csv.field_size_limit(sys.maxsize)


def read_jsonl(path: Path) -> Iterator[Record]:
    decoder = msgspec.json.Decoder()
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                value = integral_floats_as_ints(decoder.decode(raw))
            except msgspec.DecodeError as exc:
                yield number, FieldError("(line)", f"not valid JSON: {exc}", line=number)
                continue
            except RecursionError:
                yield number, FieldError("(line)", TOO_DEEP, line=number)
                continue
            if not isinstance(value, dict):
                yield number, FieldError("(line)", f"expected a JSON object, got {type(value).__name__}",
                                         line=number)
                continue
            yield number, value


def read_csv(path: Path) -> Iterator[Record]:
    """Header row names the `Post` fields; `line` is the row's first physical line."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:  # reads the header row
            return
        line = reader.line_num
        for row in reader:
            yield line + 1, from_csv_row(row)
            line = reader.line_num


def cells_are_text(path: Path) -> bool:
    """CSV cells are all strings, so numbers in them are converted; JSON's are not."""
    return path.suffix.lower() == ".csv"


def read_any(path: Path) -> Iterator[Record]:
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return read_jsonl(path)
    if suffix in {".csv"}:
        return read_csv(path)
    raise FieldError("FILE", f"{path}: unknown format {suffix!r} (use .jsonl or .csv)")
