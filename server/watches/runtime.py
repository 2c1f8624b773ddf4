"""What a process holds for watches: the database, the percolator, the pass, deliveries.

Built where a process assembles its services (`server.services`, `trendsearch
watch`); the posts store it is given comes back wrapped (`PercolatingStore`), so
every write of that process percolates.
"""

from __future__ import annotations

from typing import Any

from search.embed.base import Embedder
from search.store.base import Store
from search.watches.db import WatchDB
from search.watches.ledger import Ledger
from search.watches.percolate import Percolator
from search.watches.percolating import PercolatingStore
from search.watches.service import WatchService
from server.gate import SwitchGate
from server.settings import Settings
from server.watches.delivery import Deliverer
from server.watches.scheduler import Scheduler
from server.watches.urlguard import UrlGuard


class WatchRuntime:
    def __init__(self, settings: Settings, catalog: Any, store: Store,
                 embedder: Embedder, gate: SwitchGate | None = None) -> None:
        self.settings = settings
        # What uses the percolator's model holds it shared (watch writes, the pass): a
        # model change in this process swaps the percolator alone (`server.switching`).
        self.gate = gate or SwitchGate()
        self.catalog = catalog
        self.db = WatchDB.in_folder(settings.data_path)
        self.guard = UrlGuard(settings.webhook_schemes, settings.webhook_allow_networks)
        self.index = catalog.watch_index(embedder.info)
        self.percolator = Percolator(self.index, self.db, embedder)
        self.percolator.sync()
        self.store = PercolatingStore(store, self.percolator)
        self.service = WatchService(self.db, self.percolator, self.store)
        self.ledger: Ledger = self.service.ledger
        self.deliverer = Deliverer(self.ledger, self.guard)
        self.scheduler: Scheduler | None = None
        self.index_name = store.manifest().name

    def percolator_for(self, embedder: Embedder) -> Percolator:
        """A percolator over another model's watch index, synced with every watch (each
        query embedded by that model): built before a model change's switch, not during it."""
        index = self.catalog.watch_index(embedder.info)
        try:
            percolator = Percolator(index, self.db, embedder)
            percolator.sync()
        except BaseException:
            index.close()
            raise
        return percolator

    def follow(self, percolator: Percolator) -> None:
        """Percolate with `percolator` from now on (a model change's switch): writes, the
        watch routes and the pass all reach it through these attributes. Assignments
        only, and the old model's watch index closes here: the caller holds the gate closed,
        and everything that reads the percolator (ingests, the watch routes, the pass)
        holds it shared, so nothing reads the old index now. Closing it at once also lets a
        later change back to that model open it again (Edge allows one opener)."""
        old = self.index
        self.index, self.percolator = percolator.index, percolator
        self.store.percolator = percolator
        self.service.percolator = percolator
        old.close()

    def scheduler_wanted(self, *, own_process: bool) -> bool:
        """`serve` runs the scheduler with the embedded store (or when told to);
        `trendsearch watch` always does."""
        if self.settings.watch_pass_minutes == 0:
            return False
        if own_process:
            return True
        mode = self.settings.watch_scheduler
        return mode == "on" or (mode == "auto" and not self.settings.qdrant_url)

    def make_scheduler(self) -> Scheduler:
        self.scheduler = Scheduler(self.service, self.deliverer, f"scheduler:{self.index_name}",
                                   max(1, self.settings.watch_pass_minutes), gate=self.gate)
        return self.scheduler

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.deliverer.close()
        self.index.close()
        self.db.close()
