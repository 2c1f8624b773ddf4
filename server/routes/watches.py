"""Watches and alerts over HTTP: `/v1/watches` (manage: write key), `/v1/alerts` (read),
and the webhook dead-letter list (write key).

Bodies are msgspec Structs: a bad field is a 422 naming it (`webhook.url`,
`triggers.burst.min_z`, ...), and so is a query with nothing to search for or a
webhook the URL guard refuses (`server.watches.urlguard`). The webhook secret is
write-only: answers say `secret_set`, never the secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import delete, get, patch, post
from litestar.params import Parameter

from search.bounds import check_instant
from search.errors import FieldError, NotFound
from search.watches.models import Alert, Delivery, WatchPatch, WatchSpec
from server.auth import WRITE
from server.watches.runtime import WatchRuntime


class WatchList(msgspec.Struct):
    watches: list[dict[str, Any]]


class AlertList(msgspec.Struct):
    alerts: list[Alert]


class DeadLetters(msgspec.Struct):
    dead_letters: list[Delivery]


class Replayed(msgspec.Struct):
    replayed: int


def _check_webhook(runtime: WatchRuntime, url: str | None) -> None:
    if url is not None:
        runtime.guard.check(url, "webhook.url")


@post("/v1/watches", status_code=201, sync_to_thread=True, tags=["watches"], opt=WRITE)
def create_watch(data: WatchSpec, watch_runtime: WatchRuntime) -> dict[str, Any]:
    _check_webhook(watch_runtime, data.webhook.url if data.webhook else None)
    with watch_runtime.gate.reading():  # compiled and backfilled by one model
        return watch_runtime.service.create(data).public()


@get("/v1/watches", sync_to_thread=True, tags=["watches"], opt=WRITE)
def list_watches(watch_runtime: WatchRuntime) -> WatchList:
    return WatchList(watches=[w.public() for w in watch_runtime.service.watches()])


# Not in a thread: with GET, PATCH and DELETE all on one path and all `sync_to_thread`,
# Litestar 2.25 answers the GET with an un-awaited coroutine (a 500; seen here, isolated in a
# three-handler app). One SQLite primary-key read is cheap enough for the event loop.
@get("/v1/watches/{watch_id:str}", sync_to_thread=False, tags=["watches"], opt=WRITE)
def get_watch(watch_id: str, watch_runtime: WatchRuntime) -> dict[str, Any]:
    return watch_runtime.service.get(watch_id).public()


@patch("/v1/watches/{watch_id:str}", sync_to_thread=True, tags=["watches"], opt=WRITE)
def update_watch(watch_id: str, data: WatchPatch, watch_runtime: WatchRuntime) -> dict[str, Any]:
    if data.webhook is not msgspec.UNSET and data.webhook is not None:
        _check_webhook(watch_runtime, data.webhook.url)
    with watch_runtime.gate.reading():
        return watch_runtime.service.update(watch_id, data).public()


@delete("/v1/watches/{watch_id:str}", status_code=204, sync_to_thread=True, tags=["watches"],
        opt=WRITE)
def delete_watch(watch_id: str, watch_runtime: WatchRuntime) -> None:
    with watch_runtime.gate.reading():  # the percolator it removes from is the model's
        watch_runtime.service.delete(watch_id)


@get("/v1/alerts", sync_to_thread=True, tags=["watches"])
def list_alerts(
    watch_runtime: WatchRuntime,
    watch: Annotated[str | None, Parameter(query="watch", max_length=64)] = None,
    since: Annotated[str | None, Parameter(query="since", max_length=64)] = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
) -> AlertList:
    """Newest first; `watch` keeps one watch's, `since` those fired at or after it."""
    return AlertList(alerts=watch_runtime.ledger.alerts(watch, _instant(since, "since"), limit))


def _instant(text: str | None, field: str) -> datetime | None:
    """RFC 3339 with an offset, in range; read here, not by the framework, which would take a
    bare number for seconds since 1970."""
    if text is None:
        return None
    try:
        value = msgspec.json.decode(msgspec.json.encode(text), type=datetime)
    except msgspec.ValidationError:
        raise FieldError(field, "expected RFC 3339 with an offset, e.g. 2024-05-01T12:00:00Z") from None
    if value.tzinfo is None:
        raise FieldError(field, "needs an offset (RFC 3339, e.g. 2024-05-01T12:00:00Z)")
    check_instant(value, field)
    return value


@get("/v1/alerts/{alert_id:str}", sync_to_thread=True, tags=["watches"])
def get_alert(alert_id: str, watch_runtime: WatchRuntime) -> Alert:
    alert = watch_runtime.ledger.get(alert_id)
    if alert is None:
        raise NotFound(f"no alert with id {alert_id!r}")
    return alert


@get("/v1/webhooks/dead-letters", sync_to_thread=True, tags=["watches"], opt=WRITE)
def dead_letters(watch_runtime: WatchRuntime) -> DeadLetters:
    return DeadLetters(dead_letters=watch_runtime.ledger.dead_letters())


@post("/v1/webhooks/dead-letters/replay", status_code=200, sync_to_thread=True,
      tags=["watches"], opt=WRITE)
def replay_dead_letters(
    watch_runtime: WatchRuntime,
    alert: Annotated[str | None, Parameter(query="alert", max_length=64)] = None,
) -> Replayed:
    """Back to the queue (one alert's, or all); the scheduler sends them within seconds."""
    count = watch_runtime.ledger.replay(alert)
    if alert is not None and count == 0:
        raise NotFound(f"no dead letter for alert {alert!r}")
    return Replayed(replayed=count)


ROUTES = [create_watch, list_watches, get_watch, update_watch, delete_watch, list_alerts, get_alert,
          dead_letters, replay_dead_letters]
