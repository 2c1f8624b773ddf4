"""Posts in and out: batch ingest, fetch by id.

Ingest is all-or-nothing: every item is validated first and every bad one is
named (index and field) before anything is written, so a client fixes its
batch and resends it whole; re-sending is harmless because point ids derive
from post ids.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, post

from indexer.run import write_batch
from indexer.validate import to_post
from search.errors import FieldError, NotFound, ValidationFailed
from search.log import event
from search.models import Post
from server.services import Services


class IngestResponse(msgspec.Struct):
    indexed: int
    ids: list[str]


def parse_batch(body: bytes, max_items: int) -> list[Post]:
    try:
        doc: Any = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ValidationFailed([FieldError("(body)", f"not valid JSON: {exc}")]) from None
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
    for index, item in enumerate(items):
        try:
            posts.append(to_post(item, index=index))
        except FieldError as error:
            errors.append(error)
    if errors:
        raise ValidationFailed(errors)
    return posts


@post("/v1/posts", status_code=200, sync_to_thread=True, tags=["posts"])
def ingest(body: bytes, services: Services) -> IngestResponse:
    posts = parse_batch(body, services.settings.max_ingest_batch)
    with services.write_lock, event("ingest", posts=len(posts)):
        write_batch(services.store, services.models.embedder, posts)
        services.store.flush()
    return IngestResponse(indexed=len(posts), ids=[p.id for p in posts])


@get("/v1/posts/{post_id:str}", sync_to_thread=True, tags=["posts"])
def get_post(post_id: str, services: Services) -> Post:
    found = services.store.get([post_id])
    if not found:
        raise NotFound(f"no post with id {post_id!r} in the index")
    return found[0]
