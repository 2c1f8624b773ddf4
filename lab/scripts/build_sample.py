"""Build the bundled sample `data/sample/posts.jsonl` from the shared source data.

The sample is a few thousand real posts from five public data sets, mixed so
that every feature of the search engine has something to bite on: two
languages and three platforms for the analysers and the language filter,
labelled crisis events and Weibo topics for relevance checks, real bursts
(crisis days, the 2016 campaign) for trend detection, and real engagement
counts (Trump tweets, Reddit) for engagement ranking.

Everything is deterministic: inputs are read in sorted order, every random
choice comes from a `random.Random` seeded with a fixed string per source, and
the output is sorted by (created_at, id). Re-running the script on the same
shared data reproduces the file byte for byte; `tests/unit/test_sample.py`
checks that.

Usage (from the repository root):

    .venv/bin/python lab/scripts/build_sample.py [--shared ../shared] [--out data/sample/posts.jsonl]

Only the standard library and msgspec are used, so the script runs before the
heavy model dependencies are installed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import msgspec

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from lab.scripts.sample_common import Record, unique_texts  # noqa: E402
from lab.scripts.sample_forums import reddit, weibo  # noqa: E402
from lab.scripts.sample_twitter import crisislex, trump, tweeteval  # noqa: E402
from search.models import Post  # noqa: E402

SOURCES = (crisislex, weibo, trump, reddit, tweeteval)
DEFAULT_SHARED = REPO_ROOT.parent / "shared"
DEFAULT_OUT = REPO_ROOT / "data" / "sample" / "posts.jsonl"


# --------------------------------------------------------------------------- assembly

# The line layout is fixed here rather than taken from `Post`'s encoder, so the
# committed file does not change when the struct's encoding options do. Absent
# optional fields (author, lang, url, image_urls) are left out of the line.
LINE_FIELDS = (
    "id", "text", "platform", "created_at", "author", "lang",
    "likes", "reposts", "comments", "image_urls", "url",
)  # fmt: skip


def validated(record: Record) -> bytes:
    """Encode a record as one JSONL line, after proving the line decodes as a `Post`.

    Fails loudly (SystemExit) if the line is not a valid Post, carries a field
    Post does not know, or decodes to different values than were written.
    """
    unknown = set(record) - set(LINE_FIELDS)
    if unknown:
        raise SystemExit(f"record {record.get('id')!r} has unknown fields {sorted(unknown)}")
    line_dict = {f: record[f] for f in LINE_FIELDS if record.get(f) not in (None, [])}
    line = msgspec.json.encode(line_dict)
    try:
        post = msgspec.json.decode(line, type=Post)
    except msgspec.ValidationError as exc:
        raise SystemExit(f"record {record.get('id')!r} is not a valid Post: {exc}") from exc
    for field, value in line_dict.items():
        if getattr(post, field) != value:
            raise SystemExit(f"record {record['id']!r}: {field} does not round-trip")
    return line


def build(shared: Path) -> list[Record]:
    """All sources, texts unique across the whole sample, sorted by time then id."""
    data = shared / "data"
    if not data.is_dir():
        raise SystemExit(f"no shared data at {data}")
    records: list[Record] = []
    for source in SOURCES:
        records += source(data)
    records.sort(key=lambda r: (r["created_at"], r["id"]))
    ids = Counter(r["id"] for r in records)
    dupes = [i for i, n in ids.items() if n > 1]
    if dupes:
        raise SystemExit(f"duplicate ids: {dupes[:5]}")
    # Cross-source duplicates (a tweet quoted in two data sets) would be
    # indistinguishable hits; keep the earliest.
    return unique_texts(records, lambda r: r["text"])


def summary(records: list[Record]) -> str:
    """Counts per source, platform and language, for the log and the README."""
    source = Counter(r["id"].split("-")[0] for r in records)
    platform = Counter(r["platform"] for r in records)
    lang = Counter(r.get("lang", "(none)") for r in records)
    return (
        f"{len(records)} posts; source {dict(source)}; "
        f"platform {dict(platform)}; lang {dict(lang)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="shared folder holding data/"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSONL file to write")
    args = parser.parse_args(argv)

    records = build(args.shared)
    lines = [validated(r) for r in records]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_bytes(b"".join(line + b"\n" for line in lines))
    tmp.replace(args.out)
    print(f"wrote {args.out}: {summary(records)}; {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
