from pathlib import Path

from indexer.sources import read_any, read_csv, read_jsonl
from search.errors import FieldError


def test_jsonl_yields_records_and_located_parse_errors(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text('{"id": "a"}\n\nnot json\n[1, 2]\n{"id": "b"}\n')
    got = list(read_jsonl(path))
    assert [line for line, _ in got] == [1, 3, 4, 5]
    assert got[0][1] == {"id": "a"} and got[3][1] == {"id": "b"}
    assert isinstance(got[1][1], FieldError) and "not valid JSON" in got[1][1].problem
    assert isinstance(got[2][1], FieldError) and "expected a JSON object" in got[2][1].problem


def test_csv_drops_empty_cells_splits_lists_and_counts_multiline_rows(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text('id,text,likes,image_urls\n'
                    'a,"two\nlines",3,https://x.org/1.png https://x.org/2.png\n'
                    'b,plain,,\n', encoding="utf-8")
    got = list(read_csv(path))
    assert got[0] == (2, {"id": "a", "text": "two\nlines", "likes": "3",
                          "image_urls": ["https://x.org/1.png", "https://x.org/2.png"]})
    assert got[1] == (4, {"id": "b", "text": "plain"})


def test_unknown_format_is_an_error_naming_the_file(tmp_path: Path) -> None:
    try:
        read_any(tmp_path / "posts.xml")
    except FieldError as error:
        assert "posts.xml" in error.problem and ".jsonl or .csv" in error.problem
    else:
        raise AssertionError("no error")
