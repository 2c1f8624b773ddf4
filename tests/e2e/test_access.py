"""API keys, rate limits, CORS, body limits and `/metrics`, over Litestar's TestClient.

One `Services` (tiny models, one embedded index) serves every app in this
module; each test builds an app with the settings it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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

PROBLEM = "application/problem+json"
WRITE_KEY = "write-key-0123456789abcdef"
READ_KEY = "read-key-0123456789abcdef"
POST = {"id": "acc-1", "text": "Flood waters rising in Calgary", "platform": "twitter",
        "created_at": "2024-05-01T12:00:00+00:00", "likes": 5}
SEARCH = {"query": "flood"}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, tiny_embedder: Embedder,
             tiny_reranker: Reranker) -> Iterator[Services]:
    settings = load_settings({}, profile="tiny", data_dir=str(tmp_path_factory.mktemp("access")))
    built = Services.build(settings, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                            profile="tiny"))
    yield built
    built.close()


@pytest.fixture
def make_client(services: Services) -> Iterator[Any]:
    clients: list[TestClient[Any]] = []

    def make(**settings: Any) -> TestClient[Any]:
        config = load_settings({}, profile="tiny", data_dir=services.settings.data_dir, **settings)
        client = TestClient(create_app(config, services))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


# -- keys -------------------------------------------------------------------------

def test_without_keys_writes_are_open_on_loopback(make_client: Any) -> None:
    client = make_client()
    assert client.post("/v1/posts", json={"posts": [POST]}).status_code == 200


def test_without_keys_writes_are_refused_on_a_public_bind(make_client: Any) -> None:
    client = make_client(host="0.0.0.0")
    body = problem(client.post("/v1/posts", json={"posts": [POST]}), 403)
    assert "TRENDSEARCH_API_KEYS" in body["detail"] and "0.0.0.0" in body["detail"]
    problem(client.delete("/v1/posts/acc-1"), 403)
    assert client.post("/v1/search", json=SEARCH).status_code == 200


def test_write_keys_guard_every_write(make_client: Any) -> None:
    client = make_client(api_keys=f"{WRITE_KEY}, other-write-key-0123456789", read_keys=READ_KEY)
    missing = client.post("/v1/posts", json={"posts": [POST]})
    assert "needs an API key" in problem(missing, 401)["detail"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = client.post("/v1/posts", json={"posts": [POST]}, headers=bearer("not-a-key-at-all-xxxx"))
    assert "not one this server knows" in problem(wrong, 401)["detail"]
    read_only = client.post("/v1/posts", json={"posts": [POST]}, headers=bearer(READ_KEY))
    assert "may only read" in problem(read_only, 403)["detail"]
    for method, path, body in [("PATCH", "/v1/posts/acc-1/engagement", {"likes": 1}),
                               ("DELETE", "/v1/posts/acc-1", None),
                               ("GET", "/v1/takedowns", None),
                               ("DELETE", "/v1/takedowns/acc-1", None)]:
        problem(client.request(method, path, json=body), 401)
        problem(client.request(method, path, json=body, headers=bearer(READ_KEY)), 403)
    ok = client.post("/v1/posts", json={"posts": [POST]}, headers=bearer(WRITE_KEY))
    assert ok.status_code == 200, ok.text
    ok = client.post("/v1/posts", json={"posts": [POST]},
                     headers={"x-api-key": "other-write-key-0123456789"})
    assert ok.status_code == 200, ok.text


def test_read_keys_close_reads_but_not_operations(make_client: Any) -> None:
    client = make_client(api_keys=WRITE_KEY, read_keys=READ_KEY)
    problem(client.post("/v1/search", json=SEARCH), 401)
    problem(client.get("/v1/posts/acc-1"), 401)
    problem(client.post("/v1/search", json=SEARCH, headers=bearer("guessed-key-0123456789")), 401)
    for key in (READ_KEY, WRITE_KEY):
        assert client.post("/v1/search", json=SEARCH, headers=bearer(key)).status_code == 200
    for path in ("/health", "/metrics", "/", "/schema/openapi.json"):
        assert client.get(path).status_code == 200, path
    # Readiness names the index and its models: a read like any other (issue 14).
    problem(client.get("/ready"), 401)
    assert client.get("/ready", headers=bearer(READ_KEY)).status_code == 200


def test_only_a_write_key_reaches_the_reindex_admin(make_client: Any) -> None:
    """`/v1/admin/reindex` re-embeds every post: neither anonymous callers nor read keys
    may start it or read its status; bad input from a writer is a 422, nothing starts."""
    client = make_client(api_keys=WRITE_KEY, read_keys=READ_KEY)
    for headers, status in (({}, 401), (bearer(READ_KEY), 403)):
        problem(client.post("/v1/admin/reindex", json={}, headers=headers), status)
        problem(client.get("/v1/admin/reindex", headers=headers), status)
    bad = problem(client.post("/v1/admin/reindex", json={"batch_size": 0},
                              headers=bearer(WRITE_KEY)), 422)
    assert bad["errors"][0]["field"] == "batch_size"
    idle = client.get("/v1/admin/reindex", headers=bearer(WRITE_KEY))
    assert idle.status_code == 200 and idle.json()["state"] == "idle"


def test_without_read_keys_reads_are_open(make_client: Any) -> None:
    client = make_client(api_keys=WRITE_KEY)
    assert client.post("/v1/search", json=SEARCH).status_code == 200


# -- rate limit -------------------------------------------------------------------

def test_the_rate_limit_answers_429_per_key_or_client(make_client: Any) -> None:
    client = make_client(rate_limit_per_minute=3, api_keys=WRITE_KEY, read_keys=READ_KEY)
    for _ in range(3):
        answer = client.post("/v1/search", json=SEARCH, headers=bearer(READ_KEY))
        assert answer.status_code == 200
    assert answer.headers["ratelimit-remaining"] == "0"
    limited = client.post("/v1/search", json=SEARCH, headers=bearer(READ_KEY))
    body = problem(limited, 429)
    assert body["type"].endswith("/too-many-requests")
    assert limited.headers["ratelimit-limit"] == "3" and int(limited.headers["retry-after"]) > 0
    # Another key has its own budget; operations endpoints are never limited.
    assert client.post("/v1/search", json=SEARCH, headers=bearer(WRITE_KEY)).status_code == 200
    for _ in range(5):
        assert client.get("/health").status_code == 200
    # Keys the server does not know share the caller's address budget (3 requests).
    for n in range(4):
        answer = client.post("/v1/search", json=SEARCH, headers=bearer(f"made-up-key-{n:010d}"))
        assert answer.status_code == (401 if n < 3 else 429), (n, answer.text)


def test_rate_limit_zero_turns_it_off(make_client: Any) -> None:
    client = make_client(rate_limit_per_minute=0)
    answer = client.get("/v1/posts/nothing-here")
    assert answer.status_code == 404 and "ratelimit-limit" not in answer.headers


# -- CORS ---------------------------------------------------------------------------

def preflight(client: TestClient[Any], origin: str) -> Any:
    return client.options("/v1/posts/acc-1", headers={
        "origin": origin, "access-control-request-method": "DELETE",
        "access-control-request-headers": "authorization, content-type"})


def test_cors_answers_allowed_origins_only(make_client: Any) -> None:
    client = make_client(cors_origins="https://desk.example.org, http://localhost:5173")
    allowed = preflight(client, "https://desk.example.org")
    assert allowed.status_code in (200, 204), allowed.text
    assert allowed.headers["access-control-allow-origin"] == "https://desk.example.org"
    assert "DELETE" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    other = preflight(client, "https://evil.example.com")
    assert "access-control-allow-origin" not in other.headers
    simple = client.post("/v1/search", json=SEARCH, headers={"origin": "http://localhost:5173"})
    assert simple.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "ratelimit-remaining" in simple.headers["access-control-expose-headers"].lower()
    foreign = client.post("/v1/search", json=SEARCH, headers={"origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in foreign.headers


def test_no_cors_headers_without_configured_origins(make_client: Any) -> None:
    client = make_client()
    answer = preflight(client, "https://desk.example.org")
    assert "access-control-allow-origin" not in answer.headers


# -- body size ------------------------------------------------------------------

def test_bodies_over_the_limit_are_413(make_client: Any) -> None:
    client = make_client(max_body_bytes=2048)
    big = {"posts": [{**POST, "id": f"big-{i}"} for i in range(40)]}
    body = problem(client.post("/v1/posts", json=big), 413)
    assert body["type"].endswith("/request-entity-too-large") or "too-large" in body["type"]
    assert client.post("/v1/search", json=SEARCH).status_code == 200


# -- metrics --------------------------------------------------------------------

def sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name + (f"{{{wanted}}}" if labels else "")) + r" ([0-9.e+-]+)"
    found = re.search(r"^" + pattern + "$", text, flags=re.MULTILINE)
    assert found, f"{name} {labels} not in metrics:\n{text}"
    return float(found.group(1))


def test_metrics_count_routes_statuses_stages_errors_and_index_size(make_client: Any,
                                                                    services: Services) -> None:
    client = make_client(api_keys=WRITE_KEY)
    client.post("/v1/posts", json={"posts": [POST]}, headers=bearer(WRITE_KEY))
    for _ in range(2):
        client.post("/v1/search", json={"query": "flood", "mode": "trending"})
    client.get("/v1/posts/no-such-post")
    client.post("/v1/posts", json={"posts": [POST]})  # 401
    client.get("/v1/no-such-route")
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = answer.text
    assert sample(text, "trendsearch_http_requests_total", method="POST", route="/v1/search",
                  status="200") == 2
    assert sample(text, "trendsearch_http_requests_total", method="GET",
                  route="/v1/posts/{post_id}", status="404") == 1
    assert sample(text, "trendsearch_http_requests_total", method="POST", route="/v1/posts",
                  status="401") == 1
    assert sample(text, "trendsearch_http_request_duration_seconds_count", method="POST",
                  route="/v1/search") == 2
    for stage in ("embed", "recall", "rerank", "boost"):
        assert sample(text, "trendsearch_search_stage_seconds_count", stage=stage) == 2
    assert sample(text, "trendsearch_errors_total", error="NotFound") == 1
    assert sample(text, "trendsearch_errors_total", error="NotAuthorizedException") == 1
    assert sample(text, "trendsearch_errors_total", error="NotFoundException") == 1
    assert 'route="/v1/no-such-route"' not in text  # raw paths never become labels
    assert sample(text, "trendsearch_index_points") == services.store.count() >= 1
    assert sample(text, "trendsearch_takedowns") == 0


def test_openapi_lists_the_new_endpoints(make_client: Any) -> None:
    paths = make_client().get("/schema/openapi.json").json()["paths"]
    assert "patch" in paths["/v1/posts/{post_id}/engagement"]
    assert "delete" in paths["/v1/posts/{post_id}"]
    assert {"/v1/takedowns", "/v1/takedowns/{post_id}"} <= set(paths)
    assert "/metrics" not in paths


def test_bad_settings_name_the_variable() -> None:
    from search.errors import FieldError

    with pytest.raises(FieldError) as info:
        load_settings({"TRENDSEARCH_API_KEYS": "short"})
    assert info.value.field == "TRENDSEARCH_API_KEYS" and "16+" in info.value.problem
    with pytest.raises(FieldError) as info:
        load_settings({"TRENDSEARCH_CORS_ORIGINS": "desk.example.org"})
    assert info.value.field == "TRENDSEARCH_CORS_ORIGINS"


def test_keys_never_reach_the_log(make_client: Any, caplog: pytest.LogCaptureFixture,
                                  tmp_path: Path) -> None:
    client = make_client(api_keys=WRITE_KEY, read_keys=READ_KEY)
    client.post("/v1/posts", json={"posts": [POST]}, headers=bearer(WRITE_KEY))
    assert WRITE_KEY not in caplog.text and READ_KEY not in caplog.text
