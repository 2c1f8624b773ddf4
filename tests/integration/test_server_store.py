"""The Qdrant-server path when the server is not there: a clear error in seconds, not a hang."""

from __future__ import annotations

import socket
import time

import pytest

from search.errors import StoreUnavailable
from search.store.retry import Retry
from search.store.server_catalog import ServerCatalog


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


def test_a_dead_server_is_a_clear_error_within_seconds() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    catalog = ServerCatalog.connect(url, None, "posts", timeout_s=2)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as info:
        catalog.live_name()
    assert time.monotonic() - started < 20
    assert url in str(info.value) and "did not answer after 4 attempts" in str(info.value)


def test_transient_errors_are_retried_then_succeed() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("reset by peer")
        return "ok"

    assert Retry("test", attempts=4, max_seconds=10)(flaky) == "ok"
    assert len(calls) == 3


def test_other_errors_are_not_retried() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("bad request")

    with pytest.raises(ValueError):
        Retry("test")(broken)
    assert len(calls) == 1
