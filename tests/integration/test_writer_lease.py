"""Writer leases on a Qdrant server (`server.writer_lease`, 0032): an API serving an alias
keeps a lease; a standalone `trendsearch reindex` refuses while one is fresh.

The server is qdrant-client's local mode: one client object stands for the one server
that two processes (the API, the CLI) reach; each "process" has its own catalog on it.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from qdrant_client import QdrantClient

from migrations import open_live
from search.store.server_catalog import ServerCatalog
from search.store.writer_leases import Lease, WriterLeases
from server.app import create_app
from server.cli import main
from server.profiles import Models
from server.services import Services
from server.settings import load_settings
from server.writer_lease import FRESH_S, PRUNE_S, WriterLeaseKeeper, advertised_url
from tests.factories import corpus


class _OtherProcess(ServerCatalog):
    """Another process's connection to the same server: closing it leaves the server up."""

    def close(self) -> None:
        """The shared client is the server; it outlives this process's catalog."""


@pytest.fixture
def server() -> Iterator[QdrantClient]:
    client = QdrantClient(":memory:")
    yield client
    client.close()


def _leases(server: QdrantClient) -> WriterLeases:
    leases: WriterLeases = ServerCatalog(server).writer_leases()
    return leases


@pytest.fixture
def live(server: QdrantClient, tiny_embedder: Any) -> str:
    """A live index of the corpus on the server, as an API would have filled it."""
    store = open_live(ServerCatalog(server), tiny_embedder.info, create=True)
    posts = corpus()
    store.upsert(posts, tiny_embedder.encode_documents([p.text for p in posts]))
    name = ServerCatalog(server).live_name()
    assert name is not None
    return name


@pytest.fixture
def cli_on_server(server: QdrantClient, tiny_embedder: Any, tiny_reranker: Any, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`trendsearch` as a process of its own on that server (QDRANT_URL set), with the
    tiny models already loaded."""
    import server.profiles as profiles

    monkeypatch.setenv("TRENDSEARCH_QDRANT_URL", "http://qdrant.test:6333")
    monkeypatch.setenv("TRENDSEARCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRENDSEARCH_PROFILE", "tiny")
    monkeypatch.setattr(profiles, "open_catalog", lambda settings: _OtherProcess(server))
    monkeypatch.setattr(profiles, "load_models", lambda settings: Models(
        embedder=tiny_embedder, reranker=tiny_reranker, profile="tiny"))


def test_the_api_holds_a_lease_while_it_serves_on_a_server_store(
        server: QdrantClient, tmp_path: Path, tiny_embedder: Any, tiny_reranker: Any) -> None:
    settings = load_settings({}, profile="tiny", data_dir=str(tmp_path), port=8123)
    services = Services.build(settings, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                               profile="tiny"), catalog=_OtherProcess(server))
    try:
        assert _leases(server).read() == []
        with TestClient(create_app(settings, services)) as client:
            assert client.get("/ready").status_code == 200
            [lease] = _leases(server).read()
            assert (lease.host, lease.pid) == (socket.gethostname(), os.getpid())
            assert lease.url == "http://127.0.0.1:8123"
            assert lease.fresh(FRESH_S)
        assert _leases(server).read() == []  # a clean shutdown drops it
    finally:
        services.close()


def _written_ago(server: QdrantClient, seconds: float, host: str, pid: int) -> None:
    """A lease last renewed `seconds` ago, as an API that crashed then left it."""
    then = time.time() - seconds
    _leases(server).write(Lease(lease_id=Lease.mine().lease_id, host=host, pid=pid,
                                started_at=then, heartbeat_ts=then, url=f"http://{host}:8000"))


def test_the_heartbeat_renews_the_same_lease_and_stop_drops_it(server: QdrantClient) -> None:
    _written_ago(server, PRUNE_S + 60, "long-gone", 1)  # pruned by the next start
    _written_ago(server, 10 * FRESH_S, "api-2", 4242)  # stale, kept: the CLI names it
    # No heartbeat thread here: qdrant-client's local mode is not thread-safe (0032), so
    # the renewal is called as the thread would call it.
    keeper = WriterLeaseKeeper(_leases(server), url=None, every_s=3600).start()
    try:
        [stale, first] = _leases(server).read()
        assert (stale.host, first.pid) == ("api-2", os.getpid())
        time.sleep(0.01)
        keeper.renew()
        [_, now] = _leases(server).read()  # one point: renewed in place, never a second
        assert now.heartbeat_ts > first.heartbeat_ts
        assert (now.lease_id, now.started_at, now.pid) == (first.lease_id, first.started_at,
                                                           first.pid)
    finally:
        keeper.stop()
    keeper.renew()  # a renewal after the stop writes nothing back
    assert [lease.host for lease in _leases(server).read()] == ["api-2"]


def test_a_fresh_lease_refuses_the_standalone_reindex(
        server: QdrantClient, live: str, cli_on_server: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    keeper = WriterLeaseKeeper(_leases(server), url="http://api-1:8000", every_s=3600).start()
    try:
        assert main(["reindex"]) == 1
        err = capsys.readouterr().err
        assert re.search(rf"trendsearch: error: 1 API process\(es\) write to this index now: "
                         rf"pid {os.getpid()} on {re.escape(socket.gethostname())} serving "
                         rf"http://api-1:8000, last heartbeat \d+ s ago\. ", err), err
        assert "`trendsearch reindex --server URL`" in err and "--force" in err
        assert ServerCatalog(server).live_name() == live  # nothing was switched
        assert ServerCatalog(server).names() == [live]  # nothing was built
    finally:
        keeper.stop()


def test_force_rebuilds_anyway_with_the_note(
        server: QdrantClient, live: str, cli_on_server: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    keeper = WriterLeaseKeeper(_leases(server), url=None, every_s=3600).start()
    try:
        assert main(["reindex", "--force"]) == 0
        out, err = capsys.readouterr()
        assert f"reindexed {len(corpus())} posts from {live} into " in out
        assert "note: writes an API makes during this rebuild are not carried over" in err
        assert "note: --force: rebuilding while 1 API process(es) write to this index" in err
        new = ServerCatalog(server).live_name()
        assert new is not None and new != live
        assert len(_leases(server).read()) == 1  # the API's lease is not the CLI's to drop
    finally:
        keeper.stop()


def test_a_stale_lease_does_not_block_and_is_named(
        server: QdrantClient, live: str, cli_on_server: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    _written_ago(server, 10 * FRESH_S, "api-2", 4242)
    assert main(["reindex"]) == 0
    out, err = capsys.readouterr()
    assert "note: stale writer lease" in err
    assert "pid 4242 on api-2 serving http://api-2:8000" in err
    assert ServerCatalog(server).live_name() != live
    assert "reindexed " in out


def test_force_with_server_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reindex", "--server", "http://127.0.0.1:9", "--force"]) == 2
    assert "--force" in capsys.readouterr().err


def test_force_on_the_embedded_store_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("QDRANT_URL", raising=False)
    monkeypatch.delenv("TRENDSEARCH_QDRANT_URL", raising=False)
    assert main(["reindex", "--data-dir", str(tmp_path), "--force"]) == 2
    assert "--force" in capsys.readouterr().err


@pytest.mark.parametrize(("host", "url"), [
    ("127.0.0.1", "http://127.0.0.1:8000"), ("api.example.org", "http://api.example.org:8000"),
    ("0.0.0.0", None), ("::", None), ("::1", "http://[::1]:8000")])
def test_a_lease_names_a_url_only_when_the_bind_address_is_one(host: str,
                                                               url: str | None) -> None:
    assert advertised_url(host, 8000) == url


def test_an_api_that_starts_during_the_rebuild_stops_the_switch(
        server: QdrantClient, live: str, cli_on_server: None,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """No lease when the rebuild starts; an API claims one while it copies: at the switch
    the leases are read again, nothing is switched and the new index is dropped."""
    from server.cli import index as index_cli

    keepers: list[WriterLeaseKeeper] = []
    checked_at_start = index_cli._guard_writers

    def then_an_api_starts(catalog: Any, force: bool) -> None:
        checked_at_start(catalog, force)
        keepers.append(WriterLeaseKeeper(_leases(server), url="http://api-3:8000",
                                         every_s=3600).start())

    monkeypatch.setattr(index_cli, "_guard_writers", then_an_api_starts)
    try:
        assert main(["reindex"]) == 1
        err = capsys.readouterr().err
        assert "1 API process(es) began writing to this index during the rebuild: pid " in err
        assert "serving http://api-3:8000" in err and "the new index was dropped" in err
        assert ServerCatalog(server).live_name() == live
        assert ServerCatalog(server).names() == [live]
    finally:
        for keeper in keepers:
            keeper.stop()
