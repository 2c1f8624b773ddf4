"""The HTTP API in-process (Litestar's TestClient): shapes, statuses, problem details."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from search.embed.base import Embedder
from search.rerank import Reranker
from tests.factories import tiny_api

PROBLEM = "application/problem+json"
GOOD = {"id": "api-1", "text": "Flood waters rising in Calgary", "platform": "twitter",
        "created_at": "2024-05-01T12:00:00+00:00", "likes": 5}


@pytest.fixture
def client(tmp_path: Path, tiny_embedder: Embedder, tiny_reranker: Reranker) -> Iterator[TestClient[Any]]:
    with tiny_api(str(tmp_path), tiny_embedder, tiny_reranker) as test_client:
        yield test_client


def ingest(client: TestClient[Any], *posts: dict[str, Any]) -> Any:
    return client.post("/v1/posts", json={"posts": list(posts)})


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def test_ingest_then_search_then_fetch(client: TestClient[Any]) -> None:
    response = ingest(client, GOOD, {**GOOD, "id": "api-2", "text": "深圳禁摩限电", "platform": "weibo"})
    assert response.status_code == 200
    assert response.json() == {"indexed": 2, "ids": ["api-1", "api-2"]}
    found = client.post("/v1/search", json={"query": "Calgary flood", "explain": True}).json()
    assert {r["id"] for r in found["results"]} == {"api-1", "api-2"}
    first = found["results"][0]
    assert set(first) >= {"id", "text", "score", "platform", "created_at", "likes", "explain"}
    assert first["explain"]["models"]["reranker"].startswith("bge-reranker:")
    assert found["took_ms"] > 0 and found["mode"] == "relevance"
    post = client.get("/v1/posts/api-2").json()
    assert post["text"] == "深圳禁摩限电" and post["lang"] == "zh"


def test_explain_is_left_out_unless_asked(client: TestClient[Any]) -> None:
    ingest(client, GOOD)
    result = client.post("/v1/search", json={"query": "flood"}).json()["results"][0]
    assert "explain" not in result


def test_a_bad_batch_names_every_bad_item_and_stores_nothing(client: TestClient[Any]) -> None:
    response = ingest(client, GOOD, {**GOOD, "id": "b", "likes": -3},
                      {**GOOD, "id": "c", "created_at": "2024-05-01T12:00:00"},
                      {**GOOD, "id": "d", "mood": "happy"})
    body = assert_problem(response, 422)
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "likes"), (2, "created_at"), (3, "mood")]
    assert client.get("/ready").json()["store"]["points"] == 0
    assert_problem(client.get("/v1/posts/api-1"), 404)


@pytest.mark.parametrize(("body", "field"), [
    ({"query": "x", "limit": 101}, "limit"),
    ({"query": ""}, "query"),
    ({"query": "x", "mode": "viral"}, "mode"),
    ({"query": "x", "filters": {"since": "yesterday"}}, "filters.since"),
    ({"query": "x", "as_of": "2024-01-01T00:00:00"}, "as_of"),
    ({"query": "x", "colour": 1}, "colour"),
])
def test_bad_search_requests_are_422_naming_the_field(client: TestClient[Any], body: dict[str, Any],
                                                      field: str) -> None:
    problem = assert_problem(client.post("/v1/search", json=body), 422)
    assert problem["errors"][0]["field"] == field


@pytest.mark.parametrize(("body", "problem_text"), [
    (b"not json", "not valid JSON"),
    (b'[{"id": "x"}]', "the body must be"),
    (b'{"posts": []}', "empty"),
    (b'{"posts": [], "extra": 1}', "unknown field"),
])
def test_malformed_ingest_bodies_are_problems(client: TestClient[Any], body: bytes, problem_text: str) -> None:
    response = client.post("/v1/posts", content=body, headers={"content-type": "application/json"})
    assert problem_text in assert_problem(response, 422)["detail"]


def test_oversized_batches_are_refused(client: TestClient[Any]) -> None:
    posts = [{**GOOD, "id": f"p{i}"} for i in range(1001)]
    assert "at most 1000" in assert_problem(ingest(client, *posts), 422)["detail"]


def test_unknown_routes_are_problems_too(client: TestClient[Any]) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404)


def test_health_ready_and_openapi(client: TestClient[Any]) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["profile"] == "tiny" and ready["store"]["backend"] == "qdrant-edge"
    assert ready["store"]["schema"][0] == "0001_initial"
    schema = client.get("/schema/openapi.json").json()
    assert {"/v1/search", "/v1/posts", "/v1/posts/{post_id}", "/health", "/ready"} <= set(schema["paths"])


def test_the_web_page_is_served(client: TestClient[Any]) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "trendsearch" in page.text and "/v1/search" in page.text
