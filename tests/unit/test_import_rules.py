"""The import rules of `docs/architecture.md`, checked on the source (no imports run).

    server -> indexer / migrations -> search;  lab -> any of them;  nothing -> lab
    inside search: store/ and trends/ never reach sideways (store not into embed/,
    trends not into the pipeline); contracts.py and models.py import no stage.

Every `import` and `from ... import` is read with `ast`, function-level ones
included, so a lazy import cannot hide an upward arrow.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("search", "indexer", "migrations", "server", "lab")
# Which top-level packages each may import (besides itself).
ALLOWED = {
    "search": set(),
    "migrations": {"search"},
    "indexer": {"search", "migrations"},
    "server": {"search", "indexer", "migrations"},
    "lab": {"search", "indexer", "migrations", "server"},
}
# Modules inside search that must not import these module prefixes.
SIDEWAYS = {
    "search.store": ("search.embed", "search.pipeline", "search.trends", "search.recall"),
    "search.trends": ("search.pipeline",),
    "search.contracts": ("search.store", "search.embed", "search.pipeline", "search.recall"),
    "search.models": ("search.store", "search.embed", "search.pipeline", "search.contracts"),
    "search.ordering": ("search.store", "search.embed", "search.pipeline", "search.recall"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found[module_name(path)].update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found[module_name(path)].add(node.module)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def test_no_upward_arrows_between_packages() -> None:
    wrong = sorted(f"{src} imports {dst}" for src, targets in imports().items()
                   for dst in targets
                   if top(dst) in PACKAGES and top(dst) != top(src)
                   and top(dst) not in ALLOWED[top(src)])
    assert wrong == []


@pytest.mark.parametrize("inner", sorted(SIDEWAYS))
def test_no_sideways_reach_inside_the_engine(inner: str) -> None:
    wrong = sorted(f"{src} imports {dst}" for src, targets in imports().items()
                   if src == inner or src.startswith(inner + ".")
                   for dst in targets
                   if any(dst == bad or dst.startswith(bad + ".") for bad in SIDEWAYS[inner]))
    assert wrong == []


def test_no_import_circles_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for src, targets in imports().items():
        graph[top(src)].update(top(d) for d in targets if top(d) in PACKAGES and top(d) != top(src))
    seen: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"circle: {' -> '.join(path + (node,))}"
        for nxt in sorted(graph[node]):
            visit(nxt, path + (node,))

    for package in PACKAGES:
        if package not in seen:
            visit(package, ())
            seen.add(package)
