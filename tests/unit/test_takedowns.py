"""The takedown log: replayed, appended, shared between processes through the file."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.takedowns import FILE_NAME, Takedowns


def test_add_lift_and_replay(tmp_path: Path) -> None:
    log = Takedowns(tmp_path)
    record, new = log.add("a", "legal")
    assert new and record.reason == "legal" and "a" in log
    assert log.add("a", "again") == (record, False)
    log.add("b")
    assert log.lift("a") == record and log.lift("a") is None
    assert "a" not in log and "b" in log
    replayed = Takedowns(tmp_path)
    assert [t.id for t in replayed.records()] == ["b"]
    events = [json.loads(line)["action"] for line in (tmp_path / FILE_NAME).read_text().splitlines()]
    assert events == ["takedown", "takedown", "lift"]


def test_another_writer_is_seen_without_reopening(tmp_path: Path) -> None:
    reader, writer = Takedowns(tmp_path), Takedowns(tmp_path)
    assert "x" not in reader
    writer.add("x")
    assert "x" in reader
    writer.lift("x")
    assert "x" not in reader


def test_a_torn_or_bad_line_is_not_fatal(tmp_path: Path) -> None:
    Takedowns(tmp_path).add("ok")
    with (tmp_path / FILE_NAME).open("a") as fh:
        fh.write("not json\n")
        fh.write('{"id": "half", "action": "takedown"')  # still being written: no newline
    log = Takedowns(tmp_path)
    assert "ok" in log and "half" not in log
    with (tmp_path / FILE_NAME).open("a") as fh:
        fh.write(', "at": "2026-01-01T00:00:00Z"}\n')
    assert "half" in log


def test_refusal_names_the_field_and_the_way_back(tmp_path: Path) -> None:
    log = Takedowns(tmp_path)
    log.add("p-1")
    error = log.refusal("p-1", index=3)
    assert (error.field, error.index) == ("id", 3)
    assert "DELETE /v1/takedowns/p-1" in error.problem
