"""The bundled sample (`data/sample/posts.jsonl`) is valid, varied and reproducible.

Demos and integration tests index this file, so it must hold whole posts only,
cover every labelled event and topic they query for, and be exactly what
`lab/scripts/build_sample.py` produces from the shared data.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from search.models import Post

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "data" / "sample" / "posts.jsonl"
SCRIPT = REPO_ROOT / "lab" / "scripts" / "build_sample.py"
SHARED = (REPO_ROOT / ".." / "shared").resolve()

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


@pytest.mark.skipif(
    not (SHARED / "data").is_dir(),
    reason=f"shared source data not found at {SHARED}/data (expected ../shared next to the repo)",
)
def test_script_reproduces_sample(tmp_path: Path) -> None:
    out = tmp_path / "posts.jsonl"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--shared", str(SHARED), "--out", str(out)],
        check=True,
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
    )
    assert out.read_bytes() == SAMPLE.read_bytes()
