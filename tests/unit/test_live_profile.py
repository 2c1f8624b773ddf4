"""`server.live_profile`: a start that names no profile runs the one the live index was
rebuilt with; a profile named explicitly always wins."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from server.cli.common import settings_from
from server.live_profile import FILE, confirm, follow, record, recorded
from server.settings import load_settings


def _settings(tmp_path: Path, **kw: object):  # type: ignore[no-untyped-def]
    return load_settings({}, data_dir=str(tmp_path), **kw)


def test_no_record_changes_nothing(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert recorded(tmp_path) is None
    assert follow(settings, explicit=False) is settings


def test_a_start_naming_no_profile_follows_the_record(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    entry = record(tmp_path, "bge-m3", "bge-m3:abc")
    assert recorded(tmp_path) == entry and entry.at.endswith("+00:00")
    followed = follow(_settings(tmp_path), explicit=False)
    assert followed.profile == "bge-m3"
    assert "profile `bge-m3`: the live index was rebuilt with it at" in capsys.readouterr().err


def test_a_named_profile_wins_with_a_warning(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    record(tmp_path, "bge-m3", "bge-m3:abc")
    settings = _settings(tmp_path, profile="tiny")
    assert follow(settings, explicit=True) is settings
    assert "was moved to profile `bge-m3`" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"{not json", b'{"profile": "e5", "model": "m", "at": "t"}',
                                     b'{"profile": 3}'])
def test_a_damaged_or_unknown_record_is_ignored(tmp_path: Path, content: bytes) -> None:
    (tmp_path / FILE).write_bytes(content)
    settings = _settings(tmp_path)
    assert follow(settings, explicit=False) is settings


def test_the_cli_follows_unless_a_flag_or_the_environment_names_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path, "tiny", "tiny:abc")
    monkeypatch.delenv("TRENDSEARCH_PROFILE", raising=False)
    monkeypatch.setenv("TRENDSEARCH_DATA_DIR", str(tmp_path))
    assert settings_from(argparse.Namespace(profile=None)).profile == "tiny"
    assert settings_from(argparse.Namespace(profile="offline")).profile == "offline"
    monkeypatch.setenv("TRENDSEARCH_PROFILE", "offline")
    assert settings_from(argparse.Namespace(profile=None)).profile == "offline"


def test_an_index_opened_with_another_profile_rewrites_a_stale_record(tmp_path: Path) -> None:
    """`confirm` (after the live index was opened or made: `Services.build`, `index`): a
    demo or an `index` into an emptied folder made another profile's index live."""
    confirm(tmp_path, "offline", "e5:abc")
    assert recorded(tmp_path) is None  # no record: none is started
    record(tmp_path, "bge-m3", "bge-m3:abc")
    confirm(tmp_path, "offline", "e5:abc")
    entry = recorded(tmp_path)
    assert entry is not None and (entry.profile, entry.model) == ("offline", "e5:abc")


def test_a_followed_profile_whose_models_cannot_load_names_the_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The record chose `bge-m3`, whose weights are not here: the error line says where that
    choice came from and how to override it; a profile named by flag gets the bare error."""
    from server.cli import main

    record(tmp_path, "bge-m3", "bge-m3:abc")
    monkeypatch.delenv("TRENDSEARCH_PROFILE", raising=False)
    monkeypatch.setenv("TRENDSEARCH_MODEL", str(tmp_path / "no-such-model"))
    monkeypatch.setenv("TRENDSEARCH_RERANKER", str(tmp_path / "no-such-reranker"))
    assert main(["search", "--data-dir", str(tmp_path), "flood"]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("trendsearch: error: cannot load the BGE-M3 embedder"), error
    assert f"followed from {tmp_path / FILE}" in error and "--profile" in error, error
    assert main(["search", "--data-dir", str(tmp_path), "--profile", "bge-m3", "flood"]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "cannot load the BGE-M3 embedder" in error and "followed from" not in error, error


def test_a_command_whose_parser_says_follow_record_false_neither_follows_nor_blames_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab's commands (`eval-trends`, `bench`, ...) run the profile named or the
    default: a leftover record changes nothing, and no error line credits it."""
    from server.cli.common import followed_note

    record(tmp_path, "tiny", "tiny:abc")
    monkeypatch.delenv("TRENDSEARCH_PROFILE", raising=False)
    monkeypatch.setenv("TRENDSEARCH_DATA_DIR", str(tmp_path))
    lab = argparse.Namespace(profile=None, follow_record=False)
    settings = settings_from(lab)
    assert settings.profile == "offline" and followed_note(lab, settings) == ""
    operator = argparse.Namespace(profile=None)
    followed = settings_from(operator)
    assert followed.profile == "tiny" and "followed from" in followed_note(operator, followed)
