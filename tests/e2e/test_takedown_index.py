"""`trendsearch index` honours takedowns: re-indexing an old export does not resurrect them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.takedowns import Takedowns
from server.cli import main

POSTS = [
    {"id": "t1", "text": "Tornado warning issued for Moore, Oklahoma", "platform": "twitter",
     "created_at": "2013-05-20T19:00:00Z"},
    {"id": "t2", "text": "Moore tornado: shelters open tonight", "platform": "twitter",
     "created_at": "2013-05-20T20:00:00Z"},
]


def test_index_rejects_taken_down_ids_until_lifted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("TRENDSEARCH_PROFILE", "tiny")
    monkeypatch.setenv("TRENDSEARCH_DATA_DIR", str(data))
    monkeypatch.setenv("TRENDSEARCH_LOG_LEVEL", "WARNING")
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join(json.dumps(p) for p in POSTS) + "\n", encoding="utf-8")
    Takedowns(data).add("t2", "doxxing")

    assert main(["index", str(export), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "indexed 1 posts, rejected 1" in out and "index holds 1 posts" in out
    reject = json.loads((data / "rejects.jsonl").read_text())
    assert (reject["line"], reject["field"]) == (2, "id")
    assert "taken down" in reject["problem"] and "DELETE /v1/takedowns/t2" in reject["problem"]

    Takedowns(data).lift("t2")
    assert main(["index", str(export), "--quiet"]) == 0
    assert "index holds 2 posts" in capsys.readouterr().out


def test_a_takedown_recorded_before_a_crash_is_repaired_by_every_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14: the delete after the record never ran (a crash); only the API used to repair."""
    data = tmp_path / "data"
    monkeypatch.setenv("TRENDSEARCH_PROFILE", "tiny")
    monkeypatch.setenv("TRENDSEARCH_DATA_DIR", str(data))
    monkeypatch.setenv("TRENDSEARCH_LOG_LEVEL", "WARNING")
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join(json.dumps(p) for p in POSTS) + "\n", encoding="utf-8")
    assert main(["index", str(export), "--quiet"]) == 0
    capsys.readouterr()

    Takedowns(data).add("t2", "the point was never deleted")
    assert main(["search", "shelters tonight", "--limit", "5"]) == 0
    assert "Moore tornado" not in capsys.readouterr().out
    assert main(["reindex"]) == 0
    assert "reindexed 1 posts" in capsys.readouterr().out
