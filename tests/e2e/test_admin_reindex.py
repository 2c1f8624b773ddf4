"""`POST /v1/admin/reindex` on the embedded store: the serving API rebuilds its own index
while it keeps answering and taking writes, then answers from the new one, no restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.cli import main
from server.profiles import Models
from server.services import Services
from server.settings import load_settings
from tests.factories import free_port, served_api, tiny_api

POSTS = [{"id": f"a-{i}", "text": f"Calgary flood update {i}: the Bow river keeps rising",
          "platform": "twitter", "created_at": "2024-05-01T12:00:00Z", "likes": i}
         for i in range(12)]


def test_the_api_reindexes_under_writes_and_answers_from_the_new_index(
        tmp_path: Path, tiny_embedder: Any, tiny_reranker: Any) -> None:
    with tiny_api(str(tmp_path), tiny_embedder, tiny_reranker) as client:
        services = client.app.state.services
        assert client.post("/v1/posts", json={"posts": POSTS}).status_code == 200
        old = client.get("/ready").json()["store"]["index"]

        # Bad input is a problem naming the field; nothing starts.
        bad = client.post("/v1/admin/reindex", json={"batch_size": 0})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "batch_size"
        unknown = client.post("/v1/admin/reindex", json={"batch": 5})
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "batch"
        assert client.get("/v1/admin/reindex").json()["state"] == "idle"

        with services.write_lock:  # the job reaches its last pass and waits there for writes
            started = client.post("/v1/admin/reindex", json={"batch_size": 2})
            assert started.status_code == 202 and started.json()["state"] == "running"
            again = client.post("/v1/admin/reindex", json={})
            assert again.status_code == 409
            assert again.json()["type"].endswith("/reindex-running")
            # Reads go on meanwhile, from the old index.
            assert client.get("/v1/posts/a-3").json()["likes"] == 3
        # Writes while it builds (it waits for the lock to take its last pass, so these
        # race its switch: either way each must be in the new index): an ingest, an
        # engagement patch, a takedown.
        late = {"id": "late-1", "text": "Calgary flood: evacuation lifted downtown",
                "platform": "twitter", "created_at": "2024-05-01T13:00:00Z"}
        assert client.post("/v1/posts", json={"posts": [late]}).status_code == 200
        assert client.patch("/v1/posts/a-4/engagement", json={"likes": 999}).status_code == 200
        assert client.delete("/v1/posts/a-5").status_code == 200
        status = services.reindexing().wait(120)

        assert status.state == "done", status
        assert (status.source, status.stage) == (old, "switched")
        # The bulk copy races the writes above: it may or may not meet a-5 before its
        # delete, or late-1 after its ingest; the journal carries whichever it missed.
        assert len(POSTS) - 1 <= status.posts <= len(POSTS) + 1
        ready = client.get("/ready").json()["store"]
        assert ready["index"] == status.target != old
        assert ready["points"] == len(POSTS) + 1 - 1
        assert old not in services.catalog.names()  # dropped once nothing read it
        assert not (tmp_path / "edge" / "indexes" / old).exists()
        assert client.get("/v1/posts/late-1").status_code == 200
        assert client.get("/v1/posts/a-4").json()["likes"] == 999
        assert client.get("/v1/posts/a-5").status_code == 404
        found = client.post("/v1/search", json={"query": "evacuation lifted", "limit": 20}).json()
        assert "late-1" in {r["id"] for r in found["results"]}
        assert "a-5" not in {r["id"] for r in found["results"]}
        # Writes after the switch land in the new index.
        assert client.patch("/v1/posts/late-1/engagement", json={"likes": 3}).status_code == 200
        assert services.catalog.open(status.target).get(["late-1"])[0].likes == 3
        assert client.get("/v1/admin/reindex").json()["target"] == status.target



def test_a_bad_profile_is_named_and_a_failed_load_keeps_the_api_as_it_was(
        tmp_path: Path, tiny_embedder: Any, tiny_reranker: Any) -> None:
    with tiny_api(str(tmp_path), tiny_embedder, tiny_reranker) as client:
        services = client.app.state.services
        assert client.post("/v1/posts", json={"posts": POSTS}).status_code == 200
        old = client.get("/ready").json()["store"]["index"]
        bad = client.post("/v1/admin/reindex", json={"profile": "e5"})
        assert bad.status_code == 422
        assert bad.json()["errors"] == [{"field": "profile", "problem": (
            "Expected `str` matching regex '^(offline|bge-m3|tiny)$'")}]
        assert client.get("/v1/admin/reindex").json()["state"] == "idle"

        # `bge-m3` names BAAI/bge-m3 here (TRENDSEARCH_MODEL unset), which cannot load here.
        started = client.post("/v1/admin/reindex", json={"profile": "bge-m3"}).json()
        assert (started["stage"], started["profile"]) == ("load", "bge-m3")
        failed = services.reindexing().wait(60)
        assert failed.state == "failed" and (failed.error or "").startswith("ModelLoadFailed: ")
        ready = client.get("/ready").json()
        assert ready["profile"] == "tiny" and ready["store"]["index"] == old
        assert services.catalog.names() == [old]  # nothing was built
        assert client.post("/v1/search", json={"query": "Calgary flood"}).status_code == 200


def test_a_model_change_from_the_cli_through_a_served_api(
        tmp_path: Path, tiny_embedder: Any, tiny_reranker: Any, tiny_reranker_path: Path,
        second_m3_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`trendsearch reindex --server URL --profile bge-m3`, the API on 127.0.0.1 (uvicorn)
    with `TRENDSEARCH_MODEL` at another (tiny) BGE-M3: the index and the API move to that
    model; `/ready` and searches use it, no restart."""
    port = free_port()
    env = {"TRENDSEARCH_MODEL": str(second_m3_path), "TRENDSEARCH_RERANKER": str(tiny_reranker_path)}
    settings = load_settings(env, profile="tiny", data_dir=str(tmp_path), port=port)
    services = Services.build(settings, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                               profile="tiny"))
    app = create_app(settings, services)
    with served_api(app, services, port) as base:
        assert app.state.work.gate is services.gate  # searches hold the swap's gate
        assert httpx.post(f"{base}/v1/posts", json={"posts": POSTS}, timeout=60).status_code == 200
        old = httpx.get(f"{base}/ready", timeout=10).json()["store"]["index"]

        assert main(["reindex", "--server", base, "--profile", "bge-m3", "--poll-s", "0.05"]) == 0
        out, err = capsys.readouterr()
        ready = httpx.get(f"{base}/ready", timeout=10).json()
        assert ready["profile"] == "bge-m3" and ready["store"]["index"] != old
        assert ":tiny-bge-m3-seed1:" in ready["models"]["embedder"]
        assert ready["store"]["points"] == len(POSTS)
        assert f"{ready['store']['index']} is now live" in out
        assert (f"now runs profile bge-m3 ({ready['models']['embedder']}); recorded in its "
                f"DATA_DIR/profile.json, so its next start with no profile named runs it") in err
        found = httpx.post(f"{base}/v1/search", json={"query": POSTS[3]["text"], "limit": 20},
                           timeout=60).json()
        assert len(found["results"]) == len(POSTS)
