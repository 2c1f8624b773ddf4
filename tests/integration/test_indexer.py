"""Files into the store: bad records rejected with their line, good ones indexed, reruns idempotent."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.run import index_files
from search.embed.base import Embedder
from search.store.base import Store

GOOD = {"text": "Flood waters rising", "platform": "twitter", "created_at": "2024-05-01T12:00:00Z"}


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_records_go_to_the_rejects_file_and_the_rest_is_indexed(
        tmp_path: Path, filled_store: Store, tiny_embedder: Embedder) -> None:
    before = filled_store.count()
    source = write_jsonl(tmp_path / "in.jsonl", [
        json.dumps({**GOOD, "id": "f1"}),
        json.dumps({**GOOD, "id": "f2", "likes": -1}),
        "{broken json",
        json.dumps({**GOOD, "id": "f3", "created_at": "2024-05-01 12:00"}),
        json.dumps({**GOOD, "id": "f4", "text": "深圳禁摩限电"}),
    ])
    rejects = tmp_path / "rejects.jsonl"
    summary = index_files([source], filled_store, tiny_embedder, batch_size=2,
                          rejects_path=rejects, show_progress=False)
    assert (summary.indexed, summary.rejected) == (2, 3)
    assert filled_store.count() == before + 2
    assert [p.lang for p in filled_store.get(["f1", "f4"])] == ["en", "zh"]
    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in rows] == [(2, "likes"), (3, "(line)"), (4, "created_at")]
    assert rows[0]["record"]["id"] == "f2" and rows[0]["file"] == str(source)
    assert set(summary.stage_seconds) == {"read", "embed", "upsert"}


def test_indexing_the_same_file_twice_changes_nothing(tmp_path: Path, filled_store: Store,
                                                      tiny_embedder: Embedder) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,text,platform,created_at,likes\n"
                      "c1,Tornado warning issued,twitter,2024-05-01T12:00:00Z,3\n"
                      "c2,龙卷风预警,weibo,2024-05-01T20:00:00+08:00,\n", encoding="utf-8")
    first = index_files([source], filled_store, tiny_embedder, show_progress=False)
    count = filled_store.count()
    second = index_files([source], filled_store, tiny_embedder, show_progress=False)
    assert first.indexed == second.indexed == 2 and first.rejected == 0
    assert filled_store.count() == count
    assert filled_store.get(["c1"])[0].likes == 3


def test_a_clean_run_leaves_no_rejects_file(tmp_path: Path, filled_store: Store,
                                            tiny_embedder: Embedder) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [json.dumps({**GOOD, "id": "ok"})])
    index_files([source], filled_store, tiny_embedder, rejects_path=tmp_path / "r.jsonl",
                show_progress=False)
    assert not (tmp_path / "r.jsonl").exists()


def test_hostile_lines_are_rejects_with_line_and_field_and_the_run_goes_on(
        tmp_path: Path, filled_store: Store, tiny_embedder: Embedder) -> None:
    """Issue 14: each of these ended the run with a traceback or stored a second post."""
    source = write_jsonl(tmp_path / "in.jsonl", [
        json.dumps({**GOOD, "id": "h1"}),
        '{"id": "h2", "text": ' + "[" * 5000 + "]" * 5000 + "}",
        json.dumps({**GOOD, "id": "h3", "created_at": "0001-01-01T00:00:00+01:00"}),
        json.dumps({**GOOD, "id": "h1", "text": "the same id again"}),
        json.dumps({**GOOD, "id": "h1\n"}),
        json.dumps({**GOOD, "id": "h4", "likes": "3"}),
        json.dumps({**GOOD, "id": "h5"}),
    ])
    rejects = tmp_path / "rejects.jsonl"
    summary = index_files([source], filled_store, tiny_embedder, batch_size=2,
                          rejects_path=rejects, show_progress=False)
    assert (summary.indexed, summary.rejected) == (2, 5)
    assert [p.id for p in filled_store.get(["h1", "h5"])] == ["h1", "h5"]
    assert filled_store.get(["h1"])[0].text == GOOD["text"]
    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in rows] == [
        (2, "(line)"), (3, "created_at"), (4, "id"), (5, "id"), (6, "likes")]
    assert "line 1 again" in rows[2]["problem"]
