"""Posts in and out: batch ingest, fetch by id, engagement updates (one or bulk), takedowns.

Ingest is all-or-nothing: every item is validated first and every bad one is
named (index and field) before anything is written, so a client fixes its
batch and resends it whole; re-sending is harmless because point ids derive
from post ids. A taken-down id (`indexer.takedowns`) fails the batch too,
with 409. Writes hold `write_lock`, so a delete and an ingest of the same id
cannot interleave.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec
from litestar import delete, get, patch, post
from litestar.params import Parameter
from msgspec import Meta

from indexer.run import write_batch
from indexer.takedowns import Takedown, Takedowns
from indexer.validate import to_post
from search.engagement import apply_updates
from search.errors import FieldError, NotFound, TakenDown, ValidationFailed
from search.log import event
from search.models import Engagement, EngagementItem, Post, PostView
from server.admission import Admission
from server.auth import WRITE
from server.body import decode_json
from server.services import Services


class IngestResponse(msgspec.Struct):
    indexed: int
    ids: list[str]


def parse_batch(body: bytes, max_items: int) -> list[Post]:
    doc: Any = decode_json(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("posts"), list):
        raise ValidationFailed([FieldError("posts", 'the body must be {"posts": [post, ...]}')])
    extra = sorted(set(doc) - {"posts"})
    if extra:
        raise ValidationFailed([FieldError(extra[0], "unknown field (the body holds only `posts`)")])
    items = doc["posts"]
    if not items:
        raise ValidationFailed([FieldError("posts", "empty: send at least one post")])
    if len(items) > max_items:
        raise ValidationFailed([FieldError("posts", f"{len(items)} posts; at most {max_items} per request")])
    posts: list[Post] = []
    errors: list[FieldError] = []
    first: dict[str, int] = {}  # one id twice would store one post and answer `indexed: 2`
    for index, item in enumerate(items):
        try:
            post = to_post(item, index=index)
        except FieldError as error:
            errors.append(error)
            continue
        if post.id in first:
            errors.append(FieldError("id", f"the id of item {first[post.id]} again; send each post "
                                           f"once per batch", index=index))
            continue
        first[post.id] = index
        posts.append(post)
    if errors:
        raise ValidationFailed(errors)
    return posts


class DeleteResponse(msgspec.Struct):
    id: str
    removed: bool
    takedown: Takedown


@post("/v1/posts", status_code=200, tags=["posts"], opt=WRITE)
async def ingest(body: bytes, services: Services, takedowns: Takedowns,
                 work: Admission) -> IngestResponse:
    """Embedding is CPU-bound: a worker thread (`server.admission`), 503 when all are taken."""
    return await work.run(run_ingest, body, services, takedowns)


def run_ingest(body: bytes, services: Services, takedowns: Takedowns) -> IngestResponse:
    posts = parse_batch(body, services.settings.max_ingest_batch)
    with services.write_lock, event("ingest", posts=len(posts)):
        refused = [takedowns.refusal(p.id, index=i) for i, p in enumerate(posts) if p.id in takedowns]
        if refused:
            raise TakenDown(refused)
        write_batch(services.store, services.models.embedder, posts)
        services.store.flush()
    if services.upkeep is not None:
        services.upkeep.after_write(len(posts))
    return IngestResponse(indexed=len(posts), ids=[p.id for p in posts])


@get("/v1/posts/{post_id:str}", sync_to_thread=True, tags=["posts"])
def get_post(post_id: str, services: Services) -> PostView:
    """The post, its engagement history and its forecast (`search.forecasting`)."""
    return post_view(post_id, services)


def post_view(post_id: str, services: Services) -> PostView:
    found = services.store.get([post_id])
    if not found:
        raise NotFound(f"no post with id {post_id!r} in the index")
    held = services.store.payloads([post_id], ["history"]).get(post_id, {})
    forecast = services.forecasts().forecast([post_id]).get(post_id)
    return PostView(**msgspec.structs.asdict(found[0]), history=held.get("history") or [],
                    forecast=forecast)


@patch("/v1/posts/{post_id:str}/engagement", sync_to_thread=True, tags=["posts"], opt=WRITE)
def update_engagement(post_id: str, data: Engagement, services: Services) -> PostView:
    """New like/repost/comment counts, kept as a snapshot at `at` (default now) in the
    post's engagement history; the vectors are untouched. Answers the updated post.

    A patch that sets no count (`{}`, `{"likes": null}`) is valid by its schema, so it
    is accepted and changes nothing: it answers the post as it is (404 if none).
    """
    with services.write_lock, event("engagement.update", id=post_id):
        if apply_updates(services.store, [(post_id, data)], time.time(), indexed=False):
            raise NotFound(f"no post with id {post_id!r} in the index")
        services.store.flush()
    return post_view(post_id, services)


class BulkEngagement(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # At most `max_ingest_batch` (checked below; the OpenAPI document states the setting).
    updates: Annotated[list[EngagementItem], Meta(min_length=1)]


class BulkEngagementResponse(msgspec.Struct):
    updated: int
    missing: list[str]


@patch("/v1/engagement", sync_to_thread=True, tags=["posts"], opt=WRITE)
def update_engagement_bulk(data: BulkEngagement, services: Services) -> BulkEngagementResponse:
    """Counts for many posts at once (a feed's batch), each kept as a snapshot.

    Checked whole before anything is written: a snapshot before its post or in the
    future fails the batch, naming the item and `at`. Ids the index does not hold are
    listed in `missing`, not refused (counts often arrive before their posts).
    """
    items = data.updates
    if not items:
        raise ValidationFailed([FieldError("updates", "empty: send at least one update")])
    limit = services.settings.max_ingest_batch
    if len(items) > limit:
        raise ValidationFailed([FieldError("updates", f"{len(items)} updates; at most {limit} per request")])
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.id in first:
            raise ValidationFailed([FieldError("id", f"the id of item {first[item.id]} again; send "
                                                     f"each post once per batch", index=index)])
        first[item.id] = index
    with services.write_lock, event("engagement.bulk", updates=len(items)) as fields:
        missing = apply_updates(services.store, [(i.id, i.engagement()) for i in items], time.time())
        services.store.flush()
        fields["missing"] = len(missing)
    return BulkEngagementResponse(updated=len(items) - len(missing), missing=missing)


@delete("/v1/posts/{post_id:str}", status_code=200, sync_to_thread=True, tags=["posts"], opt=WRITE)
def delete_post(post_id: str, services: Services, takedowns: Takedowns,
                reason: Annotated[str | None, Parameter(
                    query="reason", max_length=500,
                    description="Why (kept in the takedown log)")] = None) -> DeleteResponse:
    """Take a post down: it leaves the index and no later ingest brings it back.

    The takedown is recorded before the point is deleted (a crash in between
    is repaired at the next start). Deleting it again answers 200 with
    `removed: false`; an id that was never indexed nor taken down is 404.
    """
    with services.write_lock, event("post.delete", id=post_id) as fields:
        known = bool(services.store.get([post_id])) or post_id in takedowns
        if not known:
            raise NotFound(f"no post with id {post_id!r} in the index")
        record, _ = takedowns.add(post_id, reason)
        removed = services.store.delete([post_id]) > 0
        services.store.flush()
        # Cached trend answers may quote the post; a takedown must not wait for them to expire.
        services.trends = None
        fields["removed"] = removed
    return DeleteResponse(id=post_id, removed=removed, takedown=record)
