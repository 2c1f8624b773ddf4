"""Shared fixtures. Models here are tiny, random and built locally: no hub, no downloads.

HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE are set at import, before any test
module imports huggingface_hub (which reads them once): a test that names a
hub model must fail at once, not retry the network for ~50 s.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from pathlib import Path

import pytest

from search.embed.bge_m3 import BgeM3Embedder
from search.embed.tiny import build_tiny_m3, build_tiny_reranker
from search.rerank import CrossEncoderReranker

# --- models -----------------------------------------------------------------

@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_m3_path(tiny_models_dir: Path) -> Path:
    return build_tiny_m3(tiny_models_dir)


@pytest.fixture(scope="session")
def tiny_reranker_path(tiny_models_dir: Path) -> Path:
    return build_tiny_reranker(tiny_models_dir)


@pytest.fixture(scope="session")
def tiny_embedder(tiny_m3_path: Path) -> BgeM3Embedder:
    return BgeM3Embedder(str(tiny_m3_path), device="cpu", batch_size=16, max_length=128)


@pytest.fixture(scope="session")
def tiny_reranker(tiny_reranker_path: Path) -> CrossEncoderReranker:
    return CrossEncoderReranker(str(tiny_reranker_path), device="cpu", batch_size=16,
                                max_length=128)
