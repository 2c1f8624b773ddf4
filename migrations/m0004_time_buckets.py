"""`created_day` and `created_hour`: whole UTC days and hours since the epoch, indexed as
integers, so Qdrant's `facet` counts every match per day or hour in one call (the
histogram of `search.counting`).

New points get both from `search.store.payload.to_payload`; this step indexes them
and backfills points written before it existed, from their stored `created_at`,
so no re-embedding is needed. Safe to re-run: a time's buckets never change.
"""

from itertools import islice

from search.contracts import ModelInfo
from search.store.base import Store
from search.store.payload import time_buckets

ID = "0004_time_buckets"
BATCH = 256


def upgrade(store: Store, model: ModelInfo) -> None:
    store.create_payload_index("created_day", "integer")
    store.create_payload_index("created_hour", "integer")
    posts = store.scroll(BATCH)
    while batch := list(islice(posts, BATCH)):
        store.set_payload({post.id: time_buckets(post.created_at) for post in batch})
