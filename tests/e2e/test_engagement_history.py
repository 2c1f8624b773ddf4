"""Engagement history through the API: snapshots kept on every update, bounded, refused
by name when older than the post or in the future; the bulk form; the forecast shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from search.embed.base import Embedder
from search.history import MAX_SNAPSHOTS
from search.rerank import Reranker
from server.app import create_app
from server.profiles import Models
from server.services import Services
from server.settings import load_settings

CREATED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def post(pid: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "text": "Flood waters rising in Calgary", "platform": "twitter",
            "created_at": CREATED.isoformat(), "likes": 5, "reposts": 2, **extra}


def at(hours: float) -> str:
    return (CREATED + timedelta(hours=hours)).isoformat()


@pytest.fixture
def client(tmp_path: Path, tiny_embedder: Embedder, tiny_reranker: Reranker) -> Iterator[TestClient[Any]]:
    settings = load_settings({}, profile="tiny", data_dir=str(tmp_path))
    services = Services.build(settings, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                               profile="tiny"))
    with TestClient(create_app(settings, services)) as test_client:
        yield test_client
    services.close()


def test_every_update_keeps_a_snapshot_and_a_late_one_slots_in(client: TestClient[Any]) -> None:
    assert client.post("/v1/posts", json={"posts": [post("h1")]}).status_code == 200
    assert client.patch("/v1/posts/h1/engagement", json={"likes": 9, "at": at(2)}).status_code == 200
    answer = client.patch("/v1/posts/h1/engagement", json={"comments": 4, "at": at(1)})
    assert answer.status_code == 200, answer.text
    history = answer.json()["history"]
    ts = [s[0] for s in history]
    assert ts == sorted(ts) and len(history) == 3  # 1 h, 2 h, then the ingest (now)
    # Backdated snapshots slot in; the post keeps the newest counts (the ingest's).
    assert history[0][1:] == [5, 2, 4] and history[1][1:] == [9, 2, 0]
    assert (answer.json()["likes"], answer.json()["comments"]) == (5, 0)
    now = client.patch("/v1/posts/h1/engagement", json={"likes": 11}).json()
    assert now["likes"] == 11 and len(now["history"]) == 4


def test_re_ingest_keeps_history(client: TestClient[Any]) -> None:
    client.post("/v1/posts", json={"posts": [post("h2")]})
    client.post("/v1/posts", json={"posts": [post("h2", likes=50)]})
    stored = client.get("/v1/posts/h2").json()
    assert [s[1] for s in stored["history"]] == [5, 50] and stored["likes"] == 50


@pytest.mark.parametrize(("when", "words"), [(-1, "before the post"), (24 * 365 * 30, "future")])
def test_a_snapshot_before_the_post_or_in_the_future_is_refused_by_name(
        client: TestClient[Any], when: float, words: str) -> None:
    client.post("/v1/posts", json={"posts": [post("h3")]})
    answer = client.patch("/v1/posts/h3/engagement", json={"likes": 1, "at": at(when)})
    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    assert error["field"] == "at" and words in error["problem"]
    assert client.get("/v1/posts/h3").json()["likes"] == 5


def test_history_is_bounded(client: TestClient[Any]) -> None:
    client.post("/v1/posts", json={"posts": [post("h4")]})
    updates = [{"id": "h4", "likes": n, "at": at(n / 10)} for n in range(1, MAX_SNAPSHOTS + 20)]
    for update in updates:
        assert client.patch("/v1/engagement", json={"updates": [update]}).status_code == 200
    history = client.get("/v1/posts/h4").json()["history"]
    assert len(history) == MAX_SNAPSHOTS
    # Thinned in the middle: the oldest and the newest survive (the ingest's, now, is newest).
    assert history[0][1] == 1 and history[-1][1] == 5 and history[-2][1] == MAX_SNAPSHOTS + 19


def test_bulk_updates_name_the_bad_item_and_list_unknown_ids(client: TestClient[Any]) -> None:
    client.post("/v1/posts", json={"posts": [post("b1"), post("b2")]})
    bad = client.patch("/v1/engagement", json={"updates": [
        {"id": "b1", "likes": 7, "at": at(1)}, {"id": "b2", "likes": 8, "at": at(-2)}]})
    assert bad.status_code == 422
    assert bad.json()["errors"][0] == {"field": "at", "index": 1, "problem": bad.json()["errors"][0]["problem"]}
    assert client.get("/v1/posts/b1").json()["likes"] == 5  # nothing written
    good = client.patch("/v1/engagement", json={"updates": [
        {"id": "b1", "likes": 7}, {"id": "nope", "likes": 1}]})
    assert good.status_code == 200, good.text
    assert good.json() == {"updated": 1, "missing": ["nope"]}
    assert client.get("/v1/posts/b1").json()["likes"] == 7
    twice = client.patch("/v1/engagement", json={"updates": [{"id": "b1"}, {"id": "b1"}]})
    assert twice.status_code == 422 and twice.json()["errors"][0]["field"] == "id"


def test_a_post_without_references_says_so(client: TestClient[Any]) -> None:
    client.post("/v1/posts", json={"posts": [post("f1")]})
    client.patch("/v1/posts/f1/engagement", json={"likes": 30, "at": at(1)})
    forecast = client.get("/v1/posts/f1").json()["forecast"]
    assert forecast["status"] == "no_history" and "not enough history on twitter" in forecast["why"]
    hit = client.post("/v1/search", json={"query": "Calgary", "explain": True}).json()["results"][0]
    assert hit["forecast"]["status"] == "no_history"


def test_rising_lists_recent_posts_with_their_forecasts(client: TestClient[Any]) -> None:
    recent = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    client.post("/v1/posts", json={"posts": [post("r1", created_at=recent),
                                             post("r2", created_at=recent, text="Hail in Denver"),
                                             post("old")]})
    client.patch("/v1/posts/r1/engagement", json={"likes": 40})
    everything = client.post("/v1/rising", json={})
    assert everything.status_code == 200, everything.text
    ids = [r["post"]["id"] for r in everything.json()["results"]]
    assert sorted(ids) == ["r1", "r2"]  # "old" is past the forecast horizon
    assert {r["forecast"]["status"] for r in everything.json()["results"]} == {"no_history"}
    # Without forecast numbers yet, the larger count so far leads.
    assert ids == ["r1", "r2"]
    hail = client.post("/v1/rising", json={"query": "Denver hail"}).json()
    assert "r2" in [r["post"]["id"] for r in hail["results"]]
    assert client.post("/v1/rising", json={"filters": {"platform": ["weibo"]}}).json()["results"] == []
    bad = client.post("/v1/rising", json={"limit": 0})
    assert bad.status_code == 400 or bad.status_code == 422


def test_trending_ranks_engagement_for_age_against_the_platforms_typical(
        client: TestClient[Any]) -> None:
    """With 60 matured posts (2 interactions at 2 h, 8 at 16 h, 10 at 25 h), a 2 h-old post
    with 6 is (6+1)/(2+1) of typical and a 16 h-old one with 12 is (12+1)/(8+1) (both inside
    trending's one-day window): trending's engagement factor says so (to the power
    `engagement_weight`)."""
    refs = [post(f"m{i}", text=f"gardening note {i}", likes=0, reposts=0) for i in range(60)]
    assert client.post("/v1/posts", json={"posts": refs}).status_code == 200
    for hours, likes in ((2, 2), (16, 8), (25, 10)):
        bulk = [{"id": f"m{i}", "likes": likes, "at": at(hours)} for i in range(60)]
        assert client.patch("/v1/engagement", json={"updates": bulk}).status_code == 200
    now = datetime.now(UTC)
    client.post("/v1/posts", json={"posts": [
        post("young", text="Flood waters rising fast", likes=6, reposts=0,
             created_at=(now - timedelta(hours=2)).isoformat()),
        post("aged", text="Flood waters rising again", likes=12, reposts=0,
             created_at=(now - timedelta(hours=16)).isoformat())]})
    hits = client.post("/v1/search", json={"query": "flood", "mode": "trending",
                                           "explain": True}).json()["results"]
    factor = {h["id"]: h["explain"]["engagement"] for h in hits}
    assert factor["young"] == pytest.approx((7 / 3) ** 0.1, rel=1e-4)
    assert factor["aged"] == pytest.approx((13 / 9) ** 0.1, rel=1e-4)
