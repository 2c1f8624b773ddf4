"""Finds the steps, applies the pending ones, and opens the live index safely."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

import migrations as _package
from search.contracts import IndexManifest, ModelInfo
from search.errors import IndexNotReady, ModelMismatch, StoreLocked
from search.log import event, log
from search.store.base import Store, new_index_name
from search.store.serving import ServingStore


class Migration(msgspec.Struct, frozen=True):
    id: str
    upgrade: Callable[[Store, ModelInfo], None]


def _discover() -> list[Migration]:
    found = []
    for info in pkgutil.iter_modules(_package.__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            module = importlib.import_module(f"migrations.{info.name}")
            found.append(Migration(id=module.ID, upgrade=module.upgrade))
    found.sort(key=lambda m: m.id)
    ids = [m.id for m in found]
    if len(set(ids)) != len(ids):
        raise RuntimeError(f"duplicate migration ids: {ids}")
    return found


MIGRATIONS: list[Migration] = _discover()


def pending(manifest: IndexManifest | None) -> list[Migration]:
    done = set(manifest.migrations) if manifest else set()
    return [m for m in MIGRATIONS if m.id not in done]


def migrate(store: Store, model: ModelInfo, name: str) -> list[str]:
    """Apply pending steps in order; the manifest is rewritten after each one,
    so an interrupted run resumes where it stopped."""
    try:
        manifest: IndexManifest | None = store.manifest()
    except IndexNotReady:
        manifest = None
    if manifest is not None and manifest.model.model_id != model.model_id:
        raise ModelMismatch(manifest.model.model_id, model.model_id, store.location)
    applied = []
    for step in pending(manifest):
        with event("migrate.step", step=step.id, index=name):
            step.upgrade(store, model)
        done = (manifest.migrations if manifest else []) + [step.id]
        manifest = IndexManifest(
            name=name, model=model, migrations=done,
            created_at=manifest.created_at if manifest else datetime.now(UTC).isoformat())
        store.write_manifest(manifest)
        applied.append(step.id)
    return applied


def _unfinished(catalog: Any, name: str) -> bool:
    """An index whose schema steps never all ran: no manifest, or one that is behind."""
    try:
        return bool(pending(catalog.open(name).manifest()))
    except StoreLocked:
        raise
    except Exception:  # noqa: BLE001 - a kill mid-step can leave a shard that will not load
        return True


def drop_unfinished(catalog: Any) -> list[str]:
    """Drop what interrupted first runs left: with no live index, nothing was ever
    activated, so an index still missing schema steps holds no one's posts. A complete
    one is kept (a hand-removed pointer must not cost data)."""
    dropped = [name for name in catalog.names() if _unfinished(catalog, name)]
    for name in dropped:
        catalog.drop(name)
    if dropped:
        log("migrate.dropped_unfinished", indexes=dropped)
    return dropped


def open_live(catalog: Any, model: ModelInfo, *, create: bool) -> Store:
    """The live index, checked against the running model and schema.

    With `create`, a catalog with no live index gets a fresh, fully migrated
    one (first run), after dropping what an interrupted first run left; an index
    built by another model is always an error.
    """
    name = catalog.live_name()
    if name is None:
        if not create:
            raise IndexNotReady(f"no index at {catalog.location}: run `trendsearch migrate` or `index`")
        drop_unfinished(catalog)
        name = new_index_name(model, datetime.now(UTC))
        store: Store = catalog.create(name)
        migrate(store, model, name)
        catalog.activate(name)
        return _held(catalog, name, store, model)
    store = catalog.open(name)
    manifest = store.manifest()
    if manifest.model.model_id != model.model_id:
        raise ModelMismatch(manifest.model.model_id, model.model_id, store.location)
    behind = pending(manifest)
    if behind:
        raise IndexNotReady(
            f"index {name} is behind the code by {len(behind)} schema step(s) "
            f"({', '.join(m.id for m in behind)}): run `trendsearch migrate`")
    return _held(catalog, name, store, model)


def _held(catalog: Any, name: str, store: Store, model: ModelInfo) -> Store:
    """The live index as a process holds it (`ServingStore`): a reindex run in this
    process switches it in one step and journals the writes made meanwhile. A server's
    index is held through its alias, which a reindex run anywhere switches (writes check
    the model again: a switch to another model's index refuses them)."""
    serving = getattr(catalog, "serving", None)
    held: Any = ServingStore(serving(name, model.model_id) if serving is not None else store)
    return held  # type: ignore[no-any-return]
