"""A reindex run by the serving process itself, in the background, with its progress.

Why inside the API: Qdrant Edge belongs to one process (its lock), so with the
embedded store a rebuild beside `serve` is only possible within `serve`; and on
either back end only the process that takes the writes can journal them and
pause them for the switch (`indexer.reindex`). `POST /v1/admin/reindex` starts
one job (one at a time), `GET` reads its progress; `trendsearch reindex --server
URL` drives both.

Without `profile` (or with the running one) the job rebuilds with the process's
own model: a schema step, a new index layout, a clean copy. With another
`profile` it is a model change: the job loads that profile's models beside the
running ones (stage `load`; memory for both until the switch), builds the new
index with them (writes made meanwhile are re-embedded by the new model at
replay), and at the switch the process's models, pipeline, trends and watch
percolator move with the index in one step (`server.switching`), so the API
follows without a restart. At the switch the profile is recorded in
`DATA_DIR/profile.json`: the next start that names no profile runs it
(`server.live_profile`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

import msgspec
from msgspec import Meta

from indexer.reindex import reindex
from search.errors import FieldError, ReindexRunning
from search.log import log
from server import gate
from server.live_profile import FILE as PROFILE_FILE
from server.live_profile import record as record_profile
from server.settings import Profile
from server.switching import ModelSwap

__all__ = ["ReindexJob", "ReindexRequest", "ReindexStatus"]

State = Literal["idle", "running", "done", "failed"]
PROFILES: tuple[str, ...] = get_args(Profile)
PROFILE_PATTERN = f"^({'|'.join(PROFILES)})$"


class ReindexRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    batch_size: Annotated[int, Meta(ge=1, le=10_000, description="Posts embedded per batch.")] = 64
    keep_old: Annotated[bool, Meta(description="Keep the previous index after the switch.")] = False
    # A pattern of the `Profile` names, not the literal itself: msgspec would answer "Invalid
    # enum value" without the names to choose from; the pattern's error lists them.
    profile: Annotated[Annotated[str, Meta(pattern=PROFILE_PATTERN)] | None, Meta(description=(
        f"Rebuild with this profile's models ({', '.join(f'`{p}`' for p in PROFILES)}) and "
        "switch the API "
        "to them with the index (a model change); default: the running profile."))] = None


class ReindexStatus(msgspec.Struct, frozen=True):
    state: State
    stage: str | None = None  # load (a model change), copy, replay, switched
    posts: int = 0  # copied so far
    replayed: int = 0  # posts written during the build, carried over from the journal
    source: str | None = None
    target: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    profile: str | None = None  # the profile whose model the new index is built with
    model: str | None = None  # its embedder's model id


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

    def start(self, batch_size: int = 64, keep_old: bool = False,
              profile: str | None = None) -> ReindexStatus:
        if profile is not None and profile not in PROFILES:
            raise FieldError("profile", f"unknown profile {profile!r}; one of: "
                                        f"{', '.join(PROFILES)}")
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise ReindexRunning(
                    f"a reindex started at {self._status.started_at} is still running "
                    f"(stage {self._status.stage}); follow it with GET /v1/admin/reindex")
            models = self._services.models
            change = profile is not None and profile != models.profile
            self._status = ReindexStatus(
                state="running", stage="load" if change else "copy",
                source=self._services.catalog.live_name(), started_at=_now(),
                profile=profile if change else models.profile,
                model=None if change else models.embedder.info.model_id)
            self._thread = threading.Thread(target=self._run,
                                            args=(batch_size, keep_old, profile if change else None),
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

    def _run(self, batch_size: int, keep_old: bool, profile: str | None) -> None:
        services = self._services
        swap: ModelSwap | None = None
        if services.upkeep is not None:
            services.upkeep.paused = True
            services.upkeep.wait()  # a build already under way ends before the copy starts
        try:
            if profile is not None:
                swap = ModelSwap(services, profile)  # loaded while the old models serve
                self._update(stage="copy", model=swap.model_id)
            old, new, _ = reindex(
                services.catalog, swap.models.embedder if swap else services.models.embedder,
                batch_size=batch_size, keep_old=keep_old, served=services.served,
                pause=self._pause(swap), progress=self._progress,
                on_switch=(lambda: self._switch_models(swap)) if swap else None)
        except Exception as exc:  # noqa: BLE001 - reported by GET, the API keeps serving
            if swap is not None and services.models is not swap.models:
                swap.discard()
            log("reindex.failed", error=type(exc).__name__, detail=str(exc)[:500])
            self._update(state="failed", finished_at=_now(),
                         error=f"{type(exc).__name__}: {str(exc)[:500]}")
            return
        finally:
            if services.upkeep is not None:
                services.upkeep.paused = False
        if swap is not None:
            log("reindex.models_swapped", profile=profile, embedder=swap.model_id,
                note=f"recorded in {PROFILE_FILE}: a start that names no profile runs "
                     f"{profile}; one that names another is refused by the live index")
        self._update(state="done", source=old, target=new, finished_at=_now())

    def _switch_models(self, swap: ModelSwap) -> None:
        """At the switch (gate closed, write lock held): the models move, then the profile
        is recorded, before the old index drains and drops, so a crash after the switch
        still starts with the model of the index that is live (`server.live_profile`)."""
        swap.apply()
        try:
            record_profile(self._services.settings.data_path, swap.settings.profile, swap.model_id)
        except OSError as exc:  # the switch is made: the job is done, the note is not
            log("reindex.profile_not_recorded", error=str(exc)[:300],
                note=f"set TRENDSEARCH_PROFILE={swap.settings.profile} before the next start")

    def _pause(self, swap: ModelSwap | None) -> AbstractContextManager[Any]:
        """The write lock for the last pass and the switch; for a model change the gate
        too, taken first (an ingest holds the gate, then waits for the write lock: the
        other order could deadlock), so no request runs across the swap."""
        services = self._services
        if swap is None:
            return services.write_lock  # type: ignore[no-any-return]

        @contextmanager
        def both() -> Iterator[None]:
            with self._gate_closed(), services.write_lock:
                yield

        return both()

    @contextmanager
    def _gate_closed(self) -> Iterator[None]:
        """The gate, tried `DRAIN_TRIES` times: a request that outlasts one wait does not
        cost the finished rebuild; the writes of the pause between tries are caught up by
        the last pass, which runs after the gate closed."""
        with ExitStack() as stack:
            for attempt in range(1, gate.DRAIN_TRIES + 1):
                try:
                    stack.enter_context(self._services.gate.closed(gate.DRAIN_WAIT_S))
                    break
                except gate.DrainTimeout as exc:
                    if attempt == gate.DRAIN_TRIES or self._stop.is_set():
                        raise gate.DrainTimeout(f"{exc} [tried {attempt} time(s), "
                                                f"{gate.DRAIN_PAUSE_S:g} s apart]") from exc
                    log("reindex.drain_retry", attempt=attempt, tries=gate.DRAIN_TRIES,
                        detail=str(exc)[:200])
                    if self._stop.wait(gate.DRAIN_PAUSE_S):  # shutting down: no more holds
                        raise gate.DrainTimeout(f"{exc} [the API is shutting down]") from exc
            yield

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
