"""`OPTIONS` answers with every method of its path.

Litestar 2.25 builds a path's `OPTIONS` handler with its first route handler and
keeps that one when a second handler joins the path, so `OPTIONS /v1/posts/{id}`
said `GET, OPTIONS` and hid `DELETE`. For each path served by more than one
handler we register our own `OPTIONS` first, with the union of their methods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from litestar import Response, route
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_204_NO_CONTENT


def _options(path: str, methods: set[str]) -> HTTPRouteHandler:
    allow = ", ".join(sorted(methods | {"OPTIONS"}))

    def options() -> Response[None]:
        return Response(content=None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow})

    options.__name__ = f"options_{abs(hash(path))}"
    return route(path, http_method=["OPTIONS"], include_in_schema=False, sync_to_thread=False,
                 opt={"access": "open"})(options)


def options_handlers(handlers: Sequence[Any]) -> list[HTTPRouteHandler]:
    """Explicit `OPTIONS` handlers for the paths several of `handlers` share."""
    methods: dict[str, set[str]] = defaultdict(set)
    count: dict[str, int] = defaultdict(int)
    for handler in handlers:
        if isinstance(handler, HTTPRouteHandler):
            for path in handler.paths:
                methods[path] |= set(handler.http_methods)
                count[path] += 1
    return [_options(path, methods[path]) for path in methods if count[path] > 1]
