"""The README's example queries on the bundled sample, under the old and the new offline model.

Indexes `data/sample/posts.jsonl` twice into throw-away Qdrant Edge indexes, once
with all-MiniLM-L6-v2 + BM25 (the offline profile before session e5) and once with
multilingual-e5-small + BM25 (after), runs the same queries through the shipped
pipeline (`SearchPipeline`, default settings) and prints the top results of each
as a markdown table: what changed, for the README. Dense vectors go through the
embedding cache (`var/embed-cache/`), so a rerun costs only the searches.

    .venv/bin/python lab/scripts/sample_queries.py > var/sample_queries.md
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from indexer.run import index_files
from migrations import open_live
from search.contracts import SearchParams, SearchRequest
from search.embed.cache import CachedEmbedder, default_cache_dir
from search.embed.lexical import LexicalSparseEncoder
from search.pipeline import SearchPipeline
from search.store.edge_catalog import EdgeCatalog

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample" / "posts.jsonl"
QUERIES = ["深圳禁摩限电", "春节放鞭炮", "开放二胎", "Shenzhen ban on motorbikes and e-bikes",
           "setting off firecrackers at Spring Festival", "two-child policy", "flood evacuation"]
TOP = 5


def embedder(name: str) -> Any:
    cache = REPO / "var"
    if name == "minilm":
        from search.embed.minilm import MiniLMEmbedder

        model: Any = MiniLMEmbedder(LexicalSparseEncoder())
        dense = model.minilm
    else:
        from search.embed.e5 import E5Embedder

        model = E5Embedder(LexicalSparseEncoder())
        dense = model.dense
    model.dense = CachedEmbedder(dense, default_cache_dir(cache.resolve(), dense.info.model_id))
    return model


def run(name: str) -> dict[str, list[str]]:
    model = embedder(name)
    out: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="sample-queries-") as tmp:
        catalog = EdgeCatalog(Path(tmp) / "edge")
        try:
            store = open_live(catalog, model.info, create=True)
            index_files([SAMPLE], store, model, show_progress=False)
            pipeline = SearchPipeline(store, model, None, SearchParams())
            for query in QUERIES:
                result = pipeline.search(SearchRequest(query=query, limit=TOP))
                out[query] = [hit.post.id for hit in result.hits]
        finally:
            catalog.close()
    return out


def on_topic(post_id: str, query: str) -> str:
    """The sample's ids name their source and, for Weibo and CrisisLex, the topic."""
    topics = {"深圳禁摩限电": "shenzhen", "Shenzhen ban on motorbikes and e-bikes": "shenzhen",
              "春节放鞭炮": "spring-festival",
              "setting off firecrackers at Spring Festival": "spring-festival",
              "开放二胎": "two-child", "two-child policy": "two-child",
              "flood evacuation": "flood"}
    return "✓" if topics[query] in post_id else "·"


def main() -> int:
    before, after = run("minilm"), run("e5")
    print(f"| query | MiniLM + BM25 (before): top {TOP} on topic | e5 + BM25 (after) |")
    print("|---|---|---|")
    for query in QUERIES:
        marks = ["".join(on_topic(i, query) for i in side[query]) for side in (before, after)]
        print(f"| {query} | {marks[0]} | {marks[1]} |")
    print()
    for query in QUERIES:
        print(f"- {query}: before {before[query]}; after {after[query]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
