"""`POST /v1/search`: parse, call the pipeline, shape the response.

`copies` is on every result (1 for a text seen once), so a client never has to
ask whether it is there; `duplicate_ids`, `earliest_id` and `earliest_created_at`
appear only when there are copies.

`highlights` is on every result too: `[start, end)` spans of `text` that matched
(`search.highlight`), in code points; JavaScript counts UTF-16 units, so emoji
and other astral characters need converting there. `next_cursor` continues the
same search (`search.cursor`). `total` counts every post that matches
(`search.counting`); with `facets`, `match_facets` and `histogram` count them
per platform, language and hour or day, and the older `facets` counts the
recall pool (`search.facets`).
"""

from __future__ import annotations

import time
from datetime import datetime

import msgspec
from litestar import post

from search.contracts import SearchRequest
from search.forecasting import Forecaster
from search.highlight import highlight_spans
from search.models import Explain, Facets, Forecast, Histogram, Hit, MatchFacets, Mode, ParsedQuery
from search.pipeline import SearchPipeline
from server.admission import Admission
from server.services import Services


class ResultItem(msgspec.Struct, omit_defaults=True):
    id: str
    text: str
    score: float
    platform: str
    created_at: datetime
    likes: int
    reposts: int
    comments: int
    copies: int
    highlights: list[tuple[int, int]]
    author: str | None = None
    lang: str | None = None
    image_urls: list[str] = []
    url: str | None = None
    duplicate_ids: list[str] = []
    earliest_id: str | None = None
    earliest_created_at: datetime | None = None
    explain: Explain | None = None
    # With `explain`: the post's engagement forecast (`search.forecast`).
    forecast: Forecast | None = None


class SearchResponse(msgspec.Struct):
    query: str
    parsed: ParsedQuery
    mode: Mode
    as_of: datetime
    offset: int
    limit: int
    # Every post that matches (`search.matching`), under the filters; a lower bound
    # when `total_exact` is false (more posts match by meaning than counting reads).
    total: int
    total_exact: bool
    # Deprecated: how many recall candidates this page was ordered from (`latest`: posts
    # read for the page). Not the size of anything a reader should quote; see `total`.
    total_candidates: int
    took_ms: float
    timings_ms: dict[str, float]
    results: list[ResultItem]
    next_cursor: str | None
    # Deprecated with `total_candidates`: counts of the recall candidates (in `latest`, of
    # every match); `match_facets` and `histogram` count every match.
    facets: Facets | None = None
    match_facets: MatchFacets | None = None
    histogram: Histogram | None = None


def result_item(hit: Hit, explain: bool, query: ParsedQuery,
                forecast: Forecast | None = None) -> ResultItem:
    p = hit.post
    return ResultItem(id=p.id, text=p.text, score=hit.score, platform=p.platform,
                      created_at=p.created_at, likes=p.likes, reposts=p.reposts,
                      comments=p.comments, copies=hit.copies,
                      highlights=highlight_spans(p.text, query), author=p.author, lang=p.lang,
                      image_urls=list(p.image_urls), url=p.url,
                      duplicate_ids=list(hit.duplicate_ids),
                      earliest_id=hit.earliest.id if hit.earliest else None,
                      earliest_created_at=hit.earliest.created_at if hit.earliest else None,
                      explain=hit.explain if explain else None, forecast=forecast)


@post("/v1/search", status_code=200, tags=["search"])
async def search(data: SearchRequest, work: Admission, services: Services) -> SearchResponse:
    """Computed on a worker thread (`server.admission`); 503 when every one is taken.

    The pipeline is read there, not here: a model change swaps it while no work runs
    (`server.switching`), so the one read in the work is the current model's."""
    return await work.run(_search_now, data, services)


def _search_now(data: SearchRequest, services: Services) -> SearchResponse:
    return run_search(data, services.pipeline, services.forecasts())


def run_search(data: SearchRequest, pipeline: SearchPipeline,
               forecaster: Forecaster | None = None) -> SearchResponse:
    started = time.perf_counter()
    result = pipeline.search(data)
    forecasts = (forecaster.forecast([h.post.id for h in result.hits])
                 if forecaster is not None and data.explain else {})
    return SearchResponse(
        query=data.query, parsed=result.query, mode=data.mode, as_of=result.as_of,
        offset=result.offset, limit=data.limit,
        total=result.total, total_exact=result.total_exact,
        total_candidates=result.total_candidates,
        took_ms=round((time.perf_counter() - started) * 1000, 2), timings_ms=result.timings_ms,
        results=[result_item(h, data.explain, result.query, forecasts.get(h.post.id))
                 for h in result.hits],
        next_cursor=result.next_cursor, facets=result.facets,
        match_facets=result.match_facets, histogram=result.histogram,
    )
