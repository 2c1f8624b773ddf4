"""Each package's public surface is its `__all__`; this fails when one drifts.

Modelled on httpx's `tests/test_exported_members.py`: adding or removing a
public name is a decision, made here as well as in the package.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "search": ["Encoded", "Engagement", "Explain", "Hit", "IndexManifest", "ModelInfo", "Post",
               "RankingSettings", "SearchFilters", "SearchParams", "SearchPipeline", "SearchRequest",
               "SearchResult", "parse_query"],
    "search.embed": ["BgeM3Embedder", "CachedEmbedder", "Embedder", "LexicalSparseEncoder",
                     "MiniLMEmbedder", "default_cache_dir"],
    "search.store": ["Catalog", "EdgeCatalog", "EdgeStore", "ServerCatalog", "ServerStore", "Store",
                     "point_id"],
    "search.text": ["detect_lang", "normalize", "tokenize"],
    "search.trends": ["Topic", "TrendParams", "TrendsRequest", "TrendsResult", "TrendsService"],
    "search.watches": ["Alert", "Ledger", "Percolator", "Watch", "WatchDB", "WatchPatch",
                       "WatchService", "WatchSpec"],
    "indexer": ["IndexSummary", "Takedowns", "index_files", "read_any", "reindex", "to_post",
                "write_batch"],
    "migrations": ["MIGRATIONS", "Migration", "migrate", "open_live", "pending"],
    "server": ["Models", "Services", "Settings", "create_app", "load_models", "load_settings"],
    "server.cli": ["PLUGIN_GROUP", "build_parser", "main"],
    "server.routes": [],
    "server.watches": [],
    "lab": [],
    "lab.bench": ["run_bench"],
    "lab.scripts": [],
    "lab.evaluation": ["Evaluation", "evaluate", "run_eval"],
}


def all_packages() -> list[str]:
    found = []
    for top in ("search", "indexer", "migrations", "server", "lab"):
        found.append(top)
        for info in pkgutil.walk_packages([str(ROOT / top)], prefix=f"{top}."):
            if info.ispkg:
                found.append(info.name)
    return sorted(found)


def test_every_package_is_listed_here() -> None:
    assert all_packages() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_public_surface_is_what_was_decided(name: str) -> None:
    package = importlib.import_module(name)
    assert sorted(package.__all__) == sorted(EXPECTED[name])
    for public in package.__all__:
        assert getattr(package, public) is not None, f"{name}.{public} does not resolve"
    with pytest.raises(AttributeError):
        package.no_such_name
