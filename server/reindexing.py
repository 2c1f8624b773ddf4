"""A reindex run by the serving process itself, in the background, with its progress.

Why inside the API: Qdrant Edge belongs to one process (its lock), so with the
embedded store a rebuild beside `serve` is only possible within `serve`; and on
either back end only the process that takes the writes can journal them and
pause them for the switch (`indexer.reindex`). `POST /v1/admin/reindex` starts
one job (one at a time), `GET` reads its progress; `trendsearch reindex --server
URL` drives both. The job rebuilds with the process's own model: a schema step,
a new index layout, a clean copy. A model change needs a process that runs the
new model (`trendsearch reindex` with the new profile, with writes stopped).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from indexer.reindex import reindex
from search.errors import ReindexRunning
from search.log import log

__all__ = ["ReindexJob", "ReindexRequest", "ReindexStatus"]

State = Literal["idle", "running", "done", "failed"]


class ReindexRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    batch_size: Annotated[int, Meta(ge=1, le=10_000, description="Posts embedded per batch.")] = 64
    keep_old: Annotated[bool, Meta(description="Keep the previous index after the switch.")] = False


class ReindexStatus(msgspec.Struct, frozen=True):
    state: State
    stage: str | None = None  # copy, replay, switched
    posts: int = 0  # copied so far
    replayed: int = 0  # posts written during the build, carried over from the journal
    source: str | None = None
    target: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ReindexJob:
    """One background rebuild of the live index at a time, for one `Services`."""

    def __init__(self, services: Any) -> None:
        self._services = services
        self._lock = threading.Lock()
        self._status = ReindexStatus(state="idle")
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def status(self) -> ReindexStatus:
        with self._lock:
            return self._status

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._status = msgspec.structs.replace(self._status, **changes)

    def start(self, batch_size: int = 64, keep_old: bool = False) -> ReindexStatus:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise ReindexRunning(
                    f"a reindex started at {self._status.started_at} is still running "
                    f"(stage {self._status.stage}); follow it with GET /v1/admin/reindex")
            self._status = ReindexStatus(state="running", stage="copy",
                                         source=self._services.catalog.live_name(),
                                         started_at=_now())
            self._thread = threading.Thread(target=self._run, args=(batch_size, keep_old),
                                            name="reindex", daemon=True)
            self._thread.start()
            return self._status

    def _progress(self, stage: str, posts: int) -> None:
        if self._stop.is_set() and stage != "switched":
            # Raised inside `reindex`, which drops the unfinished index; the old one stays live.
            raise InterruptedError("the API is shutting down")
        if stage == "switched":
            self._services.trends = None  # its cache answered from the old index
        if stage == "replay":
            self._update(stage=stage, replayed=posts)
        else:
            self._update(stage=stage, posts=posts)

    def _run(self, batch_size: int, keep_old: bool) -> None:
        services = self._services
        if services.upkeep is not None:
            services.upkeep.paused = True
            services.upkeep.wait()  # a build already under way ends before the copy starts
        try:
            old, new, _ = reindex(
                services.catalog, services.models.embedder, batch_size=batch_size,
                keep_old=keep_old, served=services.served, pause=services.write_lock,
                progress=self._progress)
        except Exception as exc:  # noqa: BLE001 - reported by GET, the API keeps serving
            log("reindex.failed", error=type(exc).__name__, detail=str(exc)[:500])
            self._update(state="failed", finished_at=_now(),
                         error=f"{type(exc).__name__}: {str(exc)[:500]}")
            return
        finally:
            if services.upkeep is not None:
                services.upkeep.paused = False
        self._update(state="done", source=old, target=new, finished_at=_now())

    def stop(self) -> None:
        """At shutdown: the running rebuild stops at its next batch and is dropped."""
        self._stop.set()
        self.wait()

    def wait(self, timeout: float | None = None) -> ReindexStatus:
        """Until the running job ends (tests, shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status
