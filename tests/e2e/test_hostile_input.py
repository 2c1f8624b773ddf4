"""Issue 14's repros against the HTTP API: each one a 4xx problem naming the field, never a 500.

One app (tiny models, one embedded index) serves the module; every request is
one a careless feed or an attacker could send.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from search.embed.base import Embedder
from search.rerank import Reranker
from tests.factories import tiny_api

PROBLEM = "application/problem+json"
GOOD = {"id": "h-1", "text": "Flood waters rising in Calgary", "platform": "twitter",
        "created_at": "2024-05-01T12:00:00+00:00"}
NESTED = b"[" * 5000 + b"]" * 5000
JSON = {"content-type": "application/json"}
EARLY = "0001-01-01T00:00:00+01:00"  # overflowed once converted to UTC
LATE = "9999-12-31T23:00:00-05:00"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, tiny_embedder: Embedder,
           tiny_reranker: Reranker) -> Iterator[TestClient[Any]]:
    data = tmp_path_factory.mktemp("hostile")
    with tiny_api(str(data), tiny_embedder, tiny_reranker) as test_client:
        assert test_client.post("/v1/posts", json={"posts": [GOOD]}).status_code == 200
        yield test_client


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/posts", b'{"posts": [' + NESTED + b"]}"),
    ("POST", "/v1/search", b'{"query": "x", "filters": ' + NESTED + b"}"),
    ("POST", "/v1/search", b'{"query": "x", "nope": ' + NESTED + b"}"),
    ("POST", "/v1/search", NESTED),
    ("PATCH", "/v1/posts/h-1/engagement", b'{"likes": ' + NESTED + b"}"),
])
def test_deeply_nested_bodies_are_422_naming_the_body(client: TestClient[Any], method: str,
                                                      path: str, body: bytes) -> None:
    found = problem(client.request(method, path, content=body, headers=JSON), 422)
    assert fields(found) == ["(body)"] and "nested more than" in found["errors"][0]["problem"]


@pytest.mark.parametrize("created_at", [EARLY, LATE])
def test_ingest_refuses_created_at_outside_the_range(client: TestClient[Any], created_at: str) -> None:
    found = problem(client.post("/v1/posts", json={"posts": [{**GOOD, "created_at": created_at}]}), 422)
    assert found["errors"] == [{"field": "created_at", "index": 0, "problem":
                                "must lie between 1970-01-01T00:00:00Z and 9998-12-31T23:59:59Z "
                                f"(UTC); got {created_at}"}]


@pytest.mark.parametrize("mode", ["relevance", "trending", "latest"])
@pytest.mark.parametrize(("extra", "field"), [
    ({"as_of": EARLY}, "as_of"), ({"as_of": LATE}, "as_of"),
    ({"filters": {"since": EARLY}}, "filters.since"), ({"filters": {"until": LATE}}, "filters.until"),
])
def test_search_refuses_instants_outside_the_range_in_every_mode(
        client: TestClient[Any], mode: str, extra: dict[str, Any], field: str) -> None:
    found = problem(client.post("/v1/search", json={"query": "flood", "mode": mode, **extra}), 422)
    assert fields(found) == [field]


@pytest.mark.parametrize(("params", "field"), [
    ({"as_of": EARLY}, "as_of"), ({"as_of": "0001-01-02T00:00:00Z"}, "as_of"),
    ({"as_of": LATE}, "as_of"),
    ({"window": "99999999999999999999h"}, "window"),
    ({"baseline": "99999999999999999999h"}, "baseline"),
])
def test_trends_refuses_bad_instants_and_absurd_durations(client: TestClient[Any],
                                                          params: dict[str, str], field: str) -> None:
    assert fields(problem(client.get("/v1/trends", params=params), 422)) == [field]


@pytest.mark.parametrize("path", ["/%00", "/index.html%00", "/%00/x", "/v1/posts/%00"])
def test_a_nul_in_the_path_is_a_4xx(client: TestClient[Any], path: str) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500, response.text


def test_a_trailing_newline_does_not_make_a_second_post(client: TestClient[Any]) -> None:
    found = problem(client.post("/v1/posts", json={"posts": [{**GOOD, "id": "h-1\n"}]}), 422)
    assert fields(found) == ["id"]


def test_a_batch_holding_one_id_twice_is_refused_naming_the_second(client: TestClient[Any]) -> None:
    body = {"posts": [{**GOOD, "id": "dup"}, {**GOOD, "id": "other"}, {**GOOD, "id": "dup"}]}
    found = problem(client.post("/v1/posts", json=body), 422)
    assert found["errors"] == [{"field": "id", "index": 2,
                                "problem": "the id of item 0 again; send each post once per batch"}]
    assert client.get("/v1/posts/dup").status_code == 404


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("POST", "/v1/posts", {"posts": [{**GOOD, "likes": "3"}]}, "likes"),
    ("POST", "/v1/search", {"query": "flood", "limit": "5"}, "limit"),
    ("POST", "/v1/search", {"query": "flood", "explain": "true"}, "explain"),
    ("PATCH", "/v1/posts/h-1/engagement", {"likes": "7"}, "likes"),
])
def test_numbers_in_strings_are_refused_not_coerced(client: TestClient[Any], method: str, path: str,
                                                    body: dict[str, Any], field: str) -> None:
    assert fields(problem(client.request(method, path, json=body), 422)) == [field]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/posts", b'{"posts": []}'),
    ("POST", "/v1/search", b'{"query": "flood"}'),
    ("PATCH", "/v1/posts/h-1/engagement", b'{"likes": 1}'),
])
def test_a_body_that_is_not_json_by_content_type_is_415(client: TestClient[Any], method: str,
                                                        path: str, body: bytes) -> None:
    problem(client.request(method, path, content=body, headers={"content-type": "text/plain"}), 415)


def test_ready_reveals_no_path(client: TestClient[Any]) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    data_path = str(client.app.state.services.settings.data_path)
    assert data_path not in response.text and '"/' not in response.text


def test_options_lists_every_method_of_the_path(client: TestClient[Any]) -> None:
    allow = client.options("/v1/posts/h-1").headers["allow"]
    assert {m.strip() for m in allow.split(",")} >= {"GET", "DELETE", "OPTIONS"}
