"""Liveness (`/health`: the process answers) and readiness (`/ready`: models
loaded and Qdrant answering), the two questions an orchestrator asks."""

from __future__ import annotations

from typing import Any

from litestar import get

from server.services import Services


@get("/health", sync_to_thread=False, tags=["health"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", sync_to_thread=True, tags=["health"])
def ready(services: Services) -> dict[str, Any]:
    """Counts the live index: that round trip proves the store answers."""
    points = services.store.count()
    manifest = services.store.manifest()
    return {
        "status": "ready",
        "profile": services.models.profile,
        "models": services.pipeline.models,
        "store": {
            "backend": "qdrant-server" if services.settings.qdrant_url else "qdrant-edge",
            "location": services.store.location,
            "index": manifest.name,
            "schema": manifest.migrations,
            "points": points,
        },
    }
