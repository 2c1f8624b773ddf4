"""Counting over every match (issue 18) beside plain relevance search, whole requests.

Each kind of request runs the bench's queries; "relevance without counting" is the
plain relevance request's own stages less `match` and `count`, what relevance cost
before totals existed, so the first ratio column says what counting adds; the
second divides by the relevance request as served (with its total).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from search.contracts import SearchRequest
from search.pipeline import SearchPipeline

__all__ = ["COUNTING", "CountingRun", "counting_table", "pct", "print_counting"]

COUNTING: dict[str, dict[str, Any]] = {
    "relevance (page 1, total)": {"mode": "relevance"},
    "relevance + facets, histogram": {"mode": "relevance", "facets": True},
    "latest page 1 (total)": {"mode": "latest"},
    "latest page 2 (cursor)": {"mode": "latest", "page": 2},
    "latest + facets, histogram": {"mode": "latest", "facets": True},
}
PLAIN = "relevance (page 1, total)"
BASE = "relevance without counting"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class CountingRun(msgspec.Struct):
    """p50/p95 of whole requests per kind, of the counting stages, and the mean total."""

    whole: dict[str, tuple[float, float]]
    stages: dict[str, tuple[float, float]]
    mean_total: float


def counting_table(pipeline: SearchPipeline, queries: Sequence[str], rounds: int) -> CountingRun:
    whole: dict[str, list[float]] = {}
    stages: dict[str, list[float]] = {}
    totals: list[int] = []
    for _ in range(rounds):
        for kind, spec in COUNTING.items():
            for query in queries:
                request = SearchRequest(query=query, mode=spec["mode"], limit=10,
                                        facets=bool(spec.get("facets")))
                result = pipeline.search(request)
                if spec.get("page") == 2:
                    if result.next_cursor is None:
                        continue
                    result = pipeline.search(msgspec.structs.replace(
                        request, cursor=result.next_cursor))
                whole.setdefault(kind, []).append(sum(result.timings_ms.values()))
                if kind == PLAIN:  # what relevance cost before counting: its own stages
                    whole.setdefault(BASE, []).append(sum(
                        ms for stage, ms in result.timings_ms.items()
                        if stage not in ("match", "count")))
                totals.append(result.total)
                for stage in ("match", "count", "facets", "latest", "recall"):
                    if stage in result.timings_ms and (stage != "recall" or kind == PLAIN):
                        stages.setdefault(f"{stage} ({spec['mode']})", []).append(
                            result.timings_ms[stage])
    return CountingRun(whole={k: (pct(v, 0.5), pct(v, 0.95)) for k, v in whole.items()},
                       stages={k: (pct(v, 0.5), pct(v, 0.95)) for k, v in stages.items()},
                       mean_total=sum(totals) / max(len(totals), 1))


def print_counting(runs: dict[str, CountingRun], n_queries: int) -> None:
    """One column per index size; the last column's p95 over its own plain relevance."""
    names = list(runs)
    last = runs[names[-1]]
    print(f"\n## Counting over every match, ms (p50 / p95), {n_queries} queries, whole requests")
    print("mean total per query: " + ", ".join(f"{n} {r.mean_total:.0f}" for n, r in runs.items()))
    print("| request | " + " | ".join(names) + f" | p95 / p95 of {BASE} ({names[-1]}) "
          f"| p95 / p95 of {PLAIN} ({names[-1]}) |")
    print("|---|" + "---|" * len(names) + "---|---|")
    base = last.whole.get(BASE, (float("nan"),) * 2)[1]
    served = last.whole.get(PLAIN, (float("nan"),) * 2)[1]
    nan = (float("nan"),) * 2
    for table in ("whole", "stages"):
        rows: dict[str, None] = {}
        for run in runs.values():
            rows.update(dict.fromkeys(getattr(run, table)))
        for kind in rows:
            cells = [getattr(r, table).get(kind, nan) for r in runs.values()]
            ratio = f"{cells[-1][1] / base:.2f}" if table == "whole" and base else ""
            as_served = f"{cells[-1][1] / served:.2f}" if table == "whole" and served else ""
            name = kind if table == "whole" else f"stage: {kind}"
            print(f"| {name} | " + " | ".join(f"{a:.2f} / {b:.2f}" for a, b in cells)
                  + f" | {ratio} | {as_served} |")
