"""The engine: recall, fusion, rerank, ordering, trends. Never imports `server/` or `indexer/`.

Public names resolve lazily (see `search._exports`); modules not listed here are
the package's internals.
"""

from search._exports import lazy_exports

__all__ = [
    "Encoded",
    "Engagement",
    "Explain",
    "Hit",
    "IndexManifest",
    "ModelInfo",
    "Post",
    "RankingSettings",
    "SearchFilters",
    "SearchParams",
    "SearchPipeline",
    "SearchRequest",
    "SearchResult",
    "parse_query",
]

_EXPORTS = {
    "Encoded": "search.contracts",
    "Engagement": "search.models",
    "Explain": "search.models",
    "Hit": "search.models",
    "IndexManifest": "search.contracts",
    "ModelInfo": "search.contracts",
    "Post": "search.models",
    "RankingSettings": "search.contracts",
    "SearchFilters": "search.models",
    "SearchParams": "search.contracts",
    "SearchPipeline": "search.pipeline",
    "SearchRequest": "search.contracts",
    "SearchResult": "search.models",
    "parse_query": "search.query",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
