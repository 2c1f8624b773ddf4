"""Shared fixtures. Models here are tiny, random and built locally: no hub, no downloads.

HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE are set at import, before any test
module imports huggingface_hub (which reads them once): a test that names a
hub model must fail at once, not retry the network for ~50 s.
"""

from __future__ import annotations

import os
import shutil

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
def second_m3_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another tiny BGE-M3 for model changes: same architecture, other weights (seed 1),
    another folder name (a folder's model id is `bge-m3:<folder name>:<config hash>`,
    and the config is the same)."""
    root = tmp_path_factory.mktemp("second-model")
    built = build_tiny_m3(root / "build", seed=1)
    return Path(shutil.move(str(built), str(root / "tiny-bge-m3-seed1")))


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
