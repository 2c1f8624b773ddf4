"""`POST /v1/search` with query syntax and copies, over HTTP in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from search.embed.base import Embedder
from search.rerank import Reranker
from tests.factories import tiny_api

TEXT = "Bridge closed on Highway 1 after the flood"
POSTS = [
    {"id": "orig", "text": f"{TEXT} http://t.co/a1", "platform": "twitter",
     "created_at": "2024-05-01T09:00:00+00:00"},
    {"id": "rt-1", "text": f"RT @roads: {TEXT} http://t.co/b2", "platform": "twitter",
     "created_at": "2024-05-01T10:00:00+00:00"},
    {"id": "rt-2", "text": f"RT @news: {TEXT.upper()}!!", "platform": "twitter",
     "created_at": "2024-05-01T11:00:00+08:00"},
    {"id": "other", "text": "Sports clubs raise money for the flood relief", "platform": "twitter",
     "created_at": "2024-05-01T12:00:00+00:00"},
    {"id": "zh", "text": "深圳禁摩限电，电动车车主怎么上班？", "platform": "weibo",
     "created_at": "2024-05-01T12:00:00+08:00"},
]


@pytest.fixture
def client(tmp_path: Path, tiny_embedder: Embedder, tiny_reranker: Reranker) -> Iterator[TestClient[Any]]:
    with tiny_api(str(tmp_path), tiny_embedder, tiny_reranker) as test_client:
        assert test_client.post("/v1/posts", json={"posts": POSTS}).status_code == 200
        yield test_client


def search(client: TestClient[Any], **body: Any) -> dict[str, Any]:
    response = client.post("/v1/search", json={"limit": 20, **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_copies_collapse_into_one_result_with_their_count_and_earliest(client: TestClient[Any]) -> None:
    results = search(client, query="bridge closed highway flood")["results"]
    bridge = [r for r in results if r["id"] in {"orig", "rt-1", "rt-2"}]
    assert len(bridge) == 1
    item = bridge[0]
    assert item["copies"] == 3 and sorted([item["id"], *item["duplicate_ids"]]) == ["orig", "rt-1", "rt-2"]
    # rt-2 was posted at 03:00 UTC, before the "original"
    assert (item["earliest_id"], item["earliest_created_at"]) == ("rt-2", "2024-05-01T03:00:00Z")
    single = next(r for r in results if r["id"] == "other")
    assert single["copies"] == 1
    assert not {"duplicate_ids", "earliest_id", "earliest_created_at", "terms"} & set(single)
    assert all("terms" not in r for r in results)


def test_collapse_false_lists_every_copy(client: TestClient[Any]) -> None:
    results = search(client, query="bridge closed highway flood", collapse=False)["results"]
    assert {"orig", "rt-1", "rt-2"} <= {r["id"] for r in results}
    assert all(r["copies"] == 1 for r in results)


def test_query_syntax_is_parsed_and_echoed(client: TestClient[Any]) -> None:
    body = search(client, query='flood -sport "Highway 1" 「禁摩」')
    assert body["parsed"] == {"text": "flood Highway 1 禁摩", "phrases": ["Highway 1", "禁摩"],
                              "excluded": ["sport"]}
    assert body["results"] == []  # no post holds both phrases
    [copy] = search(client, query='"highway 1" -sport')["results"]
    assert copy["id"] in {"orig", "rt-1", "rt-2"} and copy["copies"] == 3
    assert {r["id"] for r in search(client, query="flood -bridge")["results"]} == {"other", "zh"}


@pytest.mark.parametrize("query", ["-sport", '""', "- !!!"])
def test_a_query_with_nothing_to_search_for_is_422_naming_the_field(client: TestClient[Any],
                                                                    query: str) -> None:
    response = client.post("/v1/search", json={"query": query})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["errors"][0]["field"] == "query" and "search for" in problem["errors"][0]["problem"]


def test_results_carry_highlight_spans_of_the_original_text(client: TestClient[Any]) -> None:
    results = search(client, query="深圳 禁摩 bridges")["results"]
    by_id = {r["id"]: r for r in results}
    zh = by_id["zh"]
    assert [zh["text"][a:b] for a, b in zh["highlights"]] == ["深圳禁摩"]
    assert all(isinstance(r["highlights"], list) for r in results)  # always there, maybe empty
    bridge = next(r for r in results if r["id"] in {"orig", "rt-1", "rt-2"})
    assert [bridge["text"][a:b].lower() for a, b in bridge["highlights"]] == ["bridge"]


def test_facets_and_cursor_over_http(client: TestClient[Any]) -> None:
    body = search(client, query="flood", limit=2, facets=True)
    assert body["facets"]["platform"] == {"twitter": 2, "weibo": 1}  # 3 copies count once
    assert sum(body["facets"]["day"].values()) == 3 and body["next_cursor"]
    rest = search(client, query="flood", limit=2, facets=True, cursor=body["next_cursor"])
    assert rest["offset"] == 2 and rest["next_cursor"] is None
    assert len({r["id"] for r in body["results"] + rest["results"]}) == 3
    assert search(client, query="flood")["facets"] is None


def test_totals_match_facets_and_histogram_over_http(client: TestClient[Any]) -> None:
    body = search(client, query="flood", limit=1, facets=True)
    # every post holding "flood": the three copies and "other" (the tiny model has no
    # measured dense threshold, so terms alone decide)
    assert (body["total"], body["total_exact"]) == (4, True)
    assert body["match_facets"] == {"platform": {"twitter": 4}, "lang": {"en": 4},
                                    "exact": True, "sample": 0}
    histogram = body["histogram"]
    assert histogram["unit"] == "hour" and sum(histogram["counts"]) == 4 and histogram["exact"]
    assert histogram["start"] == "2024-05-01T03:00:00Z"  # rt-2: 11:00+08:00, the first
    assert len(histogram["counts"]) == 10  # 03:00 .. 12:00 UTC, empty hours included
    latest = search(client, query="flood", mode="latest", limit=2, explain=True)
    assert [r["id"] for r in latest["results"]] == ["other", "rt-1"]  # copies: the newest
    assert latest["results"][0]["explain"]["match"] == "terms"
    assert latest["total"] == 4 and search(client, query="flood")["histogram"] is None


def test_a_cursor_from_another_search_is_a_problem_naming_cursor(client: TestClient[Any]) -> None:
    cursor = search(client, query="flood", limit=1)["next_cursor"]
    response = client.post("/v1/search", json={"query": "bridge", "cursor": cursor})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["field"] == "cursor" and "belongs to a different search" in error["problem"]
    both = client.post("/v1/search", json={"query": "flood", "cursor": cursor, "offset": 1})
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "offset"
