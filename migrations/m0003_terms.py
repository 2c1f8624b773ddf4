"""The `terms` keyword field, for exact phrases and -exclusions in queries.

New points get `terms` from `search.store.payload.to_payload`; this step indexes
the field and backfills it on points written before it existed, from their
stored text, so no re-embedding is needed. Safe to re-run: the terms of a text
are always the same.
"""

from itertools import islice

from search.contracts import ModelInfo
from search.query import post_terms
from search.store.base import Store

ID = "0003_terms"
BATCH = 256


def upgrade(store: Store, model: ModelInfo) -> None:
    store.create_payload_index("terms", "keyword")
    posts = store.scroll(BATCH)
    while batch := list(islice(posts, BATCH)):
        store.set_payload({post.id: {"terms": post_terms(post.text)} for post in batch})
