"""Indexes for the has-image filter (`image_count`) and for ordering by time (`latest`, trends
scroll by `created_ts`): both fields are derived at write time, see
`search.store.payload.to_payload`, and exist on every point ever written."""

from search.contracts import ModelInfo
from search.store.base import Store

ID = "0002_image_and_time"


def upgrade(store: Store, model: ModelInfo) -> None:
    store.create_payload_index("image_count", "integer")
    store.create_payload_index("created_ts", "float")
