"""The bundled sample (`data/sample/posts.jsonl`) is valid, varied and reproducible.

Demos and integration tests index this file, so it must hold whole posts only,
cover every labelled event and topic they query for, and be what the sample
builder (`lab/scripts/build_sample.py`) makes of the shared data. The shared data (26 MB) is not in the repository: the builder runs here on
`tests/data/sample_source/`, rows cut from it whose posts are in the sample (and a
few it must drop), so every line it writes must be the sample's own line
(tests/data/README.md). To rebuild the whole sample from ../shared and compare:
`python <builder> --out /tmp/posts.jsonl && cmp /tmp/posts.jsonl data/sample/posts.jsonl`.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from search.models import Post

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "data" / "sample" / "posts.jsonl"
BUILDERS = (REPO_ROOT / "lab" / "scripts" / "build_sample.py",)
SOURCE = REPO_ROOT / "tests" / "data" / "sample_source"

CRISIS_EVENTS = (
    "sandy-hurricane",
    "alberta-floods",
    "boston-bombings",
    "oklahoma-tornado",
    "queensland-floods",
    "west-texas-explosion",
)
WEIBO_TOPICS = (
    "russia-syria",
    "two-child-policy",
    "spring-festival-fireworks",
    "iphone-se",
    "shenzhen-ebike-ban",
)


@pytest.fixture(scope="module")
def posts() -> list[Post]:
    """Every line decoded strictly as a Post; a bad line fails with its number."""
    result = []
    with SAMPLE.open("rb") as f:
        for n, line in enumerate(f, start=1):
            try:
                result.append(msgspec.json.decode(line, type=Post))
            except msgspec.ValidationError as exc:
                pytest.fail(f"{SAMPLE.name}:{n} is not a valid Post: {exc}")
    return result


def test_sample_size(posts: list[Post]) -> None:
    assert 4000 <= len(posts) <= 5000
    assert SAMPLE.stat().st_size < 2_500_000


def test_ids_and_texts_unique(posts: list[Post]) -> None:
    assert len({p.id for p in posts}) == len(posts)
    assert len({p.text for p in posts}) == len(posts)


def test_sorted_by_time(posts: list[Post]) -> None:
    keys = [(p.created_at, p.id) for p in posts]
    assert keys == sorted(keys)


@pytest.mark.parametrize("event", CRISIS_EVENTS)
def test_every_crisis_event_present(posts: list[Post], event: str) -> None:
    prefix = f"crisislex-{event}-"
    assert sum(p.id.startswith(prefix) for p in posts) >= 100


@pytest.mark.parametrize("topic", WEIBO_TOPICS)
def test_every_weibo_topic_present(posts: list[Post], topic: str) -> None:
    prefix = f"weibo-{topic}-"
    assert sum(p.id.startswith(prefix) for p in posts) >= 100


def test_platforms_and_languages(posts: list[Post]) -> None:
    platforms = {p.platform for p in posts}
    assert len(platforms) >= 3
    assert {"twitter", "weibo", "reddit"} <= platforms
    langs = {p.lang for p in posts}
    assert {"en", "zh"} <= langs
    # Some posts of each language leave `lang` out, for the detector to fill.
    assert any(p.lang is None and p.platform == "weibo" for p in posts)
    assert any(p.lang is None and p.platform != "weibo" for p in posts)


def test_engagement_present(posts: list[Post]) -> None:
    assert any(p.likes > 0 for p in posts)
    assert any(p.reposts > 0 for p in posts)
    assert any(p.comments > 0 for p in posts)


def test_timestamps_carry_offsets(posts: list[Post]) -> None:
    assert all(p.created_at.utcoffset() is not None for p in posts)


def build_from_excerpt(out: Path, hash_seed: str) -> bytes:
    builder = next((path for path in BUILDERS if path.is_file()), None)
    assert builder is not None, f"no sample builder at {' or '.join(map(str, BUILDERS))}"
    subprocess.run(
        [sys.executable, str(builder), "--shared", str(SOURCE), "--out", str(out)],
        check=True,
        cwd=out.parent,
        capture_output=True,
        timeout=300,
        env={**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO_ROOT)},
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def excerpt(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The builder's lines for the excerpt of the shared data."""
    out = tmp_path_factory.mktemp("sample") / "posts.jsonl"
    return build_from_excerpt(out, hash_seed="1").splitlines(keepends=True)


def ids_of(lines: list[bytes], *prefixes: str) -> list[str]:
    return [i for i in (json.loads(line)["id"] for line in lines) if i.startswith(prefixes)]


def test_the_builder_is_deterministic(excerpt: list[bytes], tmp_path: Path) -> None:
    """Another process, another string hash seed: the same bytes."""
    assert build_from_excerpt(tmp_path / "posts.jsonl", hash_seed="2") == b"".join(excerpt)


def test_posts_with_real_times_are_the_samples_own_lines(excerpt: list[bytes]) -> None:
    """Tweets and Reddit posts carry their real times: the builder writes their sample lines
    byte for byte (id, unescaped text, time, language, engagement, link, field order)."""
    lines = set(SAMPLE.read_bytes().splitlines(keepends=True))
    real = [line for line in excerpt
            if json.loads(line)["id"].startswith(("crisislex-", "trump-", "reddit-"))]
    assert [line for line in real if line not in lines] == []
    for prefix in [*(f"crisislex-{event}-" for event in CRISIS_EVENTS), "trump-", "reddit-"]:
        assert ids_of(real, prefix), f"the excerpt builds no {prefix}* post"


def test_posts_with_synthetic_times_match_the_sample_but_for_the_time(excerpt: list[bytes]) -> None:
    """Weibo and TweetEval posts get times drawn in sampling order, which a cut of the data
    changes; all else is the sample's."""
    sample = {post["id"]: post for post in map(json.loads, SAMPLE.read_bytes().splitlines())}
    synthetic = [json.loads(line) for line in excerpt
                 if json.loads(line)["id"].startswith(("weibo-", "tweeteval-"))]
    for post in synthetic:
        assert post["id"] in sample, post["id"]
        assert {**post, "created_at": None} == {**sample[post["id"]], "created_at": None}
    for prefix in [*(f"weibo-{topic}-" for topic in WEIBO_TOPICS), "tweeteval-"]:
        assert ids_of(excerpt, prefix), f"the excerpt builds no {prefix}* post"


def test_the_builder_drops_what_the_sample_must_not_hold(excerpt: list[bytes]) -> None:
    """The excerpt holds later copies of kept texts (CrisisLex; Weibo across its files) and
    NSFW Reddit posts: the sample holds none of them, so none may be built."""
    ids = {json.loads(line)["id"] for line in SAMPLE.read_bytes().splitlines()}
    built = ids_of(excerpt, "")
    assert [i for i in built if i not in ids] == []
    rows = 0
    for path in sorted((SOURCE / "data").rglob("*.?sv")):
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows += len(list(csv.reader(f, delimiter="\t" if path.suffix == ".tsv" else ","))) - 1
    assert len(built) < rows  # the dropped rows are there to be dropped
