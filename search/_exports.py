"""Lazy package exports: a package names its public surface without importing it.

Why lazy: `import search.errors` runs `search/__init__.py` first, and an eager
`from search.pipeline import SearchPipeline` there would load numpy, Qdrant and
the models' code into every process that only wanted an error class (the CLI's
`--help`, the lab's scorers). PEP 562's module `__getattr__` resolves a name on
first use instead; `__all__` stays the list a drift test checks.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` for `package` that imports `exports[name]` (a module path)."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
