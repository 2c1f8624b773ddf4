"""Hot topics: posts that burst against their baseline, clustered, labelled, explained.

Public names resolve lazily (see `search._exports`); modules not listed here are
the package's internals.
"""

from search._exports import lazy_exports

__all__ = [
    "Topic",
    "TrendParams",
    "TrendsRequest",
    "TrendsResult",
    "TrendsService",
]

_EXPORTS = {
    "Topic": "search.trends.models",
    "TrendParams": "search.trends.models",
    "TrendsRequest": "search.trends.models",
    "TrendsResult": "search.trends.models",
    "TrendsService": "search.trends.service",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
