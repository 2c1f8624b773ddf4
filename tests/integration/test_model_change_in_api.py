"""A model change inside the serving process, under writes, on both back ends (issue 15).

The process serves the `tiny` profile; `ReindexJob.start(profile="bge-m3")` loads
that profile's models (a second tiny BGE-M3, other random weights, through
`TRENDSEARCH_MODEL` as a user would point at a local folder; `second_m3_path` in
tests/conftest.py) beside the running
ones, rebuilds, replays the writes made meanwhile with the new model and switches
the index and the models together. Real tiny models and real Qdrant (Edge, and
qdrant-client's local mode for the server back end): nothing is mocked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

from indexer.takedowns import Takedowns
from search.contracts import SearchRequest
from search.embed.loading import local_model_id
from search.engagement import apply_updates
from search.errors import FieldError
from search.models import Engagement
from search.store.base import stored_encoded
from search.store.payload import point_id
from search.watches.models import WatchSpec
from server import gate
from server.live_profile import recorded
from server.profiles import Models
from server.routes.posts import run_ingest
from server.services import Services
from server.settings import load_settings
from tests.factories import corpus
from tests.integration.conftest import make_catalog

LATE = {"id": "late-1", "text": "Flood barriers go up along the Bow river",
        "platform": "twitter", "created_at": "2024-05-01T12:00:00Z"}


@pytest.fixture(params=["edge", "server"])
def services(request: pytest.FixtureRequest, tmp_path: Path, tiny_embedder: Any,
             tiny_reranker: Any, tiny_reranker_path: Path,
             second_m3_path: Path) -> Iterator[Services]:
    settings = load_settings({}, profile="tiny", data_dir=str(tmp_path), model=str(second_m3_path),
                             reranker=str(tiny_reranker_path))
    catalog = make_catalog("server", tmp_path) if request.param == "server" else None
    built = Services.build(settings, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                            profile="tiny"), catalog=catalog)
    try:
        yield built
    finally:
        built.close()


def _wait(condition: Any, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_a_model_change_under_writes_switches_index_and_models_together(
        services: Services, tiny_embedder: Any, second_m3_path: Path) -> None:
    catalog, served = services.catalog, services.served
    assert served is not None and services.watches is not None
    posts = corpus()
    ids = [p.id for p in posts]
    services.store.upsert(posts, tiny_embedder.encode_documents([p.text for p in posts]))
    watch = services.watches.service.create(WatchSpec(name="flood", query="river flood barriers"))
    old_name, old_model = catalog.live_name(), tiny_embedder.info.model_id
    takedowns = Takedowns(services.settings.data_path)
    job = services.reindexing()
    seen: dict[str, Any] = {}
    release, holding = threading.Event(), threading.Event()

    def hold_a_request() -> None:  # a search in flight while the swap wants the gate
        with services.gate.reading():
            holding.set()
            release.wait(60)

    def write_meanwhile(stage: str, count: int) -> None:
        if stage == "copy" and "copied" not in seen:
            new = catalog.open(next(n for n in catalog.names() if n != old_name))
            copied = {p.id for p in new.get(ids)}
            before, after = sorted(copied), sorted(set(ids) - copied)
            seen.update(copied=copied, patched=[before[0], after[0]], deleted=[before[1], after[1]])
            # The API keeps serving the old model meanwhile, and taking writes with it.
            seen["serving"] = services.pipeline.embedder.info.model_id
            run_ingest(msgspec.json.encode({"posts": [LATE]}), services, takedowns)
            with services.write_lock:
                apply_updates(services.store, [(pid, Engagement(likes=4321))
                                               for pid in seen["patched"]], time.time())
                services.store.delete(seen["deleted"])
            threading.Thread(target=hold_a_request, daemon=True).start()
            holding.wait(10)
        progress(stage, count)

    progress, job._progress = job._progress, write_meanwhile  # type: ignore[method-assign]
    with pytest.raises(FieldError, match=r"^`profile`: unknown profile 'e5'; one of: offline, "
                                          r"bge-m3, tiny$"):
        job.start(profile="e5")  # in-process callers: the same rule, in words
    reading = served.scroll(2)  # a read on the old index, open across the switch
    assert next(reading).id
    started = job.start(batch_size=5, profile="bge-m3")
    assert (started.stage, started.profile) == ("load", "bge-m3")
    try:
        # The swap waits for the request in flight: no switch, the old models answer.
        _wait(lambda: services.gate.shut or served.switches, "the swap to wait at the gate")
        time.sleep(0.2)
        assert served.switches == 0 and services.models.profile == "tiny"
    finally:
        release.set()
    _wait(lambda: served.switches == 1, "the switch")
    assert old_name in catalog.names()  # the open read still holds it
    # ... and finishes on it (the writes during the build may or may not be on its pages).
    assert len(posts) - 3 <= sum(1 for _ in reading) <= len(posts)
    status = job.wait(60)

    assert status.state == "done", status
    assert seen["serving"] == old_model and len(seen["copied"]) == 5
    new_model = local_model_id("bge-m3", str(second_m3_path), second_m3_path)
    assert new_model != old_model and status.model == new_model
    assert status.source == old_name and catalog.live_name() == status.target
    assert old_name not in catalog.names()  # dropped once nothing read it
    assert services.store.manifest().model.model_id == new_model
    assert (services.models.profile, services.settings.profile) == ("bge-m3", "bge-m3")
    # The next start that names no profile runs this one (`server.live_profile`).
    entry = recorded(services.settings.data_path)
    assert entry is not None and (entry.profile, entry.model) == ("bge-m3", new_model)
    embedder = services.models.embedder
    assert services.pipeline.embedder is embedder and services.pipeline.models["embedder"] == new_model
    assert services.trends_service().embedder is embedder

    # Every post written meanwhile is there, as the writes left it.
    store = catalog.open(status.target)
    kept = sorted(set(ids) - set(seen["deleted"])) + ["late-1"]
    assert sorted(p.id for p in store.scroll(100)) == sorted(kept)
    assert [p.likes for p in store.get(seen["patched"])] == [4321, 4321]
    # ... with the new model's vectors, the ones written meanwhile too (re-embedded at replay).
    texts = {p.id: p.text for p in store.get(kept)}
    found, held = stored_encoded(store, [point_id(pid) for pid in kept])
    assert len(found) == len(kept)
    mine = embedder.encode_documents([texts[pid] for pid in kept]).dense
    theirs = tiny_embedder.encode_documents([texts[pid] for pid in kept]).dense
    assert np.allclose(held.dense, mine, atol=1e-4)
    assert not np.allclose(held.dense, theirs, atol=1e-2)

    # Searches answer with the new embedder, without a restart: the post's own text, as a
    # query, is its nearest post by meaning, at a cosine of 1 (the old model's query
    # vector would sit elsewhere among the new model's).
    hits = services.pipeline.search(SearchRequest(query=LATE["text"], limit=20, explain=True)).hits
    late = next(h for h in hits if h.post.id == "late-1")
    assert (late.explain.dense_rank, round(late.explain.dense_score or 0, 4)) == (1, 1.0)
    # The watches' query vectors are the new model's, in that model's watch index.
    percolator = services.watches.percolator
    assert percolator.embedder is embedder and services.watches.store.percolator is percolator
    query = embedder.encode_queries([watch.query]).dense[0]
    assert np.allclose(percolator.dense_matrix([watch.id])[0], query, atol=1e-4)
    # Writes after the switch are the new model's, into the new index.
    run_ingest(msgspec.json.encode({"posts": [dict(LATE, id="after-1")]}), services, takedowns)
    assert store.get(["after-1"])[0].text == LATE["text"]


def test_a_change_back_to_a_model_reopens_its_watch_index(
        services: Services, tiny_embedder: Any, second_m3_path: Path,
        tiny_reranker_path: Path) -> None:
    """Changing models back and forth: each change opens that model's watch index again,
    synced, with the query vectors of that model (the old one closes at the swap, so a
    process that changes back does not hold two handles on one folder)."""
    from server.profiles import load_models

    runtime = services.watches
    assert runtime is not None
    watch = runtime.service.create(WatchSpec(name="flood", query="river flood barriers"))
    other = load_models(load_settings({}, profile="bge-m3", data_dir=str(services.settings.data_path),
                                      model=str(second_m3_path),
                                      reranker=str(tiny_reranker_path))).embedder
    for embedder in (other, tiny_embedder, other):
        percolator = runtime.percolator_for(embedder)
        with services.gate.closed():
            runtime.follow(percolator)
        query = embedder.encode_queries([watch.query]).dense[0]
        assert np.allclose(runtime.percolator.dense_matrix([watch.id])[0], query, atol=1e-4)


def test_a_model_change_held_up_by_a_long_request_is_abandoned_at_the_gate(
        services: Services, tiny_embedder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request that outlasts every one of the swap's waits (`server.gate.DRAIN_WAIT_S`,
    `DRAIN_TRIES` of them): the job fails with the reason, nothing switched, the old models
    and index serve on, the new index is dropped and no profile is recorded; the held
    request and later ones run."""
    posts, old_name = indexed_with_short_waits(services, tiny_embedder, monkeypatch, tries=2)
    release, holding = threading.Event(), threading.Event()

    def long_request() -> None:
        with services.gate.reading():
            holding.set()
            release.wait(60)

    try:
        status = change_with_a_request_held_at_copy(services, long_request, holding).wait(60)
    finally:
        release.set()
    assert status.state == "failed", status
    assert status.error is not None and status.error.startswith(
        "DrainTimeout: 1 request(s) still running after 0.3 s; nothing was switched")
    assert status.error.endswith("[tried 2 time(s), 0.05 s apart]"), status.error
    assert services.catalog.live_name() == old_name and services.catalog.names() == [old_name]
    assert (services.models.profile, services.settings.profile) == ("tiny", "tiny")
    assert services.pipeline.embedder is tiny_embedder
    assert recorded(services.settings.data_path) is None
    assert not services.gate.shut
    assert services.pipeline.models["embedder"] == tiny_embedder.info.model_id
    assert services.pipeline.search(SearchRequest(query=posts[0].text, limit=5)).hits


def test_a_request_that_ends_between_the_swaps_tries_does_not_cost_the_rebuild(
        services: Services, tiny_embedder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first wait at the gate runs out while a long request holds it; the request ends
    before the next try, and the change goes through: new index live, models moved,
    profile recorded."""
    posts, old_name = indexed_with_short_waits(services, tiny_embedder, monkeypatch, tries=3)
    holding, tried = threading.Event(), threading.Event()
    real_closed = services.gate.closed

    def closed_counting(timeout: float | None = None):  # type: ignore[no-untyped-def]
        tried.set()
        return real_closed(timeout)

    monkeypatch.setattr(services.gate, "closed", closed_counting)

    def long_request() -> None:
        with services.gate.reading():
            holding.set()
            tried.wait(30)
            time.sleep(0.5)  # outlasts the first wait (0.3 s), ends before the second

    status = change_with_a_request_held_at_copy(services, long_request, holding).wait(60)
    assert status.state == "done", status
    assert services.catalog.live_name() != old_name and old_name not in services.catalog.names()
    assert (services.models.profile, services.settings.profile) == ("bge-m3", "bge-m3")
    entry = recorded(services.settings.data_path)
    assert entry is not None and entry.profile == "bge-m3"
    assert not services.gate.shut


def change_with_a_request_held_at_copy(services: Services, long_request: Any,
                                       holding: threading.Event) -> Any:
    """The model change to `bge-m3`, started with `long_request` (which sets `holding` once
    it is inside the gate) begun as the copy starts, so it is in flight at the swap."""
    job = services.reindexing()
    progress = job._progress

    def hold_at_copy(stage: str, count: int) -> None:
        if stage == "copy" and not holding.is_set():
            threading.Thread(target=long_request, daemon=True).start()
            holding.wait(10)
        progress(stage, count)

    job._progress = hold_at_copy  # type: ignore[method-assign]
    job.start(batch_size=5, profile="bge-m3")
    return job


def indexed_with_short_waits(services: Services, tiny_embedder: Any,
                             monkeypatch: pytest.MonkeyPatch, tries: int) -> tuple[Any, str]:
    """The corpus indexed, and the swap's waits cut to 0.3 s, `tries` of them 0.05 s apart."""
    monkeypatch.setattr(gate, "DRAIN_WAIT_S", 0.3)
    monkeypatch.setattr(gate, "DRAIN_TRIES", tries)
    monkeypatch.setattr(gate, "DRAIN_PAUSE_S", 0.05)
    posts = corpus()
    services.store.upsert(posts, tiny_embedder.encode_documents([p.text for p in posts]))
    return posts, services.catalog.live_name()
