"""Posts in and out: batch ingest, fetch by id, engagement updates, takedowns.

Ingest is all-or-nothing: every item is validated first and every bad one is
named (index and field) before anything is written, so a client fixes its
batch and resends it whole; re-sending is harmless because point ids derive
from post ids. A taken-down id (`indexer.takedowns`) fails the batch too,
with 409. Writes hold `write_lock`, so a delete and an ingest of the same id
cannot interleave.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import delete, get, patch, post
from litestar.params import Parameter

from indexer.run import write_batch
from indexer.takedowns import Takedown, Takedowns
from indexer.validate import to_post
from search.errors import FieldError, NotFound, TakenDown, ValidationFailed
from search.log import event
from search.models import Engagement, Post
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
    return IngestResponse(indexed=len(posts), ids=[p.id for p in posts])


@get("/v1/posts/{post_id:str}", sync_to_thread=True, tags=["posts"])
def get_post(post_id: str, services: Services) -> Post:
    found = services.store.get([post_id])
    if not found:
        raise NotFound(f"no post with id {post_id!r} in the index")
    return found[0]


@patch("/v1/posts/{post_id:str}/engagement", sync_to_thread=True, tags=["posts"], opt=WRITE)
def update_engagement(post_id: str, data: Engagement, services: Services) -> Post:
    """New like/repost/comment counts; the vectors are untouched. Answers the updated post.

    A patch that sets nothing (`{}`, `{"likes": null}`) is valid by its schema, so it
    is accepted and changes nothing: it answers the post as it is (404 if none).
    """
    if data == Engagement():
        return get_post.fn(post_id, services)
    with services.write_lock, event("engagement.update", id=post_id):
        if not services.store.update_engagement(post_id, data):
            raise NotFound(f"no post with id {post_id!r} in the index")
        services.store.flush()
    return services.store.get([post_id])[0]


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
