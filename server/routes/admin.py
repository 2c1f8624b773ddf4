"""`/v1/admin/reindex`: rebuild the live index inside the running API (`server.reindexing`).

A write key is needed: a rebuild re-embeds every post, a cost only a writer may
start. The answer to both calls is the job's status; `POST` answers 202 at once
and the job runs in the background while searches and writes go on.
"""

from __future__ import annotations

from litestar import get, post

from server.auth import WRITE
from server.reindexing import ReindexRequest, ReindexStatus
from server.services import Services


@post("/v1/admin/reindex", status_code=202, sync_to_thread=True, tags=["admin"], opt=WRITE)
def start_reindex(data: ReindexRequest, services: Services) -> ReindexStatus:
    """Start a rebuild, with this process's model or another `profile`'s (a model change:
    the API switches to it with the index); 409 while one runs.

    In a worker thread: starting reads the live index's name, which on a Qdrant
    server is an alias lookup (with retries) that must not stall the event loop."""
    return services.reindexing().start(data.batch_size, data.keep_old, data.profile)


@get("/v1/admin/reindex", sync_to_thread=False, tags=["admin"], opt=WRITE)
def reindex_status(services: Services) -> ReindexStatus:
    """The running or last rebuild: state, stage, posts, source and target index."""
    return services.reindexing().status
