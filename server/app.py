"""`create_app(settings)`: the Litestar app, its lifespan and its wiring.

Models load and the store opens in the lifespan, so `/health` answers only
once they are ready and a failure to load stops start-up with the reason.
Tests may hand in `services` they built, to share loaded models.

Around every route: the access guard (`server.auth`), a per-key or
per-client rate limit on `/v1/` (Litestar's `RateLimitConfig`, in memory, per
process), CORS for the configured origins only, a request body limit, and
request metrics (`server.metrics`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Request
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.file_system import BaseLocalFileSystem
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from litestar.types import PathType
from litestar.types.file_types import FileInfo

from indexer.repair import repair_takedowns
from indexer.takedowns import Takedowns
from search.errors import IndexNotReady
from search.log import log
from server.admission import Admission
from server.auth import KeyRing
from server.body import strict_json_body
from server.metrics import Metrics, after_request, app_gauges, metrics_endpoint
from server.openapi import complete as complete_openapi
from server.options import options_handlers
from server.problems import problem_details_plugin
from server.routes.admin import reindex_status, start_reindex
from server.routes.health import health, ready
from server.routes.posts import (
    delete_post,
    get_post,
    ingest,
    update_engagement,
    update_engagement_bulk,
)
from server.routes.rising import rising_posts
from server.routes.search import search
from server.routes.takedowns import lift_takedown, list_takedowns
from server.routes.trends import trends
from server.routes.watches import ROUTES as WATCH_ROUTES
from server.services import Services
from server.settings import Settings
from server.watches.runtime import WatchRuntime
from server.writer_lease import advertised_url, keep_writer_lease

WEB_DIR = Path(__file__).parent / "web"
RATE_LIMIT_HEADERS = ["RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining",
                      "RateLimit-Reset"]


def _services(state: State) -> Services:
    services: Services = state.services
    return services


def _work(state: State) -> Admission:
    work: Admission = state.work
    return work


def _watch_runtime(state: State) -> WatchRuntime:
    runtime: WatchRuntime | None = state.services.watches
    if runtime is None:
        raise IndexNotReady("watches are not available in this process")
    return runtime


def _takedowns(state: State) -> Takedowns:
    takedowns: Takedowns = state.takedowns
    return takedowns


def _api_only(request: Request[Any, Any, Any]) -> bool:
    return request.scope["path"].startswith("/v1/")


def _cors(settings: Settings) -> CORSConfig | None:
    if not settings.origins:
        return None
    return CORSConfig(allow_origins=settings.origins,
                      allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
                      allow_headers=["content-type", "authorization", "x-api-key"],
                      expose_headers=RATE_LIMIT_HEADERS, max_age=600)


class _WebFiles(BaseLocalFileSystem):
    """The page's files; a path holding NUL (`/%00`) is simply not one of them (404),
    where `os.stat` would raise ValueError (a 500)."""

    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        if "\x00" in str(path):
            raise FileNotFoundError(path)
        return await super().info(path, **kwargs)


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's forwarded-header options: off unless proxies are listed.

    uvicorn believes `X-Forwarded-For` from 127.0.0.1 (or `$FORWARDED_ALLOW_IPS`) by
    default, which let any local client pick its own rate-limit bucket.
    """
    if not settings.proxies:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(settings.proxies)}


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    owns_services = services is None
    keys = KeyRing(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        built = services or Services.build(settings)
        app.state.services = built
        app.state.takedowns = Takedowns(built.settings.data_path)
        app.state.work = Admission(settings.work_threads, settings.work_queue,
                                   settings.retry_after_s, settings.work_nice, built.gate)
        # Also done where the catalog opens the index (`indexer.repair`); again here
        # for services handed in with a catalog of their own.
        repair_takedowns(built.store, app.state.takedowns)
        lease = scheduler = None
        try:
            # On a Qdrant server: tell a standalone `reindex` that this process writes
            # through the alias (`server.writer_lease`); None on Edge.
            lease = keep_writer_lease(built.catalog, advertised_url(settings.host, settings.port))
            if built.watches is not None and built.watches.scheduler_wanted(own_process=False):
                scheduler = built.watches.make_scheduler()
                scheduler.start()
            log("server.ready", profile=built.models.profile, index=built.store.manifest().name,
                host=settings.host, port=settings.port, write_keys=len(keys.write),
                read_keys=len(keys.read), anonymous_writes=keys.anonymous_writes)
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            app.state.work.close()
            if lease is not None:
                lease.stop()  # before the catalog closes its client
            if owns_services:
                built.close()

    state = State()
    metrics = Metrics(app_gauges(state))
    state.metrics = metrics
    middleware: list[Any] = [metrics.middleware()]
    if settings.rate_limit_per_minute:
        middleware.append(RateLimitConfig(
            rate_limit=("minute", settings.rate_limit_per_minute),
            identifier_for_request=keys.rate_limit_identity,
            check_throttle_handler=_api_only).middleware)

    api = [search, rising_posts, trends, ingest, get_post, update_engagement, update_engagement_bulk, delete_post, list_takedowns,
           lift_takedown, health, ready, metrics_endpoint, start_reindex, reindex_status,
           *WATCH_ROUTES]
    app = Litestar(
        route_handlers=[*options_handlers(api), *api,
                        create_static_files_router(path="/", directories=[WEB_DIR], html_mode=True,
                                                   name="web", include_in_schema=False,
                                                   file_system=_WebFiles())],
        dependencies={"services": Provide(_services, sync_to_thread=False),
                      "takedowns": Provide(_takedowns, sync_to_thread=False),
                      "work": Provide(_work, sync_to_thread=False),
                      "watch_runtime": Provide(_watch_runtime, sync_to_thread=False)},
        state=state,
        guards=[keys.guard()],
        before_request=strict_json_body,
        middleware=middleware,
        after_request=after_request,
        after_exception=[metrics.after_exception],
        lifespan=[lifespan],
        plugins=[problem_details_plugin()],
        openapi_config=OpenAPIConfig(title="trendsearch", version="0.1.0", path="/schema"),
        cors_config=_cors(settings),
        request_max_body_size=settings.max_body_bytes,
    )
    complete_openapi(app, settings)
    return app
