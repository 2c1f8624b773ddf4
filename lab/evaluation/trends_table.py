"""The trends results table: every `*.run.scores.json` in a folder, against the bar.

Why a module: `eval/trends/regenerate.sh` writes `results.md` from the scores
that `trendsearch eval-trends --scorer` left, so the table can never disagree
with the scored runs beside it.

    python -m lab.evaluation.trends_table lab/results/trends > lab/results/trends/results.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HEADER = ("| stream | recall@10 | ≤24h@10 | delay h med | P@10 | frag. | label hit (specific) "
          "| cov24 | topics/ckpt | posts/s |\n|---|---|---|---|---|---|---|---|---|---|")
BAR = ("| **bar** | 1.00 | 1.00 | ≤ 0.5 (≤ 1.5 sparse) | ≥ 0.90 | ≤ 1.2 | (≥ 0.90) | ≥ 0.70 "
       "| | |\n| **bar, forum** (issue 17) | | 1.00 | ≤ 0.6 | ≥ 0.93 | ≤ 1.15 | (≥ 0.95) | ≥ 0.60 "
       "| | |")


def row(name: str, scores: dict[str, Any]) -> str:
    ev = scores["events"]
    replay = scores.get("replay", {})
    return (f"| {name} | {ev['recall@10']:.2f} | {ev['recall24h@10']:.2f} "
            f"| {ev['delay_h@10']['median']} | {scores['precision@10']:.3f} "
            f"| {scores['fragmentation']:.2f} | {ev['label_hit']:.2f} ({ev['label_hit_specific']:.2f}) "
            f"| {ev['coverage24']:.3f} | {scores.get('topics_per_active_checkpoint', '')} "
            f"| {replay.get('posts_per_s', '')} |")


def table(folder: Path) -> str:
    rows = [row(path.name.removesuffix(".run.scores.json"), json.loads(path.read_text()))
            for path in sorted(folder.glob("*.run.scores.json"))]
    return "\n".join([HEADER, *rows, BAR]) + "\n"


if __name__ == "__main__":
    sys.stdout.write(table(Path(sys.argv[1] if len(sys.argv) > 1 else "eval/trends")))
