"""Liveness (`/health`: the process answers) and readiness (`/ready`: models
loaded and Qdrant answering), the two questions an orchestrator asks."""

from __future__ import annotations

from typing import Any

from litestar import get

from server.services import Services


@get("/health", sync_to_thread=False, tags=["health"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", sync_to_thread=True, tags=["health"], opt={"access": "read"})
def ready(services: Services) -> dict[str, Any]:
    """Counts the live index: that round trip proves the store answers.

    A read like any other (closed when read keys are set; `/health` stays open for
    probes), and it names the index, never where it lives on disk.
    """
    points = services.store.count()
    manifest = services.store.manifest()
    return {
        "status": "ready",
        "profile": services.models.profile,
        "models": services.pipeline.models,
        "store": {
            "backend": "qdrant-server" if services.settings.qdrant_url else "qdrant-edge",
            "index": manifest.name,
            "schema": manifest.migrations,
            "points": points,
        },
    }
