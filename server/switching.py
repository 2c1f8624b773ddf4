"""A model change inside the serving process: the new models beside the old, one swap.

A rebuild that moves the live index to another profile's model (`server.reindexing`)
must change, together with the index, everything the process holds that depends
on the model: the embedder and reranker, the search pipeline (its fusion knobs and
dense threshold are the model's), trends (its cache and models), and the watches'
percolator with its query-vector index (each model has its own, `Catalog.watch_index`).
A search that embedded its query with the old model must not read the new index,
nor a new query the old one.

The swap happens with `server.gate.SwitchGate` closed: no request that uses the
model runs across it (why a gate: that module).

Everything for the new model is loaded and built before the gate closes (the new
watch index synced with every watch), so the swap itself is assignments only.
"""

from __future__ import annotations

from typing import Any

import msgspec

from search.contracts import SearchParams
from search.pipeline import SearchPipeline
from server.profiles import Models, load_models

__all__ = ["ModelSwap"]


class ModelSwap:
    """The models and model-bound parts of `services` for `profile`, built beside the
    running ones; `apply` puts them in place (under the gate, at the index switch)."""

    def __init__(self, services: Any, profile: str) -> None:
        self._services = services
        self.settings = msgspec.structs.replace(services.settings, profile=profile)
        self.models: Models = load_models(self.settings)
        embedder = self.models.embedder
        self.pipeline = SearchPipeline(services.store, embedder, self.models.reranker,
                                       SearchParams.from_settings(self.settings))
        # Trending's typical counts are the posts', not the model's: the same forecaster.
        self.pipeline.typical = services.pipeline.typical
        self.percolator = (services.watches.percolator_for(embedder)
                           if services.watches is not None else None)
        if self.percolator is not None:
            # Calibrations (each watch's median and spread of cosines) are the old model's:
            # scored against them, the new cosines would be kept or dropped on the wrong
            # basis. Without one a watch records every match until the next pass
            # calibrates it on the new index.
            self.percolator.calibrations = {}

    @property
    def model_id(self) -> str:
        return str(self.models.embedder.info.model_id)

    def apply(self) -> None:
        """Called with the gate closed and the write lock held, right after the serving
        store moved to the new index; past the refresh, assignments only."""
        services = self._services
        if self.percolator is not None:
            # The only step that can fail (it reads the watches database), so it goes
            # first: a failure here leaves everything as it was, and the rebuild rolls
            # the index back (`indexer.reindex`).
            self.percolator.refresh()  # a watch created or changed since its sync
        services.settings = self.settings
        services.models = self.models
        services.pipeline = self.pipeline
        services.trends = None  # rebuilt on first use, with the new models and an empty cache
        if self.percolator is not None:
            services.watches.follow(self.percolator)

    def discard(self) -> None:
        """The rebuild failed before the switch: the new watch index is let go."""
        if self.percolator is not None:
            self.percolator.index.close()
