"""The collection itself: named `dense` and `sparse` vectors sized by the model,
and the payload indexes every filter and the time decay lean on."""

from search.contracts import ModelInfo
from search.store.base import Store

ID = "0001_initial"


def upgrade(store: Store, model: ModelInfo) -> None:
    store.create_collection(model)
    for key in ("platform", "lang", "author"):
        store.create_payload_index(key, "keyword")
    store.create_payload_index("created_at", "datetime")
    for key in ("likes", "reposts", "comments"):
        store.create_payload_index(key, "integer")
