"""Forwarded headers are believed only from listed proxies (a real uvicorn on 127.0.0.1).

Issue 14: behind no proxy, uvicorn believed `X-Forwarded-For` from loopback by
default, so a local client got a fresh rate-limit bucket per header value.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server_process import REPO, free_port


@contextmanager
def serving(data: Path, **env_extra: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "TRENDSEARCH_PROFILE": "tiny", "TRENDSEARCH_DATA_DIR": str(data),
           "TRENDSEARCH_PORT": str(port), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "FORWARDED_ALLOW_IPS": "*", **env_extra}  # uvicorn's own variable must not matter
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
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def statuses(base: str, n: int) -> list[int]:
    return [httpx.get(f"{base}/v1/posts/none", timeout=10,
                      headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(n)]


@pytest.mark.slow
def test_forwarded_for_is_ignored_unless_the_sender_is_a_trusted_proxy(tmp_path: Path) -> None:
    with serving(tmp_path / "a", TRENDSEARCH_RATE_LIMIT_PER_MINUTE="3") as base:
        assert statuses(base, 4) == [404, 404, 404, 429]
    with serving(tmp_path / "b", TRENDSEARCH_RATE_LIMIT_PER_MINUTE="3",
                 TRENDSEARCH_TRUSTED_PROXIES="127.0.0.1") as base:
        assert statuses(base, 4) == [404, 404, 404, 404]
