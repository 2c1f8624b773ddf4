"""Engagement history (`search.history`): index `history_ts` and `history_age`, and give
each post stored before history existed one snapshot of the counts it holds.

That snapshot is stamped at the migration, not at the post's unknown past, so it
never claims a count at an age the post was not seen at. Safe to re-run: a post
that already has a history is left alone. Nothing is re-embedded.
"""

import time
from itertools import islice

from search.contracts import ModelInfo
from search.history import ingest_fields
from search.store.base import Store

ID = "0005_history"
BATCH = 256


def upgrade(store: Store, model: ModelInfo) -> None:
    store.create_payload_index("history_ts", "float")
    store.create_payload_index("history_age", "float")
    now = time.time()
    posts = store.scroll(BATCH)
    while batch := list(islice(posts, BATCH)):
        held = store.payloads([p.id for p in batch], ["history", "created_ts"])
        store.set_payload({
            post.id: ingest_fields(None, (post.likes, post.reposts, post.comments),
                                   float(held[post.id]["created_ts"]), now)
            for post in batch if post.id in held and not held[post.id].get("history")})
