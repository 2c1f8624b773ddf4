"""The issue-12 table: BM25, e5 dense and `shipped` before (MiniLM) and after (e5), per set.

Reads two `trendsearch eval` JSON documents (or several for the after side, one per
set, when sets were run one at a time) and prints one markdown table per metric
pair, with the bar: `shipped` at least max(BM25, e5 dense) on nDCG@10 and Recall@1000.

    .venv/bin/python lab/scripts/before_after.py BEFORE.json AFTER.json [AFTER2.json ...]
    .venv/bin/python lab/scripts/before_after.py --merge OUT.json RUN1.json RUN2.json ...

`--merge` joins runs of one profile made one set at a time into one results file
(and its markdown, as `trendsearch eval --output` writes them).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

METRICS = (("ndcg@10", "nDCG@10"), ("recall@1000", "R@1000"))


def load(paths: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in paths:
        out.update(json.loads(Path(path).read_text(encoding="utf-8"))["datasets"])
    return out


def merge(output: Path, paths: list[str]) -> None:
    from lab.evaluation import report

    documents = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
    profile = documents[0]["profile"]
    results = []
    for document in documents:
        if document["profile"]["embedder"] != profile["embedder"]:
            raise SystemExit(f"{output}: runs of different models cannot be merged")
        for name, entry in document["datasets"].items():
            configs = {}
            for config, values in entry["configs"].items():
                metrics = {k: v for k, v in values.items() if "@" in k}
                configs[config] = report.ConfigResult(
                    metrics=metrics, ms_per_query=values["ms_per_query"], note=values.get("note"),
                    stages_ms=values.get("stages_ms"),
                    requests_per_query=values.get("requests_per_query"),
                    page_duplicates=values.get("page_duplicates"))
            results.append(report.DatasetResult(name=name, n_docs=entry["n_docs"],
                                                n_queries=entry["n_queries"], configs=configs,
                                                runs={}))
    report.write_json(output, report.to_json(results, profile))
    output.with_suffix(".md").write_text(report.markdown(results, profile), encoding="utf-8")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--merge"]:
        merge(Path(argv[1]), argv[2:])
        return 0
    before, after = load(argv[:1]), load(argv[1:])
    print("| set [queries] | metric | BM25 | MiniLM dense | shipped before (MiniLM) | e5 dense "
          "| shipped after (e5) | bar: after ≥ max(BM25, e5 dense) |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for name in list(before) + [n for n in after if n not in before]:
        b, a = before.get(name, {}).get("configs", {}), after.get(name, {}).get("configs", {})
        for key, label in METRICS:
            def cell(configs: dict[str, Any], config: str, key: str = key) -> str:
                value = configs.get(config, {}).get(key)
                return "—" if value is None else f"{value:.3f}"

            bar = "not run"
            if a:
                best = max(a["bm25"][key], a["dense"][key])
                gap = a["shipped"][key] - best
                bar = "pass" if gap >= -1e-9 else f"**short by {-gap:.4f}**"
            print(f"| {name} | {label} | {cell(a or b, 'bm25')} | {cell(b, 'dense')} | "
                  f"{cell(b, 'shipped')} | {cell(a, 'dense')} | {cell(a, 'shipped')} | {bar} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
