"""Watches (saved searches) and alerts: the percolator, the periodic pass, their storage.

Public names resolve lazily (see `search._exports`); modules not listed here are
the package's internals.
"""

from search._exports import lazy_exports

__all__ = [
    "Alert",
    "Ledger",
    "Percolator",
    "Watch",
    "WatchDB",
    "WatchPatch",
    "WatchService",
    "WatchSpec",
]

_EXPORTS = {
    "Alert": "search.watches.models",
    "Ledger": "search.watches.ledger",
    "Percolator": "search.watches.percolate",
    "Watch": "search.watches.models",
    "WatchDB": "search.watches.db",
    "WatchPatch": "search.watches.models",
    "WatchService": "search.watches.service",
    "WatchSpec": "search.watches.models",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
