"""The watch scheduler: the periodic pass and webhook deliveries, one process per index.

Exactly one process runs it for an index at a time: each tick it takes or
renews a lease in the watches database (`Ledger.acquire`, a row with a holder
and an expiry, written in an IMMEDIATE transaction). A second `serve` or
`trendsearch watch` on the same index waits, idle, and takes over within
`LEASE_S` of the holder stopping or dying. A restarted scheduler resumes from
what the database holds: open episodes stay open, owed deliveries are sent,
nothing fires twice (`search.watches.ledger`).
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from search.log import log
from search.watches.ledger import Ledger
from search.watches.service import WatchService
from server.gate import SwitchGate
from server.watches.delivery import Deliverer, render

# How often the loop wakes: deliveries go out within this, the lease is renewed.
TICK_S = 5.0
# A holder that stops renewing loses the lease after this.
LEASE_S = 60.0


class Scheduler:
    def __init__(self, service: WatchService, deliverer: Deliverer, lease_name: str,
                 pass_minutes: int, clock: Callable[[], datetime] | None = None,
                 gate: SwitchGate | None = None) -> None:
        self.service = service
        self.gate = gate or SwitchGate()
        self.deliverer = deliverer
        self.ledger: Ledger = service.ledger
        self.lease_name = lease_name
        self.every = timedelta(minutes=pass_minutes)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._clock = clock or (lambda: datetime.now(UTC))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_pass: datetime | None = None
        self.passes = 0

    def tick(self) -> bool:
        """One wake-up: renew the lease; if held, run the pass when due and deliver.
        Returns whether this process holds the lease."""
        now = self._clock()
        if not self.ledger.acquire(self.lease_name, self.holder, LEASE_S):
            return False
        if self._next_pass is None or now >= self._next_pass:
            # Passes run on the clock's grid (every 10 minutes: :00, :10, ...), so a
            # restart does not shift them.
            step = self.every.total_seconds()
            self._next_pass = datetime.fromtimestamp(
                (now.timestamp() // step + 1) * step, UTC)
            self.run_pass(now)
        self.deliverer.deliver_due()
        return True

    def run_pass(self, now: datetime) -> None:
        try:
            with self.gate.reading():  # a model change waits: one model per pass
                opened = self.service.run_pass(now, render=render)
            self.passes += 1
            log("watch.pass", at=now.isoformat(), opened=len(opened))
        except Exception as exc:  # one failed pass must not stop the scheduler
            log("watch.pass_failed", error=type(exc).__name__, detail=str(exc)[:500])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="watch-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:
                log("watch.scheduler_error", error=type(exc).__name__, detail=str(exc)[:500])
            self._stop.wait(TICK_S)

    def run_forever(self) -> None:
        """`trendsearch watch`: the loop in the foreground until interrupted."""
        try:
            self._loop()
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self.ledger.release(self.lease_name, self.holder)
