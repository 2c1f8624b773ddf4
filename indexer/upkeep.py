"""Keeping the dense index built as posts arrive: the embedded store's optimizer runs.

A Qdrant server indexes segments in the background by itself. Qdrant Edge
indexes only when `optimize` is called, so without this a growing embedded
index is searched by brute force forever (7 ms per dense query at 100k posts,
~70 ms at 1M). Two moments call it:

- right after a bulk write that ends (`trendsearch index`, the demo's sample,
  `reindex` before its switch): `build_index`, in the foreground, with the
  time it took in the log and on the console;
- from the API's write path once `every` posts have been written since the last
  build: `IndexUpkeep` starts one background build at a time. qdrant-edge-py 0.9
  holds the GIL while building, so requests in this process wait for it (a
  segment of ~13k posts: ~2 s on these 2 cores; decision 0031): indexing in
  smaller steps keeps each wait short.
"""

from __future__ import annotations

import threading
from typing import Any

from search.contracts import IndexBuild
from search.log import event, log

__all__ = ["IndexUpkeep", "build_index"]


def build_index(store: Any, reason: str) -> IndexBuild | None:
    """Index what has grown unindexed in `store` now; None on a server (it does it itself)."""
    with event("index.build", reason=reason) as fields:
        built = store.optimize()
        if built is not None:
            fields.update(changed=built.changed, segments=built.segments, points=built.points)
    return built  # type: ignore[no-any-return]


class IndexUpkeep:
    """Counts posts written through the API and builds the index every `every` of them,
    one build at a time, off the request's thread. `every=0` turns it off."""

    def __init__(self, store: Any, every: int) -> None:
        self._store = store
        self._every = every
        self._written = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False
        # Set while a reindex rebuilds the live index (`server.reindexing`): a build of
        # the index being replaced is wasted work holding the GIL; the rebuild builds its own.
        self.paused = False
        self.builds = 0

    def after_write(self, posts: int) -> bool:
        """Record `posts` written; True when this call started a build."""
        if self._every <= 0:
            return False
        with self._lock:
            if self.paused:  # a rebuild copies the index: its writes are the new one's
                return False
            self._written += posts
            if self._stopped or self._written < self._every or self.running:
                return False
            self._written = 0
            self._thread = threading.Thread(target=self._build, name="index-build", daemon=True)
            self._thread.start()
            return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _build(self) -> None:
        try:
            build_index(self._store, reason="writes")
        except Exception as exc:  # noqa: BLE001 - a failed build must not kill the API
            log("index.build.failed", error=type(exc).__name__, detail=str(exc)[:500])
            with self._lock:
                self._written = self._every  # the next write tries again
            return
        self.builds += 1

    def close(self) -> None:
        """No build starts after this; the running one ends first (before the shard closes)."""
        with self._lock:
            self._stopped = True
        self.wait()

    def wait(self, timeout: float | None = None) -> None:
        """Until the running build ends (shutdown, tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
