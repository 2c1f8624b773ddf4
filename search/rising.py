"""The rising view: the posts most likely to take off now, by their forecast (`search.forecast`).

Candidates are the posts young enough to still be forecast (created within the
forecast horizon of `as_of`), under the caller's filters: with a query, the
search pipeline's best matches among them; without one, the newest posts the
window holds. Each gets its forecast and the list is ordered by `p_top`, then
by expected count; posts without a forecast number (too young, no history on
their platform) come last, so the view is never empty while history builds up.
Reading at most `MAX_CANDIDATES` bounds the cost: one recall (or one scroll)
and one neighbour search per candidate.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
from msgspec import Meta

from search.contracts import SearchRequest
from search.forecast import HORIZON_S
from search.forecasting import Forecaster
from search.models import Forecast, Post, SearchFilters
from search.pipeline import SearchPipeline
from search.store.base import Store

MAX_CANDIDATES = 100


class RisingRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # Words, "phrases" and -exclusions as in search; at least one word outside exclusions.
    query: Annotated[str, Meta(min_length=1, max_length=1000)] | None = None
    filters: SearchFilters | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_CANDIDATES)] = 20


class RisingItem(msgspec.Struct, frozen=True):
    post: Post
    forecast: Forecast


class RisingResult(msgspec.Struct, frozen=True):
    as_of: datetime
    candidates: int
    results: list[RisingItem]


def _order(item: RisingItem) -> tuple[int, float, float]:
    f = item.forecast
    return (0 if f.p_top is not None else 1, -(f.p_top or 0.0), -(f.expected or f.count or 0.0))


def rising(request: RisingRequest, store: Store, pipeline: SearchPipeline,
           forecaster: Forecaster) -> RisingResult:
    now = datetime.fromtimestamp(time.time(), UTC)
    since = now - timedelta(seconds=HORIZON_S)
    filters = request.filters or SearchFilters()
    window = msgspec.structs.replace(filters, since=max(filters.since or since, since))
    if request.query:
        found = pipeline.search(SearchRequest(query=request.query, filters=window,
                                              limit=MAX_CANDIDATES, collapse=False))
        posts = [h.post for h in found.hits]
    else:
        posts = store.scroll_window(window.since or since, now, window, MAX_CANDIDATES).posts
    forecasts = forecaster.forecast([p.id for p in posts])
    items = [RisingItem(post=p, forecast=forecasts[p.id]) for p in posts if p.id in forecasts]
    items.sort(key=_order)
    return RisingResult(as_of=now, candidates=len(posts), results=items[:request.limit])
