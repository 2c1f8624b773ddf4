"""Takedown repair wherever an index is opened, not only where the API starts.

`DELETE /v1/posts/{id}` records the takedown, then deletes the point; a crash in
between leaves the post in the index. Until it is deleted, `reindex` would copy
it into the next index and `trendsearch search` would show it. So the catalog
every front door opens (`server.profiles.open_catalog`) is wrapped: the first
time each index is opened, recorded takedowns still in it are deleted.
"""

from __future__ import annotations

from typing import Any

from indexer.takedowns import Takedowns
from search.log import log
from search.store.base import Store


def repair_takedowns(store: Store, takedowns: Takedowns) -> int:
    """Delete recorded takedowns still in `store`; how many were there."""
    ids = [t.id for t in takedowns.records()]
    removed = store.delete(ids) if ids else 0
    if removed:
        store.flush()
        log("takedowns.repaired", index=store.location, removed=removed)
    return removed


class RepairingCatalog:
    """A catalog (Edge or server) whose `open` repairs takedowns once per index."""

    def __init__(self, catalog: Any, takedowns: Takedowns) -> None:
        self.inner = catalog
        self.takedowns = takedowns
        self._repaired: set[str] = set()

    def open(self, name: str) -> Store:
        store: Store = self.inner.open(name)
        if name not in self._repaired:
            repair_takedowns(store, self.takedowns)
            self._repaired.add(name)
        return store

    def __getattr__(self, attr: str) -> Any:
        # Everything else (create, activate, drop, names, live_name, close, location)
        # is the catalog's own.
        return getattr(self.inner, attr)
