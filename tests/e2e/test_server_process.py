"""The real thing: `trendsearch` processes on 127.0.0.1, talking HTTP.

Bounded: one server, a handful of requests, every wait capped in seconds.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
POSTS = [
    {"id": "s1", "text": "Flood waters rising in Calgary, evacuation ordered", "platform": "twitter",
     "created_at": "2024-05-01T12:00:00Z", "likes": 12},
    {"id": "s2", "text": "深圳禁摩限电，电动车车主怎么上班？", "platform": "weibo",
     "created_at": "2024-05-01T20:00:00+08:00"},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data = tmp_path_factory.mktemp("data")
    port = free_port()
    env = {**os.environ, "TRENDSEARCH_PROFILE": "tiny", "TRENDSEARCH_DATA_DIR": str(data),
           "TRENDSEARCH_PORT": str(port), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not come up within 90 s")
            time.sleep(0.3)
        yield base, env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_ingest_and_search_over_real_http(server: tuple[str, dict[str, str]]) -> None:
    base, _ = server
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.post("/v1/posts", json={"posts": POSTS}).json()["indexed"] == 2
        ready = http.get("/ready").json()
        assert ready["profile"] == "tiny" and ready["store"]["points"] == 2
        hits = http.post("/v1/search", json={"query": "深圳 电动车", "explain": True}).json()["results"]
        assert {h["id"] for h in hits} == {"s1", "s2"}
        assert all("explain" in h for h in hits)
        bad = http.post("/v1/search", json={"query": "x", "limit": 0})
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")


def test_a_second_process_cannot_take_the_embedded_store(server: tuple[str, dict[str, str]],
                                                         tmp_path: Path) -> None:
    _, env = server
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps(p) for p in POSTS))
    result = cli("index", str(posts), env=env)
    assert result.returncode == 1
    assert "in use by another trendsearch process" in result.stderr
    assert "POST /v1/posts" in result.stderr


def test_reindex_beside_serve_goes_through_the_server(server: tuple[str, dict[str, str]]) -> None:
    """Edge's lock keeps a second process out; the error names the way that works, and
    `reindex --server` rebuilds inside the serving process, which answers from the new
    index without a restart."""
    base, env = server
    refused = cli("reindex", env=env)
    assert refused.returncode == 1
    assert "trendsearch reindex --server URL" in refused.stderr
    before = httpx.get(f"{base}/ready", timeout=10).json()["store"]
    done = cli("reindex", "--server", base, "--batch-size", "1", "--poll-s", "0.2", env=env)
    assert done.returncode == 0, done.stderr
    after = httpx.get(f"{base}/ready", timeout=10).json()["store"]
    assert after["index"] != before["index"] and after["points"] == before["points"]
    assert "is now live" in done.stdout and after["index"] in done.stdout
    hits = httpx.post(f"{base}/v1/search", json={"query": "深圳 电动车"}, timeout=30).json()
    assert {h["id"] for h in hits["results"]} >= {"s2"}
    unreachable = cli("reindex", "--server", f"http://127.0.0.1:{free_port()}", env=env)
    assert unreachable.returncode == 1 and "cannot reach the trendsearch API" in unreachable.stderr
