"""The `Store`/`Catalog` protocols and the two Qdrant back ends; the only importers of Qdrant.

Public names resolve lazily (see `search._exports`); modules not listed here are
the package's internals.
"""

from search._exports import lazy_exports

__all__ = [
    "Catalog",
    "EdgeCatalog",
    "EdgeStore",
    "ServerCatalog",
    "ServerStore",
    "Store",
    "point_id",
]

_EXPORTS = {
    "Catalog": "search.store.base",
    "EdgeCatalog": "search.store.edge_catalog",
    "EdgeStore": "search.store.edge",
    "ServerCatalog": "search.store.server_catalog",
    "ServerStore": "search.store.server",
    "Store": "search.store.base",
    "point_id": "search.store.payload",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
