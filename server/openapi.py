"""The OpenAPI document as the contract: what Litestar cannot infer, said here.

Litestar documents a handler's `data` and its success response. It cannot know
that `POST /v1/posts` reads raw bytes (to name every bad item at once), that
every error is `application/problem+json` (`server.problems`), which statuses
the guard, the rate limit, the body limit and admission control add, or which
keys an operation needs under these settings. `complete` adds all of that to
the generated document once, when the app is built, so `/schema` tells a
client generator the truth. `tests/e2e/test_schema_fuzz.py` holds the API to it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIType

from search.bounds import RANGE_TEXT
from search.contracts import SearchRequest
from search.models import END, Engagement, Post, SearchFilters
from search.rising import RisingRequest
from search.watches.models import WatchPatch, WatchSpec
from server.auth import KeyRing
from server.reindexing import ReindexRequest
from server.routes.posts import BulkEngagement
from server.settings import Settings

PROBLEM_TYPE = "application/problem+json"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_INT, _STR = Schema(type=OpenAPIType.INTEGER), Schema(type=OpenAPIType.STRING)

PROBLEM = Schema(
    type=OpenAPIType.OBJECT, required=["type", "title", "status", "detail"],
    description="RFC 9457 problem details; `errors` names each bad field (and item or line).",
    properties={
        "type": _STR, "title": _STR, "status": _INT, "detail": _STR,
        "errors": Schema(type=OpenAPIType.ARRAY, items=Schema(
            type=OpenAPIType.OBJECT, required=["field", "problem"],
            properties={"field": _STR, "problem": _STR, "index": _INT, "line": _INT})),
    })
RETRY_AFTER = {"Retry-After": OpenAPIHeader(schema=_INT, description="Seconds to wait.")}
SECURITY = [{"bearer": []}, {"apiKey": []}]


def _problem_response(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=HTTPStatus(status).phrase,
        content={PROBLEM_TYPE: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
        headers=RETRY_AFTER if status in (429, 503) else None)


def _statuses(path: str, method: str, op: Any, access: str, settings: Settings) -> set[int]:
    """Every error status this operation can answer under `settings`."""
    found: set[int] = set()
    if access in ("read", "write"):
        found |= {401, 403} if access == "write" else ({401} if settings.read_only_keys else set())
        if settings.rate_limit_per_minute:
            found.add(429)
    if path.startswith("/v1/") or path == "/ready":
        found.add(503)  # overloaded (Retry-After), store unavailable
    if op.request_body is not None or method in ("post", "patch"):
        found |= {413, 415, 422}
    if op.parameters:
        found.add(422)
    if "{post_id}" in path or "{watch_id}" in path or "{alert_id}" in path:
        found.add(404)
    if path == "/v1/webhooks/dead-letters/replay":
        found.add(404)  # `alert=` names no dead letter
    if path == "/v1/posts" and method == "post":
        found.add(409)  # a taken-down id
    if path == "/v1/admin/reindex" and method == "post":
        found.add(409)  # one rebuild at a time
    return found


def _ingest_body(settings: Settings) -> RequestBody:
    posts = Schema(type=OpenAPIType.ARRAY, items=Reference(ref="#/components/schemas/Post"),
                   min_items=1, max_items=settings.max_ingest_batch)
    return RequestBody(required=True, description=(
        "A batch, all or nothing: every bad item is named (index and field) and nothing is "
        "stored. Ids must be unique within the batch."), content={"application/json": OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.OBJECT, required=["posts"], properties={"posts": posts},
                          additional_properties=False))})


def _access(app: Litestar, path: str, method: str) -> str:
    for route in app.routes:
        if route.path_format == path:
            for handler in getattr(route, "route_handlers", []):
                if method.upper() in handler.http_methods:
                    declared = handler.opt.get("access")
                    if declared:
                        return str(declared)
    return "read" if path.startswith("/v1/") else "open"


_WATCH_QUERY = ('Words, "exact phrases" and -exclusions, as in search; at least one letter, digit '
                'or emoji to search for outside the exclusions (else 422 naming `query`).')


def _request_schemas() -> dict[str, Any]:
    """The request structs as msgspec states them: Litestar's rendering drops the
    constraints of list items (`image_urls` patterns) and `forbid_unknown_fields`
    (`additionalProperties: false`), so schema-valid bodies were refused."""
    _, schemas = msgspec.json.schema_components(
        [Post, Engagement, SearchRequest, SearchFilters, WatchSpec, WatchPatch, BulkEngagement,
         RisingRequest, ReindexRequest],
        ref_template="#/components/schemas/{name}")
    for schema in schemas.values():
        for prop in schema.get("properties", {}).values():
            for option in [prop, *prop.get("anyOf", [])]:
                if option.get("format") == "date-time":
                    option["description"] = f"RFC 3339 with an offset, {RANGE_TEXT}."
    schemas["SearchRequest"]["properties"]["query"]["description"] = (
        'Words, "exact phrases" and -exclusions; at least one letter, digit or emoji to '
        "search for outside the exclusions.")
    for name in ("WatchSpec", "WatchPatch"):
        props = schemas[name]["properties"]
        for option in [props["query"], *props["query"].get("anyOf", [])]:
            if option.get("type") == "string":
                option["description"] = _WATCH_QUERY
        props["filters"]["description"] = (
            "As in search, without `since` / `until`: a watch looks at new posts as they come "
            "(a time range is refused, naming `filters.since` or `filters.until`).")
    schemas["WatchSpec"]["properties"]["id"]["description"] = (
        "Optional; an id already taken is refused (422 naming `id`).")
    schemas["Webhook"]["properties"]["url"]["description"] = (
        "Must also pass the server's allow-list (TRENDSEARCH_WEBHOOK_SCHEMES, no private, loopback "
        "or link-local address unless TRENDSEARCH_WEBHOOK_ALLOW_NETWORKS allows it); otherwise "
        "422 naming `webhook.url`.")
    schemas["SearchRequest"]["properties"]["cursor"]["description"] = (
        "A previous page's `next_cursor`, as issued; any other string is refused.")
    return schemas


# Query parameters whose constraints Litestar's rendering drops (list items, `ge`).
DURATION = {"type": "string", "pattern": rf"^[0-9]+(\.[0-9]+)?(s|m|min|h|d|w){END}",
            "description": "30m, 1h, 2d, 1w: longer than zero; a window at most 7d, a baseline "
                           "at most 30d, at least the window and at most 1000 windows long."}


def _query_schemas(filters: dict[str, Any]) -> dict[str, Any]:
    def non_null(prop: dict[str, Any]) -> Any:
        return next(o for o in prop.get("anyOf", [prop]) if o.get("type") != "null")

    out = {name: non_null(prop) for name, prop in filters["properties"].items()
           if name not in ("since", "until")}
    out["window"] = out["baseline"] = DURATION
    out["as_of"] = {"type": "string", "format": "date-time",
                    "description": f"RFC 3339 with an offset, {RANGE_TEXT}."}
    out["query"] = {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": r"\S",
                    "description": "Restricts the topics to this search's posts."}
    return out


def complete(app: Litestar, settings: Settings) -> None:
    doc = app.openapi_schema
    doc.components = doc.components or Components()
    schemas = doc.components.schemas = dict(doc.components.schemas or {})
    schemas["Problem"] = PROBLEM
    schemas.update(_request_schemas())
    schemas["BulkEngagement"]["properties"]["updates"]["maxItems"] = settings.max_ingest_batch
    query = _query_schemas(schemas["SearchFilters"])
    doc.components.security_schemes = {
        "bearer": SecurityScheme(type="http", scheme="bearer",
                                 description="A key from TRENDSEARCH_API_KEYS or _READ_KEYS."),
        "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
    }
    keys = KeyRing(settings)
    for path, item in (doc.paths or {}).items():
        for method in _METHODS:
            op = getattr(item, method, None)
            if op is None:
                continue
            access = _access(app, path, method)
            if path == "/v1/posts" and method == "post":
                op.request_body = _ingest_body(settings)
            for param in op.parameters or []:
                if path == "/v1/alerts" and param.name == "since":
                    param.schema = query["as_of"]
                elif getattr(param, "param_in", None) == "query" and param.name in query:
                    param.schema = query[param.name]
                elif param.name == "post_id":
                    param.schema = schemas["Post"]["properties"]["id"]
                elif param.name == "watch_id":
                    param.schema = next(o for o in schemas["WatchSpec"]["properties"]["id"]["anyOf"]
                                        if o.get("type") == "string")
            needs_key = (access == "write" and not keys.anonymous_writes) or (
                access == "read" and bool(keys.read))
            op.security = SECURITY if needs_key else None
            responses = dict(op.responses or {})
            if "400" in responses:  # Litestar's own shape; ours are problem details
                responses["400"] = _problem_response(400)
            for status in sorted(_statuses(path, method, op, access, settings)):
                responses[str(status)] = _problem_response(status)
            op.responses = responses
