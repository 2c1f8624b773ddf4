"""`POST /v1/search`: parse, call the pipeline, shape the response.

`copies` is on every result (1 for a text seen once), so a client never has to
ask whether it is there; `duplicate_ids`, `earliest_id` and `earliest_created_at`
appear only when there are copies.

`highlights` is on every result too: `[start, end)` spans of `text` that matched
(`search.highlight`), in code points; JavaScript counts UTF-16 units, so emoji
and other astral characters need converting there. `next_cursor` continues the
same search (`search.cursor`); `facets` counts results per value when asked
(`search.facets`).
"""

from __future__ import annotations

import time
from datetime import datetime

import msgspec
from litestar import post

from search.contracts import SearchRequest
from search.highlight import highlight_spans
from search.models import Explain, Facets, Hit, Mode, ParsedQuery
from search.pipeline import SearchPipeline
from server.admission import Admission


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


class SearchResponse(msgspec.Struct):
    query: str
    parsed: ParsedQuery
    mode: Mode
    as_of: datetime
    offset: int
    limit: int
    total_candidates: int
    took_ms: float
    timings_ms: dict[str, float]
    results: list[ResultItem]
    next_cursor: str | None
    facets: Facets | None = None


def result_item(hit: Hit, explain: bool, query: ParsedQuery) -> ResultItem:
    p = hit.post
    return ResultItem(id=p.id, text=p.text, score=hit.score, platform=p.platform,
                      created_at=p.created_at, likes=p.likes, reposts=p.reposts,
                      comments=p.comments, copies=hit.copies,
                      highlights=highlight_spans(p.text, query), author=p.author, lang=p.lang,
                      image_urls=list(p.image_urls), url=p.url,
                      duplicate_ids=list(hit.duplicate_ids),
                      earliest_id=hit.earliest.id if hit.earliest else None,
                      earliest_created_at=hit.earliest.created_at if hit.earliest else None,
                      explain=hit.explain if explain else None)


@post("/v1/search", status_code=200, tags=["search"])
async def search(data: SearchRequest, pipeline: SearchPipeline, work: Admission) -> SearchResponse:
    """Computed on a worker thread (`server.admission`); 503 when every one is taken."""
    return await work.run(run_search, data, pipeline)


def run_search(data: SearchRequest, pipeline: SearchPipeline) -> SearchResponse:
    started = time.perf_counter()
    result = pipeline.search(data)
    return SearchResponse(
        query=data.query, parsed=result.query, mode=data.mode, as_of=result.as_of,
        offset=result.offset, limit=data.limit,
        total_candidates=result.total_candidates,
        took_ms=round((time.perf_counter() - started) * 1000, 2), timings_ms=result.timings_ms,
        results=[result_item(h, data.explain, result.query) for h in result.hits],
        next_cursor=result.next_cursor, facets=result.facets,
    )
