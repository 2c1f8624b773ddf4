"""Admission control: CPU-bound work off the event loop, bounded, refused early when full.

Searches, trends and ingests spend their time in the models (embedding,
reranking, clustering). Run as plain sync handlers they shared anyio's one pool
of 40 threads with every cheap read: 50 clients searching put a `GET
/v1/posts/{id}` behind dozens of searches on a 2-core machine (1.2 s at p50),
and the line grew without bound. Here they run on `work_threads` threads of
their own, with at most `work_queue` more waiting; one more is refused at once
with 503 and `Retry-After` (`search.errors.Overloaded`). Cheap reads keep the
default pool.

The work threads run at a lower CPU priority (`work_nice`; Linux nice is per
thread): a busy machine then gives its next time slice to the event loop and the
cheap reads first, and the models take what is left. Measured with
`lab/load.py` (NOTES.md): a read by id went from ~150 ms to ~14 ms at p50 with
two embedding threads busy on a loaded 2-core machine, searches per second
unchanged. Threads, not processes: the models are loaded once, and torch
releases the GIL in its kernels.

The counter is only touched on the event loop thread, so it needs no lock.

With a `gate` (`server.switching.SwitchGate`), each piece of work runs holding its
shared side: this is the work that uses the models, so a model change's swap, which
holds the gate alone, never lands in the middle of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from search.errors import Overloaded

if TYPE_CHECKING:
    from server.gate import SwitchGate

T = TypeVar("T")


def _lower_priority(nice: int) -> None:
    """`nice` more than the process's own: a server started under `nice 10` gets work
    threads at 15, never raised to 5 (which a privileged process could do)."""
    if nice and hasattr(os, "setpriority"):
        # Not permitted here (OSError): run at the usual priority.
        with contextlib.suppress(OSError):
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))


class Admission:
    def __init__(self, threads: int, queue: int, retry_after_s: int, nice: int = 0,
                 gate: SwitchGate | None = None) -> None:
        self.threads = threads
        self.gate = gate
        self.queue = queue
        self.retry_after_s = retry_after_s
        self.admitted = 0  # running plus waiting
        self.refused = 0
        # Threads of its own (anyio's pool is shared with the cheap reads, and a
        # thread's nice value cannot be lowered back without privileges).
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="work",
                                        initializer=_lower_priority, initargs=(nice,))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.admitted >= self.threads + self.queue:
            self.refused += 1
            raise Overloaded(self.retry_after_s)
        self.admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, partial(self._gated, fn, *args))
        finally:
            self.admitted -= 1

    def _gated(self, fn: Callable[..., T], *args: Any) -> T:
        if self.gate is None:
            return fn(*args)
        with self.gate.reading():
            return fn(*args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
