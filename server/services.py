"""What a running API holds: settings, models, the live store and the pipeline.

Built once in the app's lifespan (or handed in by tests that already loaded
models), kept on `app.state`, disposed in `finally`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import msgspec

from indexer.upkeep import IndexUpkeep
from migrations import open_live
from search.contracts import SearchParams
from search.forecasting import Forecaster
from search.pipeline import SearchPipeline
from search.store.base import Store
from search.store.serving import ServingStore
from search.trends.service import TrendsService
from server.gate import SwitchGate
from server.live_profile import confirm as confirm_profile
from server.profiles import Models, load_models, open_catalog
from server.settings import Settings
from server.watches.runtime import WatchRuntime


class Services(msgspec.Struct):
    settings: Settings
    models: Models
    catalog: Any
    store: Store
    pipeline: SearchPipeline
    write_lock: Any = msgspec.field(default_factory=threading.Lock)
    trends: TrendsService | None = None
    watches: WatchRuntime | None = None
    forecaster: Forecaster | None = None
    # Builds the embedded index as API writes grow it (`indexer.upkeep`).
    upkeep: IndexUpkeep | None = None
    # The live index under the watches' wrapper: a reindex in this process switches it.
    served: ServingStore | None = None
    reindex_job: Any = None
    # Held shared by the work that uses the models, alone by a model change's swap
    # (`server.switching`): no request sees one model with the other's index.
    gate: SwitchGate = msgspec.field(default_factory=SwitchGate)

    @classmethod
    def build(cls, settings: Settings, models: Models | None = None, catalog: Any = None) -> Services:
        models = models or load_models(settings)
        catalog = catalog if catalog is not None else open_catalog(settings)
        gate = SwitchGate()
        try:
            store = open_live(catalog, models.embedder.info, create=True)
        except Exception:
            catalog.close()
            raise
        # The index just proved which model it is: a record naming another profile is stale.
        confirm_profile(settings.data_path, models.profile, models.embedder.info.model_id)
        try:
            # Watches wrap the store: every write of this process percolates.
            watches = WatchRuntime(settings, catalog, store, models.embedder, gate)
        except Exception:
            catalog.close()
            raise
        served = store if isinstance(store, ServingStore) else None
        store = watches.store
        pipeline = SearchPipeline(store, models.embedder, models.reranker, SearchParams.from_settings(settings))
        upkeep = IndexUpkeep(store, 0 if settings.qdrant_url else settings.edge_optimize_every)
        services = cls(settings=settings, models=models, catalog=catalog, store=store,
                       pipeline=pipeline, watches=watches, upkeep=upkeep, served=served,
                       gate=gate)
        services.forecasts()  # trending ranks by the forecaster's typical-for-age counts
        return services

    def reindexing(self) -> Any:
        """The background rebuild of this process (`server.reindexing`), made on first use."""
        from server.reindexing import ReindexJob

        with _trends_lock:
            if self.reindex_job is None:
                self.reindex_job = ReindexJob(self)
            return self.reindex_job

    def close(self) -> None:
        if self.reindex_job is not None:
            self.reindex_job.stop()  # the rebuild holds the catalog: it ends (unfinished) first
        if self.upkeep is not None:
            self.upkeep.close()  # a build holds the shard: none starts, the running one ends
        self.store.flush()
        if self.watches is not None:
            self.watches.close()
        self.catalog.close()

    def forecasts(self) -> Forecaster:
        """Built on first use and kept: it holds each platform's calibration."""
        with _trends_lock:
            if self.forecaster is None or self.forecaster.store is not self.store:
                self.forecaster = Forecaster(self.store, clock=time.time)
                self.pipeline.typical = self.forecaster.typical
            return self.forecaster

    def trends_service(self) -> TrendsService:
        """Built on first use and kept: it holds the trends cache."""
        with _trends_lock:
            if self.trends is None or self.trends.store is not self.store:
                self.trends = TrendsService(self.store, self.models.embedder, self.models.reranker,
                                            params=self.settings.trend_params)
            return self.trends


_trends_lock = threading.Lock()
