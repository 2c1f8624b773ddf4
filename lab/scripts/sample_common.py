"""What every source of the bundled sample shares: seeded randomness, CSV reading, times.

Every random choice comes from a `random.Random` seeded with a fixed string per
source (`rng_for`), so the sample is reproduced byte for byte.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from random import Random
from typing import Any

__all__ = ["CST", "NO_LANG_EVERY", "SEED", "Record", "read_csv", "read_dicts", "rng_for", "sample",
           "spread", "twitter_unescape", "unique_texts", "utc", "with_lang"]

SEED = "trendsearch-sample-v1"

# Roughly one post in ten per language ships without `lang`, so the indexer's
# language detection is exercised on both scripts. The choice hashes the post
# id, so it does not depend on sampling order.
NO_LANG_EVERY = 10

CST = timezone(timedelta(hours=8), "CST")  # Weibo posts get China Standard Time offsets

csv.field_size_limit(10_000_000)

Record = dict[str, Any]


# --------------------------------------------------------------------------- helpers


def read_csv(path: Path, delimiter: str = ",") -> list[list[str]]:
    """Read a whole CSV/TSV file with the csv module.

    `utf-8-sig` strips the BOM some files carry; the csv module handles the
    quoted multi-line fields and CRLF row ends of the Weibo and Reddit files.
    """
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f, delimiter=delimiter))


def read_dicts(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    """Read a CSV/TSV with a header row into dicts, failing on ragged rows."""
    rows = read_csv(path, delimiter)
    header, body = rows[0], rows[1:]
    for n, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise SystemExit(f"{path}:{n}: expected {len(header)} columns, got {len(row)}")
    return [dict(zip(header, row, strict=True)) for row in body]


def rng_for(*parts: str) -> Random:
    """A private RNG per source/stratum, so adding a source never reshuffles another."""
    return Random(":".join((SEED, *parts)))


def sample(rng: Random, items: list[Any], k: int) -> list[Any]:
    """`k` items (or all of them if fewer), keeping the population's order."""
    if k >= len(items):
        return list(items)
    picked = sorted(rng.sample(range(len(items)), k))
    return [items[i] for i in picked]


def unique_texts(items: Iterable[Any], text_of: Callable[[Any], str]) -> list[Any]:
    """Drop items whose text repeats an earlier one (retweets and copies add nothing)."""
    seen: set[str] = set()
    kept = []
    for item in items:
        text = text_of(item)
        if text in seen:
            continue
        seen.add(text)
        kept.append(item)
    return kept


def twitter_unescape(text: str) -> str:
    """Undo the Twitter API's HTML escaping of `&`, `<` and `>`.

    The API returns `&amp;`, `&lt;` and `&gt;` in tweet text; those are the only
    entities it escapes, so this is the exact inverse and restores what was
    posted. `&amp;` goes last so `&amp;lt;` becomes `&lt;`, not `<`.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def utc(ts: str) -> datetime:
    """Parse `2012-10-28T16:47:51Z` into an aware UTC datetime."""
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(timezone.utc)


def spread(rng: Random, start: datetime, end: datetime) -> datetime:
    """A time uniformly between start and end, to the second."""
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(seconds))


def with_lang(record: Record, lang: str) -> Record:
    """Set `lang`, except for the ~1/NO_LANG_EVERY posts left for detection."""
    digest = hashlib.sha256(record["id"].encode()).digest()
    if int.from_bytes(digest[:4], "big") % NO_LANG_EVERY != 0:
        record["lang"] = lang
    return record
