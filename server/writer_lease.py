"""The serving API's writer lease on a Qdrant server: claimed at start, renewed on a
heartbeat, dropped at a clean shutdown.

Why: the standalone `trendsearch reindex` (another process) cannot carry over the writes
an API makes during its copy; only the API's own rebuild journals them (0032). The lease
(`search.store.writer_leases`) is how the standalone rebuild learns an API is writing
through the alias, so it can refuse instead of losing those writes silently.

Why a thread of its own and not the index upkeep or the watches' scheduler: the upkeep
runs only after writes (and is off on a server), the scheduler may run in another process
or not at all; the heartbeat must tick while the API is idle. A renewal that fails
(Qdrant unreachable for a moment) is logged and retried at the next tick: the lease goes
stale after `FRESH_S`, which is what a crashed API looks like too. On Edge there is
nothing to keep: the data folder's lock already keeps a second process out.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import msgspec

from search.log import log
from search.store.writer_leases import Lease, WriterLeases

__all__ = ["FRESH_S", "PRUNE_S", "RENEW_S", "WriterLeaseKeeper", "advertised_url",
           "fresh_and_stale", "keep_writer_lease"]

# Seconds between renewals: a write of one point, so cheap; short enough that a crashed
# API stops blocking a rebuild within a couple of minutes.
RENEW_S = 30.0
# A lease renewed within this is fresh (its API is taken to be alive): two missed renewals
# and some clock skew between hosts are tolerated before it counts as stale.
FRESH_S = 2.5 * RENEW_S
# A lease not renewed for this long is dropped by the next API that starts: crashed APIs
# leave theirs behind, and the standalone rebuild names every stale one it reads.
PRUNE_S = 24 * 3600.0


class WriterLeaseKeeper:
    """This process's lease: `start` writes it and starts the heartbeat, `stop` drops it."""

    def __init__(self, leases: WriterLeases, url: str | None = None,
                 every_s: float = RENEW_S) -> None:
        self.leases = leases
        self.lease = Lease.mine(url)
        self.every_s = every_s
        self._stop = threading.Event()
        self._renewing = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> WriterLeaseKeeper:
        self.leases.write(self.lease)  # fails the start: the API must not write unseen
        try:  # housekeeping: a failure here must not stop the API
            for old in self.leases.read():
                if old.age_s() > PRUNE_S:
                    self.leases.drop(old.lease_id)
        except Exception as exc:  # noqa: BLE001 - logged; the next start prunes
            log("writer_lease.prune_failed", error=f"{type(exc).__name__}: {str(exc)[:300]}")
        self._thread = threading.Thread(target=self._run, name="writer-lease", daemon=True)
        self._thread.start()
        log("writer_lease.claimed", collection=self.leases.collection, lease=self.lease.lease_id,
            every_s=self.every_s)
        return self

    def renew(self) -> None:
        # Under the lock `stop` takes before it drops the lease: a renewal still retrying
        # must not write the lease back after the drop (it would look fresh for FRESH_S).
        with self._renewing:
            if self._stop.is_set():
                return
            self.lease = msgspec.structs.replace(self.lease, heartbeat_ts=time.time())
            self.leases.write(self.lease)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.renew()
            except Exception as exc:  # the next tick tries again; stale after FRESH_S
                log("writer_lease.renew_failed", error=f"{type(exc).__name__}: {str(exc)[:300]}")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._renewing:  # a renewal under way ends first
            self._drop()

    def _drop(self) -> None:
        try:
            self.leases.drop(self.lease.lease_id)
        except Exception as exc:  # left behind, it goes stale and blocks nothing
            log("writer_lease.not_dropped", error=f"{type(exc).__name__}: {str(exc)[:300]}")


def advertised_url(host: str, port: int) -> str | None:
    """The URL a lease names for `reindex --server`: None for a wildcard bind (0.0.0.0,
    ::, as in the container), which names no address an operator could use; IPv6
    literals bracketed."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        return None
    return f"http://[{host}]:{port}" if ":" in host and not host.startswith("[") else \
        f"http://{host}:{port}"


def keep_writer_lease(catalog: Any, url: str | None,
                      every_s: float = RENEW_S) -> WriterLeaseKeeper | None:
    """The started keeper for a catalog on a Qdrant server; None on Edge (no leases)."""
    leases = getattr(catalog, "writer_leases", None)
    if leases is None:
        return None
    return WriterLeaseKeeper(leases(), url, every_s).start()


def fresh_and_stale(leases: list[Lease], now: float | None = None,
                    fresh_s: float = FRESH_S) -> tuple[list[Lease], list[Lease]]:
    now = time.time() if now is None else now
    return ([lease for lease in leases if lease.fresh(fresh_s, now)],
            [lease for lease in leases if not lease.fresh(fresh_s, now)])
