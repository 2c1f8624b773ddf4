"""The operator's commands, run in-process through `main()` with the tiny profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.cli import main

POSTS = [
    {"id": "c1", "text": "Tornado warning issued for Moore, Oklahoma", "platform": "twitter",
     "created_at": "2013-05-20T19:00:00Z", "likes": 40},
    {"id": "c2", "text": "深圳禁摩限电，快递小哥怎么办", "platform": "weibo",
     "created_at": "2016-03-22T09:00:00+08:00"},
    {"id": "c3", "text": "no time zone here", "platform": "twitter", "created_at": "2016-03-22 09:00"},
]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRENDSEARCH_PROFILE", "tiny")
    monkeypatch.setenv("TRENDSEARCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRENDSEARCH_LOG_LEVEL", "WARNING")
    return tmp_path / "data"


@pytest.fixture
def posts_file(tmp_path: Path) -> Path:
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in POSTS) + "\n", encoding="utf-8")
    return path


def test_index_reports_indexed_and_rejected_and_is_idempotent(
        data_dir: Path, posts_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(posts_file), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "indexed 2 posts, rejected 1" in out and "index holds 2 posts" in out
    reject = json.loads((data_dir / "rejects.jsonl").read_text())
    assert (reject["line"], reject["field"]) == (3, "created_at")
    assert main(["index", str(posts_file), "--quiet"]) == 0
    assert "index holds 2 posts" in capsys.readouterr().out


def test_search_prints_a_table(data_dir: Path, posts_file: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    main(["index", str(posts_file), "--quiet"])
    capsys.readouterr()
    assert main(["search", "tornado", "--mode", "latest", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "latest: 'tornado'" in out and "Tornado warning" in out and '"fused_rank"' in out
    assert "1 matching posts" in out and '"match":"terms"' in out


def test_migrate_creates_then_reports_current(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert "created index" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "schema is current" in capsys.readouterr().out


def test_usage_errors_exit_2_naming_the_option(data_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["index", str(tmp_path / "missing.jsonl")]) == 2
    assert "`FILE`: no such file" in capsys.readouterr().err
    monkeypatch.setenv("TRENDSEARCH_PORT", "http")
    with pytest.raises(SystemExit) as info:
        main(["migrate"])
    assert info.value.code == 2
    assert "TRENDSEARCH_PORT" in capsys.readouterr().err


def test_settings_lists_every_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "TRENDSEARCH_HALF_LIFE_HOURS" in out and "TRENDSEARCH_QDRANT_URL" in out


@pytest.mark.parametrize(("argv", "named"), [
    (["search", "tornado", "--as-of", "2024-05-01T12:00:00"], "--as-of"),
    (["search", "tornado", "--as-of", "yesterday"], "--as-of"),
    (["search", "tornado", "--limit", "500"], "--limit"),
    (["search", "tornado", "--limit", "ten"], "--limit"),
    (["trends", "--limit", "0"], "--limit"),
    (["rising", "--limit", "0"], "--limit"),
    (["reindex", "--server", "http://127.0.0.1:9", "--profile", "e5"], "--profile"),
])
def test_bad_flags_are_one_line_errors_naming_the_flag(
        data_dir: Path, argv: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"argument {named}:" in err


def test_a_lab_command_without_the_lab_says_where_it_lives(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """An install without `lab/` (the Docker image): the entry point fails to load."""
    from server import cli

    class Broken:
        def load(self) -> None:
            raise ModuleNotFoundError("No module named 'lab'")

    monkeypatch.setattr(cli, "entry_points", lambda group: [Broken()])
    assert main(["eval", "../shared/eval/sets/crisislex6"]) == 1
    assert "`eval` is a lab command: it runs from a checkout" in capsys.readouterr().err


@pytest.mark.parametrize("as_of", ["2024-05-01T12:00:00", "0001-01-01T00:00:00+01:00"])
def test_a_bad_as_of_exits_2_naming_the_option(data_dir: Path, as_of: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "tornado", "--as-of", as_of]) == 2
    err = capsys.readouterr().err  # argparse's "argument --as-of:" or our "`--as-of`:"
    assert "--as-of" in err and "Traceback" not in err


def test_rising_prints_the_last_days_posts_with_their_forecasts(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime, timedelta
    recent = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    path = tmp_path / "recent.jsonl"
    path.write_text(json.dumps({"id": "r1", "text": "River flooding downtown", "platform": "twitter",
                                "created_at": recent, "likes": 8}) + "\n", encoding="utf-8")
    main(["index", str(path), "--quiet"])
    capsys.readouterr()
    assert main(["rising", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "rising as of" in out and "(1 posts of the last day read)" in out
    assert main(["rising", "--json", "--query", "flooding"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [r["post"]["id"] for r in answer["results"]] == ["r1"]
    forecast = answer["results"][0]["forecast"]
    assert forecast["status"] == "no_history" and "not enough history on twitter" in forecast["why"]
