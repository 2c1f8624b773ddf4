"""`GET /v1/trends`: parse the query string, call the trends service, shape the answer."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from litestar import get
from litestar.params import Parameter

from search.bounds import check_instant
from search.errors import FieldError
from search.models import AuthorName, LangCode, SearchFilters, ShortText
from search.trends.models import MAX_TOPICS, Topic, TrendParams, TrendsRequest
from search.trends.window import format_duration, parse_duration
from server.admission import Admission
from server.services import Services

MAX_WINDOW = timedelta(days=7)
MAX_BASELINE = timedelta(days=30)
MAX_BUCKETS = 1000
# Without a `baseline`, a window is compared with this many windows before it ...
BASELINE_WINDOWS = 48
SPAN_WINDOWS = TrendParams().span_windows


class TrendsResponse(msgspec.Struct):
    as_of: datetime
    window: str
    baseline: str
    query: str | None
    took_ms: float
    cached: bool
    posts_read: int
    truncated: bool
    timings_ms: dict[str, float]
    topics: list[Topic]


def default_baseline(window: timedelta) -> timedelta:
    """`BASELINE_WINDOWS` windows, or as many whole windows as fit in `MAX_BASELINE`.

    Why relative to the window: the burst is counted against the median window of the
    baseline, so a fixed 48 h compares a 1 h window with 48 windows but a 24 h window
    with two (fewer than the span of windows a burst is counted over: nothing left to
    expect from) and a 7-day window with none (a 422). 1h -> 2d, 6h -> 12d, 24h -> 30d,
    7d -> 4w.
    """
    windows = min(BASELINE_WINDOWS, int(MAX_BASELINE / window))
    return window * max(1, windows)


def trends_request(*, window: str, baseline: str | None, as_of: datetime | None, limit: int,
                   query: str | None, filters: SearchFilters | None) -> TrendsRequest:
    """Durations parsed and bounded; each problem names its parameter. No `baseline`:
    `default_baseline(window)`."""
    win = parse_duration(window, "window")
    base = default_baseline(win) if baseline is None else parse_duration(baseline, "baseline")
    if win > MAX_WINDOW:
        raise FieldError("window", f"at most {format_duration(MAX_WINDOW)}; got {window!r}")
    if base > MAX_BASELINE:
        raise FieldError("baseline", f"at most {format_duration(MAX_BASELINE)}; got {baseline!r}")
    if base < win:
        raise FieldError("baseline", f"must be at least the window ({window}); got {baseline!r}")
    if base < win * (SPAN_WINDOWS + 1):
        # The burst is counted over the newest `span_windows` windows: a shorter baseline
        # leaves no window to expect from, and every topic would read `expected = 0`.
        raise FieldError("baseline", f"must be at least {SPAN_WINDOWS + 1} windows "
                                     f"({format_duration(win * (SPAN_WINDOWS + 1))} for a "
                                     f"{window} window); got {baseline!r}")
    if base / win > MAX_BUCKETS:
        raise FieldError("baseline", f"at most {MAX_BUCKETS} windows long; got {baseline!r} "
                                     f"for a {window} window")
    if as_of is not None and as_of.tzinfo is None:
        raise FieldError("as_of", "needs an offset (RFC 3339, e.g. 2024-05-01T12:00:00Z)")
    check_instant(as_of, "as_of")
    if query is not None and not query.strip():
        raise FieldError("query", "must not be blank")
    return TrendsRequest(window=win, baseline=base, as_of=as_of, limit=limit,
                         query=query.strip() if query else None, filters=filters)


@get("/v1/trends", tags=["trends"])
async def trends(
    services: Services,
    work: Admission,
    window: str = "1h",
    baseline: str | None = None,
    as_of: datetime | None = None,
    limit: Annotated[int, Parameter(ge=1, le=MAX_TOPICS)] = 10,
    # Litestar reserves a handler argument named `query` for the whole query string.
    topic_query: Annotated[str | None, Parameter(query="query", max_length=1000)] = None,
    platform: list[ShortText] | None = None,
    lang: list[LangCode] | None = None,
    author: list[AuthorName] | None = None,
    min_likes: Annotated[int | None, Parameter(ge=0)] = None,
    min_reposts: Annotated[int | None, Parameter(ge=0)] = None,
    min_comments: Annotated[int | None, Parameter(ge=0)] = None,
    has_image: bool | None = None,
) -> TrendsResponse:
    """Hot topics in the window against the baseline; `query` restricts them to its posts.

    `baseline` defaults to 48 windows before the window, at most the whole windows in
    30 days (`default_baseline`: 1h -> 2d, 24h -> 30d, 7d -> 4w), so every window the
    page offers has a baseline to be hot against; the answer's `baseline` says which.
    """
    started = time.perf_counter()
    try:
        filters = msgspec.convert({
            "platform": platform, "lang": lang, "author": author, "min_likes": min_likes,
            "min_reposts": min_reposts, "min_comments": min_comments, "has_image": has_image,
        }, SearchFilters)
    except msgspec.ValidationError as exc:
        field = str(exc).rsplit("`$.", 1)[-1].split("`")[0].split("[")[0] if "`$." in str(exc) else "filters"
        raise FieldError(field, str(exc).split(" - at ")[0]) from None
    request = trends_request(window=window, baseline=baseline, as_of=as_of, limit=limit,
                             query=topic_query,
                             filters=filters if msgspec.to_builtins(filters) else None)
    # The service is fetched in the work (`server.admission`): a model change replaces it.
    result = await work.run(lambda: services.trends_service().trends(request))
    return TrendsResponse(
        as_of=result.as_of, window=format_duration(request.window),
        baseline=format_duration(request.baseline), query=request.query,
        took_ms=round((time.perf_counter() - started) * 1000, 2), cached=result.cached,
        posts_read=result.posts_read, truncated=result.truncated, timings_ms=result.timings_ms,
        topics=result.topics)
