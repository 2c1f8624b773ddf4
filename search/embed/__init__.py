"""Embedders: the `Embedder` protocol and one module per model family.

Public names resolve lazily (see `search._exports`); modules not listed here are
the package's internals.
"""

from search._exports import lazy_exports

__all__ = [
    "BgeM3Embedder",
    "CachedEmbedder",
    "Embedder",
    "LexicalSparseEncoder",
    "MiniLMEmbedder",
    "default_cache_dir",
]

_EXPORTS = {
    "BgeM3Embedder": "search.embed.bge_m3",
    "CachedEmbedder": "search.embed.cache",
    "Embedder": "search.embed.base",
    "LexicalSparseEncoder": "search.embed.lexical",
    "MiniLMEmbedder": "search.embed.minilm",
    "default_cache_dir": "search.embed.cache",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
