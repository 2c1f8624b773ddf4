"""`POST /v1/rising`: the posts most likely to take off now (`search.rising`)."""

from __future__ import annotations

from litestar import post

from search.rising import RisingRequest, RisingResult, rising
from server.admission import Admission
from server.services import Services


@post("/v1/rising", status_code=200, tags=["search"])
async def rising_posts(data: RisingRequest, services: Services, work: Admission) -> RisingResult:
    """Filterable like search; a worker thread (`server.admission`), 503 when all are taken."""
    return await work.run(_rising_now, data, services)


def _rising_now(data: RisingRequest, services: Services) -> RisingResult:
    # Read in the work, not on the loop: a model change swaps the pipeline between works.
    return rising(data, services.store, services.pipeline, services.forecasts())
