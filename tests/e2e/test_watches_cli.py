"""`trendsearch watches|alerts|deliveries`: the database-only commands, through `main()`.

They need no model and no store: a server beside them follows the changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.watches.db import WatchDB
from server.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRENDSEARCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRENDSEARCH_LOG_LEVEL", "WARNING")
    return tmp_path / "data"


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_create_list_delete(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watches", "create", "--name", "Calgary", "--query", "Calgary flooding",
                 "--id", "calgary"]) == 0
    (created,) = lines(capsys.readouterr().out)
    assert created["id"] == "calgary" and created["query"] == "Calgary flooding"
    assert main(["watches", "list"]) == 0
    assert [w["id"] for w in lines(capsys.readouterr().out)] == ["calgary"]
    assert WatchDB.in_folder(data_dir).get_watch("calgary") is not None
    assert main(["alerts", "list", "--watch", "calgary"]) == 0
    assert lines(capsys.readouterr().out) == []
    assert main(["watches", "delete", "calgary"]) == 0
    assert main(["watches", "delete", "calgary"]) == 1
    assert "no watch with id 'calgary'" in capsys.readouterr().err


def test_bad_definitions_are_one_line_errors_naming_the_field(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watches", "create", "--name", "x", "--query=-sport"]) == 2
    assert "`query`" in capsys.readouterr().err
    assert main(["watches", "create", "--name", "x", "--query", "flood",
                 "--webhook-url", "https://10.0.0.8/hook",
                 "--webhook-secret", "0123456789abcdef0"]) == 2
    err = capsys.readouterr().err
    assert "`--webhook-url`" in err and "10.0.0.8" in err and "private" in err
    assert main(["watches", "create", "--name", "x", "--query", "flood",
                 "--webhook-url", "https://example.org/h", "--webhook-secret", "short"]) == 2
    assert "`webhook.secret`" in capsys.readouterr().err
    assert main(["alerts", "list", "--since", "2024-05-01T00:00:00"]) == 2  # naive time
    assert main(["deliveries", "dead"]) == 0 and capsys.readouterr().out == ""
