"""kill -9 at several moments of `trendsearch index` and of an API batch: nothing partial, nothing doubled.

Real processes, the tiny profile, an embedded store; each kill lands where the
child's own log says it is (its JSON lines on stderr). After each kill the
store is opened as the next process would find it, then the same input is run
again to the end: every post once, each whole, no index left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from search.store.edge_catalog import EdgeCatalog
from tests.e2e.test_forwarded import serving
from tests.e2e.test_server_process import REPO

BATCH = 8
POSTS = [{"id": f"k{i}", "text": f"Flood report {i}: water rising on street {i % 17}",
          "platform": "twitter", "created_at": f"2024-05-01T{i % 24:02d}:00:00Z", "likes": i}
         for i in range(240)]


def env_for(data: Path) -> dict[str, str]:
    return {**os.environ, "TRENDSEARCH_PROFILE": "tiny", "TRENDSEARCH_DATA_DIR": str(data),
            "TRENDSEARCH_LOG_LEVEL": "INFO", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def index_cmd(source: Path) -> list[str]:
    return [sys.executable, "-m", "server.cli", "index", str(source), "--quiet",
            "--batch-size", str(BATCH)]


def kill_when(cmd: list[str], env: dict[str, str], event: str, count: int) -> None:
    """Run `cmd`; SIGKILL it once its log has said `event` `count` times."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seen = 0
    deadline = time.monotonic() + 120
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if f'"event":"{event}"' in line.replace(" ", ""):
                seen += 1
                if seen >= count:
                    break
            assert time.monotonic() < deadline, f"no {count}x {event} within 120 s"
        else:
            raise AssertionError(f"the process ended before {count}x {event}")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def stored(data: Path) -> tuple[list[str], int, dict[str, Any]]:
    """What the next process finds: index names, the live count, the posts by id."""
    catalog = EdgeCatalog(data / "edge")
    try:
        live = catalog.live_name()
        if live is None:
            return catalog.names(), 0, {}
        store = catalog.open(live)
        posts = {p.id: p for p in store.get([p["id"] for p in POSTS])}
        return catalog.names(), store.count(), posts
    finally:
        catalog.close()


def assert_whole(posts: dict[str, Any]) -> None:
    source = {p["id"]: p for p in POSTS}
    for post_id, post in posts.items():
        assert (post.text, post.likes) == (source[post_id]["text"], source[post_id]["likes"])


@pytest.mark.slow
@pytest.mark.parametrize(("event", "count"), [
    ("migrate.step", 1),  # inside the first run's schema steps: an unfinished index
    ("index.batch", 1),
    ("index.batch", 12),
])
def test_index_killed_then_rerun_stores_every_post_once_and_whole(
        tmp_path: Path, event: str, count: int) -> None:
    data = tmp_path / "data"
    source = tmp_path / "posts.jsonl"
    source.write_text("\n".join(json.dumps(p) for p in POSTS) + "\n", encoding="utf-8")
    env = env_for(data)
    kill_when(index_cmd(source), env, event, count)

    names, points, posts = stored(data)
    assert points % BATCH == 0, f"{points} points: a batch was cut in half"
    assert points == len(posts)
    assert_whole(posts)

    done = subprocess.run(index_cmd(source), cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"index holds {len(POSTS)} posts" in done.stdout
    names, points, posts = stored(data)
    assert points == len(POSTS) == len(posts)
    assert_whole(posts)
    assert len(names) == 1, f"indexes left behind: {names}"


@pytest.mark.slow
def test_an_api_batch_killed_in_flight_is_all_or_nothing_and_a_resend_stores_it_once(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    batch = {"posts": POSTS}
    with serving(data, TRENDSEARCH_LOG_LEVEL="WARNING") as base:
        pid = int(next(line for line in (data / "edge" / ".lock").read_text().splitlines()))
        answers: list[Any] = []
        sender = threading.Thread(target=lambda: answers.append(_post(base, batch)))
        sender.start()
        time.sleep(0.3)  # the batch is being embedded (240 posts, one upsert at the end)
        os.kill(pid, signal.SIGKILL)
        sender.join(timeout=60)
    _, points, posts = stored(data)
    assert points in (0, len(POSTS)), f"{points} of {len(POSTS)} posts: a batch was cut"
    assert_whole(posts)
    with serving(data, TRENDSEARCH_LOG_LEVEL="WARNING") as base:
        answer = _post(base, batch)
        assert answer is not None and answer.status_code == 200
        assert answer.json()["indexed"] == len(POSTS)
    _, points, posts = stored(data)
    assert points == len(posts) == len(POSTS)
    assert_whole(posts)


def _post(base: str, body: dict[str, Any]) -> httpx.Response | None:
    try:
        return httpx.post(f"{base}/v1/posts", json=body, timeout=60)
    except httpx.TransportError:
        return None  # the server died mid-request
