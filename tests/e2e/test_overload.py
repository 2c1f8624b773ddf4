"""Admission control over the real app: CPU-bound work bounded and refused early, reads unaffected.

The one worker is held by a real job (a thread waiting on an event) started on
the app's own event loop, so what the test sees is the app's state, not a stub.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from search.embed.base import Embedder
from search.rerank import Reranker
from server.app import create_app
from server.profiles import Models
from server.services import Services
from server.settings import load_settings

POST = {"id": "ov-1", "text": "Flood waters rising in Calgary", "platform": "twitter",
        "created_at": "2024-05-01T12:00:00Z"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, tiny_embedder: Embedder,
           tiny_reranker: Reranker) -> Iterator[TestClient[Any]]:
    settings = load_settings({}, profile="tiny", data_dir=str(tmp_path_factory.mktemp("overload")),
                             work_threads=1, work_queue=1, retry_after_s=7)
    services = Services.build(settings, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                               profile="tiny"))
    with TestClient(create_app(settings, services)) as test_client:
        assert test_client.post("/v1/posts", json={"posts": [POST]}).status_code == 200
        yield test_client
    services.close()


def hold(client: TestClient[Any], n: int) -> threading.Event:
    """Occupy `n` admission places (running or waiting) until the event is set."""
    release = threading.Event()
    work = client.app.state.work
    for _ in range(n):
        client.blocking_portal.start_task_soon(work.run, release.wait)
    deadline = time.monotonic() + 10
    while work.admitted < n:
        assert time.monotonic() < deadline, "the held jobs never started"
        time.sleep(0.01)
    return release


def drained(client: TestClient[Any]) -> None:
    deadline = time.monotonic() + 10
    while client.app.state.work.admitted:
        assert time.monotonic() < deadline, "the held jobs never finished"
        time.sleep(0.01)


def test_past_the_workers_and_the_queue_work_is_refused_at_once_with_retry_after(
        client: TestClient[Any]) -> None:
    release = hold(client, 2)  # the worker and the one waiting place
    try:
        for method, path, body in (("POST", "/v1/search", {"query": "flood"}),
                                   ("POST", "/v1/posts", {"posts": [POST]}),
                                   ("GET", "/v1/trends", None)):
            started = time.perf_counter()
            answer = client.request(method, path, json=body)
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "7"
            assert answer.json()["type"].endswith("/overloaded")
            assert time.perf_counter() - started < 1.0  # refused, not queued
        # Cheap reads do not wait for the busy worker.
        assert client.get("/v1/posts/ov-1").status_code == 200
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 200
    finally:
        release.set()
    drained(client)
    assert client.post("/v1/search", json={"query": "flood"}).status_code == 200


def test_a_request_within_the_queue_waits_for_the_worker(client: TestClient[Any]) -> None:
    release = hold(client, 1)
    threading.Timer(0.3, release.set).start()
    started = time.perf_counter()
    answer = client.post("/v1/search", json={"query": "flood"})
    assert answer.status_code == 200, answer.text
    assert time.perf_counter() - started >= 0.25
    drained(client)
