"""Posts in: files and batches validated, embedded, upserted; takedowns; reindex.

Public names resolve lazily (see `search._exports`); modules not listed here are
the package's internals.
"""

from search._exports import lazy_exports

__all__ = [
    "IndexSummary",
    "Takedowns",
    "index_files",
    "read_any",
    "reindex",
    "to_post",
    "write_batch",
]

_EXPORTS = {
    "IndexSummary": "indexer.run",
    "Takedowns": "indexer.takedowns",
    "index_files": "indexer.run",
    "read_any": "indexer.sources",
    "reindex": "indexer.reindex",
    "to_post": "indexer.validate",
    "write_batch": "indexer.run",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
