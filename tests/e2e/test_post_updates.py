"""`PATCH /v1/posts/{id}/engagement`, `DELETE /v1/posts/{id}` and the takedown list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from indexer.takedowns import Takedowns
from search.embed.base import Embedder
from search.rerank import Reranker
from search.trends.models import TrendsRequest
from server.app import create_app
from server.profiles import Models
from server.services import Services
from server.settings import load_settings

PROBLEM = "application/problem+json"


def post(pid: str, text: str = "Flood waters rising in Calgary", **extra: Any) -> dict[str, Any]:
    return {"id": pid, "text": text, "platform": "twitter",
            "created_at": "2024-05-01T12:00:00+00:00", "likes": 5, "reposts": 2, **extra}


@pytest.fixture
def services(tmp_path: Path, tiny_embedder: Embedder, tiny_reranker: Reranker) -> Iterator[Services]:
    settings = load_settings({}, profile="tiny", data_dir=str(tmp_path))
    built = Services.build(settings, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                            profile="tiny"))
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(services.settings, services)) as test_client:
        yield test_client


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def ids(client: TestClient[Any], query: str = "Calgary flood") -> set[str]:
    found = client.post("/v1/search", json={"query": query, "limit": 50, "collapse": False})
    assert found.status_code == 200, found.text
    return {r["id"] for r in found.json()["results"]}


# -- engagement -------------------------------------------------------------------

def test_engagement_updates_counts_without_re_embedding(client: TestClient[Any],
                                                        tiny_embedder: Embedder,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.post("/v1/posts", json={"posts": [post("e1")]}).status_code == 200

    def no_embedding(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an engagement update must not embed")

    monkeypatch.setattr(tiny_embedder, "encode_documents", no_embedding)
    answer = client.patch("/v1/posts/e1/engagement", json={"likes": 990, "comments": 7})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["likes"], answer.json()["reposts"], answer.json()["comments"]) == (990, 2, 7)
    stored = client.get("/v1/posts/e1").json()
    assert (stored["likes"], stored["reposts"], stored["comments"]) == (990, 2, 7)
    assert stored["text"] == "Flood waters rising in Calgary"
    hit = client.post("/v1/search", json={"query": "Calgary", "mode": "trending"}).json()["results"][0]
    assert hit["id"] == "e1" and hit["likes"] == 990
    assert client.post("/v1/search", json={"query": "Calgary",
                                           "filters": {"min_likes": 900}}).json()["results"]


def test_engagement_on_an_unknown_post_is_404(client: TestClient[Any]) -> None:
    body = problem(client.patch("/v1/posts/nope/engagement", json={"likes": 1}), 404)
    assert "nope" in body["detail"]


@pytest.mark.parametrize(("body", "field"), [
    ({"likes": -1}, "likes"),
    ({"reposts": "many"}, "reposts"),
    ({"comments": 1.5}, "comments"),
    ({"views": 3}, "views"),
])
def test_bad_engagement_is_422_naming_the_field(client: TestClient[Any], body: dict[str, Any],
                                                field: str) -> None:
    client.post("/v1/posts", json={"posts": [post("e2")]})
    answer = problem(client.patch("/v1/posts/e2/engagement", json=body), 422)
    assert answer["errors"][0]["field"] == field
    assert client.get("/v1/posts/e2").json()["likes"] == 5


@pytest.mark.parametrize("body", [{}, {"likes": None}])
def test_a_patch_that_sets_nothing_answers_the_post_unchanged(client: TestClient[Any],
                                                               body: dict[str, Any]) -> None:
    """Valid by the published schema, so accepted (issue 14: schema and server agree)."""
    client.post("/v1/posts", json={"posts": [post("e3")]})
    answer = client.patch("/v1/posts/e3/engagement", json=body)
    assert answer.status_code == 200 and answer.json()["likes"] == 5
    problem(client.patch("/v1/posts/none/engagement", json=body), 404)


# -- delete and takedowns ---------------------------------------------------------

def test_a_deleted_post_is_gone_and_stays_gone(client: TestClient[Any], services: Services) -> None:
    client.post("/v1/posts", json={"posts": [post("d1"), post("d2", "Calgary flood update")]})
    assert ids(client) == {"d1", "d2"}
    answer = client.delete("/v1/posts/d1", params={"reason": "legal request 42"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == "d1" and body["removed"] is True
    assert body["takedown"]["reason"] == "legal request 42" and body["takedown"]["at"].endswith("Z")
    problem(client.get("/v1/posts/d1"), 404)
    assert ids(client) == {"d2"}
    assert client.get("/ready").json()["store"]["points"] == 1
    problem(client.patch("/v1/posts/d1/engagement", json={"likes": 1}), 404)
    # Deleting again is harmless; an id never seen is a 404 (a typo, not a takedown).
    again = client.delete("/v1/posts/d1").json()
    assert again["removed"] is False and again["takedown"]["reason"] == "legal request 42"
    problem(client.delete("/v1/posts/never-seen"), 404)

    # Re-ingesting refuses the whole batch, naming the item; nothing is stored.
    refused = problem(client.post("/v1/posts", json={"posts": [post("d3"), post("d1")]}), 409)
    assert refused["type"].endswith("/taken-down")
    assert [(e["index"], e["field"]) for e in refused["errors"]] == [(1, "id")]
    assert "DELETE /v1/takedowns/d1" in refused["errors"][0]["problem"]
    problem(client.get("/v1/posts/d3"), 404)

    listed = client.get("/v1/takedowns").json()["takedowns"]
    assert [(t["id"], t["reason"]) for t in listed] == [("d1", "legal request 42")]

    # Lifting is the deliberate way back.
    lifted = client.delete("/v1/takedowns/d1")
    assert lifted.status_code == 200 and lifted.json()["lifted"]["id"] == "d1"
    problem(client.delete("/v1/takedowns/d1"), 404)
    assert client.post("/v1/posts", json={"posts": [post("d1")]}).status_code == 200
    assert ids(client) == {"d1", "d2"}


def test_takedowns_outlive_the_process_and_are_repaired_at_start(services: Services,
                                                                 tmp_path: Path) -> None:
    with TestClient(create_app(services.settings, services)) as client:
        client.post("/v1/posts", json={"posts": [post("r1"), post("r2")]})
        client.delete("/v1/posts/r1")
    # A crash between recording a takedown and deleting the point leaves the point behind:
    # simulated by recording one behind the API's back.
    Takedowns(services.settings.data_path).add("r2", "recorded, then the process died")
    assert len(services.store.get(["r2"])) == 1
    with TestClient(create_app(services.settings, services)) as client:
        problem(client.get("/v1/posts/r2"), 404)
        problem(client.post("/v1/posts", json={"posts": [post("r1")]}), 409)
        assert {t["id"] for t in client.get("/v1/takedowns").json()["takedowns"]} == {"r1", "r2"}


def test_a_deleted_post_leaves_hot_topics_at_once(client: TestClient[Any], services: Services) -> None:
    """Trend answers are cached per minute (forever for a replayed `as_of`): a takedown drops them."""
    now = datetime.now(UTC)
    # Three wordings: a topic needs three distinct voices (`TrendParams.min_voices`).
    wordings = ["Bridge collapse on Main Street, rescue teams on site",
                "Main Street bridge collapse: rescue teams are on site",
                "Rescue teams on site after the bridge collapse on Main Street"]
    burst = [post(f"b{i}", f"{wordings[i % 3]}, update {i}",
                  created_at=(now - timedelta(minutes=2 + 3 * i)).isoformat()) for i in range(18)]
    quiet = [post(f"q{i}", f"Weather is fine today in town number {i}, nothing happening",
                  created_at=(now - timedelta(hours=3 + 4 * i)).isoformat()) for i in range(8)]
    assert client.post("/v1/posts", json={"posts": burst + quiet}).status_code == 200
    asked = TrendsRequest(as_of=now)

    def quoted() -> set[str]:
        result = services.trends_service().trends(asked)
        assert result.topics, "the burst should make a hot topic"
        return {r.id for topic in result.topics for r in topic.representatives}

    before = quoted()
    assert services.trends_service().trends(asked).cached
    victim = sorted(before)[0]
    assert client.delete(f"/v1/posts/{victim}").status_code == 200
    assert victim not in quoted()
