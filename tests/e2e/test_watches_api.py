"""Watches over HTTP, and webhooks against a real receiver on 127.0.0.1.

The receiver is a plain `http.server` in a thread, on 127.0.0.1 only, which the
settings allow explicitly (the default allows public https addresses only).
Retries wait milliseconds here, so a failing receiver costs a few requests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from search.embed.base import Embedder
from search.rerank import Reranker
from server.app import create_app
from server.profiles import Models
from server.services import Services
from server.settings import load_settings
from server.watches.delivery import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Deliverer,
    verify,
)
from tests.factories import TinyLexical, corpus

SECRET = "a-webhook-secret-of-some-length"
WRITE_KEY = "write-key-0123456789abcdef"
READ_KEY = "read-key-0123456789abcdef"
QUERY = "Calgary flood waters rising downtown"
NOW = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)


class Receiver:
    """Records every POST; answers `status` (change it to make the receiver fail)."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k: v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def settings_for(data_dir: Path, **env: str) -> Any:
    return load_settings({"TRENDSEARCH_WEBHOOK_SCHEMES": "https,http",
                          "TRENDSEARCH_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1",
                          "TRENDSEARCH_WATCH_PASS_MINUTES": "0", **env},
                         profile="tiny", data_dir=str(data_dir))


class App:
    """One process: services over `data_dir` and a client; `close` is a stop."""

    def __init__(self, data_dir: Path, embedder: Embedder, reranker: Reranker, **env: str) -> None:
        settings = settings_for(data_dir, **env)
        self.services = Services.build(settings, Models(embedder=embedder, reranker=reranker,
                                                        profile="tiny"))
        self.client: TestClient[Any] = TestClient(create_app(settings, self.services))
        self.client.__enter__()
        runtime = self.services.watches
        assert runtime is not None
        self.runtime = runtime
        self.deliverer = Deliverer(runtime.ledger, runtime.guard, attempts=3,
                                   wait_initial_s=0.01, wait_max_s=0.05, timeout_s=5)

    def close(self) -> None:
        self.deliverer.close()
        self.client.__exit__(None, None, None)
        self.services.close()


@pytest.fixture
def embedder(tiny_embedder: Embedder) -> Embedder:
    return TinyLexical(tiny_embedder)  # type: ignore[return-value]


def background(client: TestClient[Any]) -> None:
    """Two days of posts about other things: what the watch is calibrated against."""
    texts = [p.text for p in corpus() if not p.id.startswith("flood")]
    posts = [{"id": f"bg-{h}", "text": texts[h % len(texts)], "platform": "twitter",
              "created_at": (NOW - timedelta(hours=48 - h, minutes=30)).isoformat()}
             for h in range(48)]
    assert client.post("/v1/posts", json={"posts": posts}).status_code == 200


def burst_posts(tag: str, at: datetime) -> list[dict[str, Any]]:
    return [{"id": f"{tag}-{i}", "text": f"{QUERY} {w}", "platform": "twitter",
             "created_at": (at - timedelta(minutes=5 + i)).isoformat()}
            for i, w in enumerate(["now", "again", "badly", "tonight", "fast", "still"])]


def watch_body(url: str, **extra: Any) -> dict[str, Any]:
    return {"id": "calgary", "name": "Calgary floods", "query": QUERY,
            "triggers": {"relevance": "loose"}, "webhook": {"url": url, "secret": SECRET},
            **extra}


def test_watches_are_managed_over_http(tmp_path: Path, embedder: Embedder,
                                       tiny_reranker: Reranker, receiver: Receiver) -> None:
    app = App(tmp_path, embedder, tiny_reranker)
    try:
        c = app.client
        created = c.post("/v1/watches", json=watch_body(receiver.url))
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["webhook"] == {"url": receiver.url, "secret_set": True}  # never the secret
        assert body["triggers"]["burst"]["window_minutes"] == 60  # defaults filled in
        assert c.get("/v1/watches").json()["watches"][0]["id"] == "calgary"
        changed = c.patch("/v1/watches/calgary", json={"name": "Calgary", "enabled": False})
        assert changed.json()["name"] == "Calgary" and changed.json()["enabled"] is False
        got = c.get("/v1/watches/calgary")
        assert got.json()["query"] == QUERY, got.text
        assert c.post("/v1/watches", json=watch_body(receiver.url)).status_code == 422  # id taken
        assert c.delete("/v1/watches/calgary").status_code == 204
        assert c.get("/v1/watches/calgary").status_code == 404
        assert c.get("/v1/alerts").json() == {"alerts": []}
    finally:
        app.close()


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "query": "-sport"}, "query"),
    ({"name": "x", "query": "flood", "triggers": {"burst": {"min_z": 0}}}, "triggers.burst.min_z"),
    ({"name": "x", "query": "flood", "webhook": {"url": "ftp://example.org/x",
                                                 "secret": SECRET}}, "webhook.url"),
    ({"name": "x", "query": "flood", "webhook": {"url": "http://10.1.2.3/x",
                                                 "secret": SECRET}}, "webhook.url"),
    ({"name": "x", "query": "flood", "webhook": {"url": "http://169.254.169.254/latest",
                                                 "secret": SECRET}}, "webhook.url"),
    ({"name": "x", "query": "flood", "webhook": {"url": "https://example.org/x",
                                                 "secret": "short"}}, "webhook.secret"),
    ({"name": "x", "query": "flood", "filters": {"since": "2024-05-01T00:00:00Z"}},
     "filters.since"),
    ({"name": "x", "query": "flood", "colour": "red"}, "colour"),
])
def test_a_bad_watch_is_a_422_naming_the_field(tmp_path: Path, embedder: Embedder,
                                               tiny_reranker: Reranker, body: dict[str, Any],
                                               field: str) -> None:
    app = App(tmp_path, embedder, tiny_reranker)
    try:
        response = app.client.post("/v1/watches", json=body)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]
        assert app.client.get("/v1/watches").json() == {"watches": []}
    finally:
        app.close()


def test_managing_needs_a_write_key_and_alerts_follow_read_keys(
        tmp_path: Path, embedder: Embedder, tiny_reranker: Reranker) -> None:
    app = App(tmp_path, embedder, tiny_reranker, TRENDSEARCH_API_KEYS=WRITE_KEY,
              TRENDSEARCH_READ_KEYS=READ_KEY)
    try:
        c = app.client
        plain = {"name": "x", "query": "flood"}
        assert c.post("/v1/watches", json=plain).status_code == 401
        read = {"Authorization": f"Bearer {READ_KEY}"}
        assert c.post("/v1/watches", json=plain, headers=read).status_code == 403
        assert c.get("/v1/watches", headers=read).status_code == 403
        assert c.get("/v1/alerts").status_code == 401
        assert c.get("/v1/alerts", headers=read).status_code == 200
        write = {"X-API-Key": WRITE_KEY}
        assert c.post("/v1/watches", json=plain, headers=write).status_code == 201
    finally:
        app.close()


def test_webhooks_are_signed_retried_dead_lettered_replayed_and_never_doubled(
        tmp_path: Path, embedder: Embedder, tiny_reranker: Reranker, receiver: Receiver) -> None:
    app = App(tmp_path, embedder, tiny_reranker)
    try:
        c = app.client
        assert c.post("/v1/watches", json=watch_body(receiver.url)).status_code == 201
        background(c)
        assert c.post("/v1/posts", json={"posts": burst_posts("a", NOW)}).status_code == 200
        receiver.status = 503  # the receiver is down
        (alert,) = app.runtime.service.run_pass(NOW, render=_render)
        assert app.deliverer.deliver_due() == 0
        assert len(receiver.received) == 3  # every attempt reached it
        (dead,) = c.get("/v1/webhooks/dead-letters").json()["dead_letters"]
        assert dead["alert_id"] == alert.id and dead["attempts"] == 3 and dead["status_code"] == 503
        receiver.status = 200  # back up: replay
        assert c.post("/v1/webhooks/dead-letters/replay").json() == {"replayed": 1}
        assert app.deliverer.deliver_due() == 1
        assert c.get("/v1/webhooks/dead-letters").json() == {"dead_letters": []}
        headers, body = receiver.received[-1]
        assert verify(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify("another-secret-entirely!", headers[TIMESTAMP_HEADER], body,
                          headers[SIGNATURE_HEADER])
        assert {h[IDEMPOTENCY_HEADER] for h, _ in receiver.received} == {alert.id}
        sent = json.loads(body)
        assert sent["alert"]["id"] == alert.id and sent["watch"]["id"] == "calgary"
        assert len(sent["alert"]["posts"]) >= 4 and sent["alert"]["trigger"] == "burst"
        listed = c.get("/v1/alerts", params={"watch": "calgary"}).json()["alerts"]
        assert [a["id"] for a in listed] == [alert.id]
        assert c.get("/v1/alerts", params={"since": "2024-05-04T00:00:00Z"}).json() == {
            "alerts": []}
        for bad in ("-5884664", "1714600000", "2024-05-04T00:00:00", "0001-01-01T00:00:00Z"):
            answer = c.get("/v1/alerts", params={"since": bad})  # a number is not a time here
            assert answer.status_code == 422, bad
            assert answer.json()["errors"][0]["field"] == "since"
    finally:
        app.close()

    app = App(tmp_path, embedder, tiny_reranker)  # a restart
    try:
        assert app.runtime.service.run_pass(NOW, render=_render) == []
        assert app.deliverer.deliver_due() == 0
        assert len(receiver.received) == 4  # 3 failed + 1 delivered; nothing again
        later = NOW + timedelta(hours=1)
        app.client.post("/v1/posts", json={"posts": burst_posts("b", later)})
        assert app.runtime.service.run_pass(later, render=_render) == []  # the same episode
        assert app.deliverer.deliver_due() == 0 and len(receiver.received) == 4
    finally:
        app.close()


def test_a_receiver_that_refuses_is_dead_lettered_at_once(
        tmp_path: Path, embedder: Embedder, tiny_reranker: Reranker, receiver: Receiver) -> None:
    app = App(tmp_path, embedder, tiny_reranker)
    try:
        app.client.post("/v1/watches", json=watch_body(receiver.url))
        background(app.client)
        app.client.post("/v1/posts", json={"posts": burst_posts("a", NOW)})
        receiver.status = 410  # gone: retrying will not help
        app.runtime.service.run_pass(NOW, render=_render)
        assert app.deliverer.deliver_due() == 0 and len(receiver.received) == 1
        (dead,) = app.runtime.ledger.dead_letters()
        assert dead.status_code == 410 and dead.attempts == 1
    finally:
        app.close()


def _render(watch: Any, alert: Any) -> bytes:
    from server.watches.delivery import render

    return render(watch, alert)
