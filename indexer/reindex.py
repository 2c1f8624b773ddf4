"""Rebuild the live index with another model, beside it, then switch.

The posts come from the live index itself (payloads hold every post field,
and their engagement history is copied as stored), so no source files are needed. Searches keep hitting the old index until
`Catalog.activate` swaps the pointer (Edge) or alias (server) in one step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice
from typing import Any

from indexer.run import write_batch
from indexer.upkeep import build_index
from migrations import migrate
from search.embed.base import Embedder
from search.errors import IndexNotReady
from search.history import HISTORY_FIELDS
from search.log import event
from search.store.base import new_index_name


def reindex(catalog: Any, embedder: Embedder, *, batch_size: int = 64,
            keep_old: bool = False) -> tuple[str, str, int]:
    old_name = catalog.live_name()
    if old_name is None:
        raise IndexNotReady("nothing to reindex: no live index (run `trendsearch index` first)")
    old = catalog.open(old_name)
    new_name = new_index_name(embedder.info, datetime.now(UTC))
    new = catalog.create(new_name)
    migrate(new, embedder.info, new_name)
    count = 0
    with event("reindex", source=old_name, target=new_name) as fields:
        posts = old.scroll(batch_size)
        while batch := list(islice(posts, batch_size)):
            write_batch(new, embedder, batch)
            # Engagement history is not a post field: carried over as stored, not restarted.
            held = old.payloads([p.id for p in batch], list(HISTORY_FIELDS))
            new.set_payload({pid: fields for pid, fields in held.items() if fields.get("history")})
            count += len(batch)
        new.flush()
        fields["posts"] = count
    build_index(new, reason="reindex")  # served from its HNSW index from the first query
    catalog.activate(new_name)
    if not keep_old:
        catalog.drop(old_name)
    return old_name, new_name, count
