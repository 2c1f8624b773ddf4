"""`GET /metrics`: Prometheus text format, from `prometheus_client`.

Each app has its own `CollectorRegistry` (not the process-global one), so
several apps in one process, as in tests, count separately. What is counted:

- `trendsearch_http_requests_total{method,route,status}` and
  `trendsearch_http_request_duration_seconds{method,route}`: every routed
  request, by route template (`/v1/posts/{post_id}`, never the raw path, so
  the label set stays bounded), including 401/403/429 answers;
- `trendsearch_search_stage_seconds{stage}`: the pipeline's own per-stage
  timings (embed, recall, rerank, boost/order) for every search answered;
- `trendsearch_errors_total{error}`: exceptions that became error responses, by
  class (`NotFound`, `ValidationException`, `TooManyRequestsException`, ...);
- `trendsearch_index_points` and `trendsearch_takedowns`: read at scrape time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from search.log import log

# `*_created` timestamps double the output and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _Gauges(Collector):
    """Gauges computed when Prometheus scrapes, so they cannot go stale."""

    def __init__(self, read: Callable[[], dict[str, tuple[str, float]]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        for name, (help_text, value) in self._read().items():
            yield GaugeMetricFamily(name, help_text, value=value)


class Metrics:
    def __init__(self, gauges: Callable[[], dict[str, tuple[str, float]]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "trendsearch_http_requests", "HTTP requests answered, by route template and status.",
            ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram(
            "trendsearch_http_request_duration_seconds", "Time to answer, by route template.",
            ["method", "route"], buckets=HTTP_BUCKETS, registry=self.registry)
        self.stages = Histogram(
            "trendsearch_search_stage_seconds", "Search time per pipeline stage.",
            ["stage"], buckets=STAGE_BUCKETS, registry=self.registry)
        self.errors = Counter(
            "trendsearch_errors", "Exceptions turned into error responses, by class.",
            ["error"], registry=self.registry)
        self.registry.register(_Gauges(gauges))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_stages(self, timings_ms: dict[str, float]) -> None:
        for stage, ms in timings_ms.items():
            self.stages.labels(stage).observe(ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # -- Litestar hooks -----------------------------------------------------
    def middleware(self) -> ASGIMiddleware:
        return _RequestMetrics(self)

    async def after_exception(self, exc: Exception, scope: Scope) -> None:
        self.errors.labels(type(exc).__name__).inc()



# The app whose middleware is handling the current request. Litestar memoises a
# handler's response pipeline, after_request hook included, in a dict its
# per-app copies share, so the hook must be one function for every app; it
# finds this request's app here.
_CURRENT: ContextVar[Metrics | None] = ContextVar("trendsearch_metrics", default=None)


async def after_request(response: Response[Any]) -> Response[Any]:
    """Stage timings straight from the search response, before it is serialised."""
    metrics = _CURRENT.get()
    content = getattr(response, "content", None)  # static files answer without one
    timings = getattr(content, "timings_ms", None)
    if metrics is not None and isinstance(timings, dict) and hasattr(content, "took_ms"):
        metrics.observe_stages(timings)
    return response


class _RequestMetrics(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = _CURRENT.set(self.metrics)
        try:
            await next_app(scope, receive, send_status)
        except HTTPException as exc:  # raised by middleware after us (rate limit): answered outside
            status = exc.status_code
            raise
        finally:
            _CURRENT.reset(token)
            route = scope.get("path_template") or "(unmatched)"
            self.metrics.observe_request(str(scope.get("method", "?")), str(route), status,
                                         time.perf_counter() - started)


@get("/metrics", sync_to_thread=True, include_in_schema=False, opt={"access": "open"})
def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_PLAIN_0_0_4)


def app_gauges(state: Any) -> Callable[[], dict[str, tuple[str, float]]]:
    """Index size and takedown count from the running app's services, when it has them."""

    def read() -> dict[str, tuple[str, float]]:
        out: dict[str, tuple[str, float]] = {}
        services = getattr(state, "services", None)
        if services is not None:
            try:
                out["trendsearch_index_points"] = ("Posts in the live index.",
                                                   float(services.store.count()))
            except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the store is down
                log("metrics.index_count_failed", error=type(exc).__name__, detail=str(exc)[:200])
        takedowns = getattr(state, "takedowns", None)
        if takedowns is not None:
            out["trendsearch_takedowns"] = ("Post ids taken down (never re-ingested).",
                                            float(len(takedowns.records())))
        return out

    return read
