"""Admission control: CPU-bound work off the event loop, bounded, refused early when full.

Searches, trends and ingests spend their time in the models (embedding,
reranking, clustering). Run as plain sync handlers they shared anyio's one pool
of 40 threads with every cheap read: 50 clients searching put a `GET
/v1/posts/{id}` behind dozens of searches on a 2-core machine (1.2 s at p50),
and the line grew without bound. Here they run on `work_threads` threads of
their own, with at most `work_queue` more waiting; one more is refused at once
with 503 and `Retry-After` (`search.errors.Overloaded`). Cheap reads keep the
default pool, so they wait for nothing but the GIL.

The counter is only touched on the event loop thread, so it needs no lock.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from search.errors import Overloaded

T = TypeVar("T")


class Admission:
    def __init__(self, threads: int, queue: int, retry_after_s: int) -> None:
        self.threads = threads
        self.queue = queue
        self.retry_after_s = retry_after_s
        self.admitted = 0  # running plus waiting
        self.refused = 0
        self._limiter: anyio.CapacityLimiter | None = None  # needs a running event loop

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.admitted >= self.threads + self.queue:
            self.refused += 1
            raise Overloaded(self.retry_after_s)
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.threads)
        self.admitted += 1
        try:
            return await anyio.to_thread.run_sync(partial(fn, *args), limiter=self._limiter)
        finally:
            self.admitted -= 1
