"""The embedded catalog: a data folder of Qdrant Edge indexes, one of them live.

Edge has no collections or aliases: one shard per folder. So a catalog is a
folder of index folders plus a `LIVE` pointer file replaced with `os.replace`
(atomic on POSIX): readers see the old index or the new one, never a mix.

One process owns the data folder. Edge itself refuses a second opener with a
raw `WouldBlock` from its WAL; we take an `flock` first so the second process
gets a sentence that says who holds it and what to do instead.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import Any

from search.contracts import ModelInfo
from search.errors import IndexNotReady, StoreLocked
from search.store.base import model_slug
from search.store.edge import EdgeStore
from search.store.edge_layout import EdgeLayout

__all__ = ["EdgeCatalog"]


class EdgeCatalog:
    """A data folder of Edge indexes, one of them live, owned by one process."""

    def __init__(self, data_dir: Path, layout: EdgeLayout | None = None) -> None:
        self._root = data_dir
        self.layout = layout or EdgeLayout()
        self._root.mkdir(parents=True, exist_ok=True)
        (self._root / "indexes").mkdir(exist_ok=True)
        self._lock_file = open(self._root / ".lock", "a+")  # noqa: SIM115 - held for our lifetime
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip() or "unknown"
            self._lock_file.close()
            raise StoreLocked(
                f"the embedded store at {data_dir} is in use by another trendsearch process "
                f"(pid {holder}); stop it first, or go through it: send posts to its API "
                f"(POST /v1/posts), reindex with `trendsearch reindex --server URL` "
                f"(e.g. http://127.0.0.1:8000); or run a Qdrant server and set QDRANT_URL"
            ) from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(str(os.getpid()))
        self._lock_file.flush()
        self._open: dict[str, EdgeStore] = {}

    @property
    def location(self) -> str:
        return str(self._root)

    def live_name(self) -> str | None:
        pointer = self._root / "LIVE"
        return pointer.read_text().strip() or None if pointer.exists() else None

    def names(self) -> list[str]:
        return sorted(p.name for p in (self._root / "indexes").iterdir() if p.is_dir())

    def open(self, name: str) -> EdgeStore:
        if name not in self._open:
            folder = self._root / "indexes" / name
            if not folder.exists():
                raise IndexNotReady(f"no index named {name} under {self._root}")
            self._open[name] = EdgeStore(folder, self.layout)
        return self._open[name]

    def create(self, name: str) -> EdgeStore:
        folder = self._root / "indexes" / name
        folder.mkdir(parents=True, exist_ok=False)
        self._open[name] = EdgeStore(folder, self.layout)
        return self._open[name]

    def serving(self, name: str, model_id: str | None = None) -> EdgeStore:
        """The index a serving process holds (`ServingStore` wraps it): the folder's store
        itself; unlike the server's alias, a switch is made by that wrapper."""
        return self.open(name)

    def activate(self, name: str) -> None:
        if name not in self.names():
            raise IndexNotReady(f"cannot activate {name}: no such index under {self._root}")
        tmp = self._root / "LIVE.tmp"
        tmp.write_text(name)
        os.replace(tmp, self._root / "LIVE")

    def watch_index(self, model: ModelInfo) -> Any:
        """The watches' query vectors (`search.store.watches_edge`), under this data folder."""
        from search.store.watches_edge import EdgeWatchIndex

        return EdgeWatchIndex(self._root / "watches" / model_slug(model.model_id), model)

    def drop(self, name: str) -> None:
        if name == self.live_name():
            raise IndexNotReady(f"refusing to drop the live index {name}")
        store = self._open.pop(name, None)
        if store is not None:
            store.close()
        shutil.rmtree(self._root / "indexes" / name, ignore_errors=True)

    def release(self, name: str) -> None:
        """Close the shard of a kept, no longer live index (a reindex with `keep_old`):
        its memory and files are this process's until then."""
        if name == self.live_name():
            raise IndexNotReady(f"refusing to release the live index {name}")
        store = self._open.pop(name, None)
        if store is not None:
            store.flush()
            store.close()

    def close(self) -> None:
        for store in self._open.values():
            store.flush()
            store.close()
        self._open.clear()
        if not self._lock_file.closed:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
