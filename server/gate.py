"""The gate a model change closes: no request that uses the model runs across the swap.

Why a gate and not per-request pinning: a request touches the model and the index
several times (embed, recall, rerank, more reads), through objects built once at
start-up. Pinning each of them to a generation would thread a handle through every
route and store call, and on a Qdrant server the old handle reads through the alias,
which moves at the switch anyway. Instead the requests that use the model (the
`server.admission` work: searches, rising, trends, ingests; the watch writes and the
watches' pass) each hold the gate's shared side for their whole run, and the swap
(`server.switching`) holds it alone: it waits for those in
flight to end and holds new ones back for the moment of the swap (the last replay,
the switch, a few assignments: milliseconds to one batch's embedding). A rebuild
with the process's own model changes no model and never closes the gate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["DRAIN_PAUSE_S", "DRAIN_TRIES", "DRAIN_WAIT_S", "DrainTimeout", "SwitchGate"]

# How long a swap waits for the requests in flight, holding new ones back meanwhile. A
# search or an ingest batch takes milliseconds to a second; a trends pass or a faceted
# count over tens of thousands of matches, seconds. Past this the swap is abandoned
# (the old model serves on) rather than hold every new request for as long as the
# slowest one runs.
DRAIN_WAIT_S = 15.0
# ... and tries that many times, letting the held-back requests through for
# `DRAIN_PAUSE_S` between tries, before it gives the change up: a rebuild that took an
# hour is not thrown away for one slow trends pass.
DRAIN_TRIES = 4
DRAIN_PAUSE_S = 2.0


class DrainTimeout(RuntimeError):
    """Requests in flight outlasted the swap's wait; nothing was switched."""


class SwitchGate:
    """A readers-writer gate that prefers the writer: once a swap waits, new readers wait
    behind it (else a steady stream of searches would hold it off for good)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._closed = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._closed:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._cond.notify_all()

    @contextmanager
    def closed(self, timeout: float | None = None) -> Iterator[None]:
        """Alone: no reader runs until this block ends. `DrainTimeout` when the readers in
        flight have not all ended within `timeout` seconds (None: wait for good; a model
        change waits `DRAIN_WAIT_S`); the gate is open again then, and the block never ran."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._closed:
                self._cond.wait()
            self._closed = True
            try:  # an interrupt, or the wait running out, must not leave the gate shut
                while self._readers:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise DrainTimeout(
                            f"{self._readers} request(s) still running after {timeout:g} s; "
                            f"nothing was switched, the running model serves on (retry when "
                            f"the long requests are done)")
                    self._cond.wait(left)
            except BaseException:
                self._closed = False
                self._cond.notify_all()
                raise
        try:
            yield
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()

    @property
    def shut(self) -> bool:
        """Whether a swap holds the gate or waits for the readers in flight."""
        return self._closed
