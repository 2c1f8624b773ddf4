"""The takedown list (`indexer.takedowns`): read it, and lift an entry on purpose.

Both need a write key: which posts were removed, and why, is newsroom business.
Lifting does not restore the post; it allows the id to be ingested again.
"""

from __future__ import annotations

import msgspec
from litestar import delete, get

from indexer.takedowns import Takedown, Takedowns
from search.errors import NotFound
from server.auth import WRITE


class TakedownList(msgspec.Struct):
    takedowns: list[Takedown]


class LiftResponse(msgspec.Struct):
    id: str
    lifted: Takedown


@get("/v1/takedowns", sync_to_thread=True, tags=["posts"], opt=WRITE)
def list_takedowns(takedowns: Takedowns) -> TakedownList:
    return TakedownList(takedowns=takedowns.records())


@delete("/v1/takedowns/{post_id:str}", status_code=200, sync_to_thread=True, tags=["posts"],
        opt=WRITE)
def lift_takedown(post_id: str, takedowns: Takedowns) -> LiftResponse:
    record = takedowns.lift(post_id)
    if record is None:
        raise NotFound(f"post {post_id!r} is not taken down")
    return LiftResponse(id=post_id, lifted=record)
