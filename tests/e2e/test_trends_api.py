"""`GET /v1/trends` in-process: a burst found among steady chatter, explained, cached;
`query` narrows to its posts; bad parameters are 422 problems naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from search.embed.base import Embedder
from search.rerank import Reranker
from search.trends.window import parse_duration
from server.app import create_app
from server.profiles import Models
from server.services import Services
from server.settings import load_settings
from tests.e2e.test_api import assert_problem

AS_OF = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CHATTER = ["good morning everyone, coffee time", "thanks bro lol see you later",
           "watching the game tonight with friends", "monday again, need more sleep"]
BOSTON = ["Explosions at the Boston marathon finish line #prayforboston",
          "Boston marathon blast: runners injured near the finish line",
          "Praying for Boston after the marathon explosions #prayforboston"]
TOKYO = ["Earthquake shakes Tokyo, trains stopped", "Strong earthquake in Tokyo, buildings sway",
         "Tokyo earthquake: trains stopped, no tsunami warning"]


def posts() -> list[dict[str, Any]]:
    out = []
    for hour in range(48):
        for j, text in enumerate(CHATTER[:2] if hour % 2 else CHATTER[2:]):
            out.append({"id": f"c{hour}-{j}", "text": text, "platform": "twitter",
                        "created_at": (AS_OF - timedelta(hours=hour + 1.5, minutes=j)).isoformat()})
    for i in range(20):
        out.append({"id": f"b{i}", "text": f"{BOSTON[i % 3]} ({i})", "platform": "twitter",
                    "likes": 10, "reposts": 2,
                    "created_at": (AS_OF - timedelta(minutes=2 + 2 * i)).isoformat()})
    for i in range(16):
        out.append({"id": f"t{i}", "text": f"{TOKYO[i % 3]} ({i})", "platform": "reddit",
                    "created_at": (AS_OF - timedelta(minutes=4 + 3 * i)).isoformat()})
    return out


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, tiny_embedder: Embedder,
           tiny_reranker: Reranker) -> Iterator[TestClient[Any]]:
    settings = load_settings({}, profile="tiny", data_dir=str(tmp_path_factory.mktemp("trends")))
    services = Services.build(settings, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                               profile="tiny"))
    with TestClient(create_app(settings, services)) as test_client:
        batch = posts()
        for start in range(0, len(batch), 100):
            assert test_client.post("/v1/posts", json={"posts": batch[start:start + 100]}).status_code == 200
        yield test_client
    services.close()


def get(client: TestClient[Any], **params: Any) -> Any:
    return client.get("/v1/trends", params={"as_of": AS_OF.isoformat(), **params})


def test_a_burst_is_a_topic_with_its_explanation(client: TestClient[Any]) -> None:
    response = get(client)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["window"], body["baseline"], body["query"], body["cached"]) == ("1h", "2d", None, False)
    assert body["posts_read"] == 96 + 36 and body["truncated"] is False
    labels = [t["label"] for t in body["topics"]]
    assert len(labels) == 2 and "boston" in labels[0] and "tokyo" in labels[1], labels
    top = body["topics"][0]
    assert top["id"].startswith("t-") and top["score"] == top["explain"]["z"]
    explain = top["explain"]
    assert (explain["posts_in_window"], explain["expected"], explain["previous_window"]) == (20, 0, 0)
    assert explain["posts_in_span"] == 20 and explain["poisson_tail"] > 10
    assert explain["engagement_per_hour"] == 20 * (10 + 2 * 2)
    assert top["post_count"] == 20 and len(top["series"]) == 49 and top["series"][-1] == 20
    assert top["series_start"] == "2024-04-29T11:00:00Z" and top["bucket_seconds"] == 3600
    reps = top["representatives"]
    assert reps and all(r["id"].startswith("b") for r in reps)
    assert top["representative_method"].startswith("cross-encoder")
    assert body["topics"][1]["explain"]["engagement_per_hour"] is None
    # Why it counted as unusual: the baselines it was held to, its voices, its size rule.
    assert explain["compared_with"].startswith("expected the highest of: 0 posts per 3 h")
    assert "same 3 h on the 7 previous days" in explain["compared_with"]
    assert (explain["expected_window"], explain["expected_daily"], explain["expected_weekly"]) == (0, 0, 0)
    assert explain["wordings"] >= 3 and (explain["authors"], explain["size_rule"]) == (None, "span")


def test_a_story_keeps_its_id_from_one_pass_to_the_next(client: TestClient[Any]) -> None:
    """Twenty minutes earlier the same story was already hot; the later pass continues it."""
    earlier = AS_OF - timedelta(minutes=20)
    before = client.get("/v1/trends", params={"as_of": earlier.isoformat(), "limit": 9}).json()
    now = get(client, limit=9).json()
    ids = {t["id"]: t for t in before["topics"]}
    assert [t["first_seen"] for t in before["topics"]] == ["2024-05-01T11:40:00Z"] * 2
    for topic in now["topics"]:
        assert topic["id"] in ids and topic["first_seen"] == "2024-05-01T11:40:00Z"


def test_answers_are_cached_per_as_of_minute(client: TestClient[Any]) -> None:
    first = get(client, window="30m").json()
    again = client.get("/v1/trends", params={"as_of": (AS_OF + timedelta(seconds=20)).isoformat(),
                                             "window": "30m"}).json()
    assert again["cached"] is True and again["topics"] == first["topics"]


def test_query_narrows_to_what_is_hot_about_it(client: TestClient[Any]) -> None:
    body = get(client, query="tokyo earthquake").json()
    assert body["query"] == "tokyo earthquake" and "recall" in body["timings_ms"]
    # The tiny random model puts every post near every query (cosine ~0.7), so only the
    # lexical side narrows here: the posts read are the query's, not the whole span.
    assert "tokyo" in " ".join(t["label"] for t in body["topics"])
    assert body["posts_read"] <= get(client).json()["posts_read"]


def test_filters_apply(client: TestClient[Any]) -> None:
    body = get(client, platform="reddit").json()
    assert [("tokyo" in t["label"]) for t in body["topics"]] == [True]


def test_a_quiet_moment_has_no_topics(client: TestClient[Any]) -> None:
    body = client.get("/v1/trends", params={"as_of": (AS_OF - timedelta(hours=5)).isoformat()}).json()
    assert body["topics"] == []


@pytest.mark.parametrize(("window", "baseline"), [
    ("1h", "2d"), ("6h", "12d"), ("24h", "30d"), ("7d", "4w")])
def test_every_window_the_page_offers_has_a_baseline_by_default(
        client: TestClient[Any], window: str, baseline: str) -> None:
    """The page sends only `window`: the baseline follows it (48 windows, at most 30 days)."""
    response = get(client, window=window)
    assert response.status_code == 200, response.text
    assert response.json()["baseline"] == baseline
    # ... and a span of windows' worth of baseline is left beyond the burst's own span.
    assert parse_duration(baseline, "baseline") >= 4 * parse_duration(window, "window")


def test_an_explicit_baseline_shorter_than_the_window_is_still_refused(
        client: TestClient[Any]) -> None:
    problem = assert_problem(get(client, window="7d", baseline="48h"), 422)
    assert problem["errors"][0]["field"] == "baseline"


@pytest.mark.parametrize(("params", "field", "text"), [
    ({"window": "soon"}, "window", "expected a duration such as 30m, 1h, 2d; got 'soon'"),
    ({"window": "8d"}, "window", "at most 1w"),
    ({"baseline": "30m"}, "baseline", "must be at least the window"),
    ({"baseline": "3h"}, "baseline", "must be at least 4 windows (4h for a 1h window)"),
    ({"baseline": "31d"}, "baseline", "at most 30d"),
    ({"limit": "0"}, "limit", ""),
    ({"limit": "51"}, "limit", ""),
    ({"query": "  "}, "query", "must not be blank"),
    ({"as_of": "yesterday"}, "as_of", ""),
    ({"min_likes": "-1"}, "min_likes", ""),
])
def test_bad_parameters_are_problems_naming_the_field(client: TestClient[Any], params: dict[str, str],
                                                      field: str, text: str) -> None:
    problem = assert_problem(get(client, **params), 422)
    assert problem["errors"][0]["field"] == field, problem
    assert text in problem["detail"]


def test_cli_prints_the_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    from server.cli import main

    monkeypatch.setenv("TRENDSEARCH_PROFILE", "tiny")
    monkeypatch.setenv("TRENDSEARCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRENDSEARCH_LOG_LEVEL", "WARNING")
    source = tmp_path / "posts.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in posts()), encoding="utf-8")
    assert main(["index", str(source), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["trends", "--as-of", AS_OF.isoformat(), "--window", "1h"]) == 0
    out = capsys.readouterr().out
    assert "hot topics as of 2024-05-01 12:00 UTC: window 1h vs baseline 2d" in out
    assert "boston" in out and "tokyo" in out and "▁" in out
    assert main(["trends", "--as-of", "2024-05-01T12:00:00", "--window", "1h"]) == 2
    assert "--as-of" in capsys.readouterr().err


def test_an_operators_trends_knobs_reach_the_api(tmp_path: Path, tiny_embedder: Embedder,
                                                  tiny_reranker: Reranker) -> None:
    """`TRENDSEARCH_TRENDS` overrides the shipped knobs: the same posts, with a topic made
    to need more posts than either story has (20 and 16), show no topic."""
    settings = load_settings({"TRENDSEARCH_TRENDS": '{"min_posts": 50}'}, profile="tiny",
                             data_dir=str(tmp_path))
    services = Services.build(settings, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                               profile="tiny"))
    try:
        with TestClient(create_app(settings, services)) as client:
            assert client.post("/v1/posts", json={"posts": posts()}).status_code == 200
            assert services.trends_service().params.min_posts == 50
            body = get(client).json()
            assert body["topics"] == [], body["topics"]
    finally:
        services.close()
