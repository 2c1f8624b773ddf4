"""`create_app(settings)`: the Litestar app, its lifespan and its wiring.

Models load and the store opens in the lifespan, so `/health` answers only
once they are ready and a failure to load stops start-up with the reason.
Tests may hand in `services` they built, to share loaded models.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router

from search.log import log
from server.problems import problem_details_plugin
from server.routes.health import health, ready
from server.routes.posts import get_post, ingest
from server.routes.search import search
from server.services import Services
from server.settings import Settings

WEB_DIR = Path(__file__).parent / "web"


def _services(state: State) -> Services:
    services: Services = state.services
    return services


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    owns_services = services is None

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        built = services or Services.build(settings)
        app.state.services = built
        log("server.ready", profile=built.models.profile, index=built.store.manifest().name,
            host=settings.host, port=settings.port)
        try:
            yield
        finally:
            if owns_services:
                built.close()

    return Litestar(
        route_handlers=[search, ingest, get_post, health, ready,
                        create_static_files_router(path="/", directories=[WEB_DIR], html_mode=True,
                                                   name="web", include_in_schema=False)],
        dependencies={"services": Provide(_services, sync_to_thread=False)},
        lifespan=[lifespan],
        plugins=[problem_details_plugin()],
        openapi_config=OpenAPIConfig(title="trendsearch", version="0.1.0", path="/schema"),
        cors_config=CORSConfig(allow_origins=[], allow_methods=["GET", "POST"]),
        request_max_body_size=16 * 1024 * 1024,
    )
