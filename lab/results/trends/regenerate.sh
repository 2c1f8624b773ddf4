#!/usr/bin/env bash
# Regenerates lab/results/trends/*.run.jsonl, *.scores.json and results.md from the public streams.
# Run from the repository root: ./lab/results/trends/regenerate.sh  (first run embeds ~60k posts;
# the embedding cache under var/embed-cache makes later runs cost only the trends calls;
# crisislex6_forum adds 13k forum posts, long ones, to embed once).
set -euo pipefail
cd "$(dirname "$0")/../../.."
EVAL=../shared/eval/trends
OUT=lab/results/trends
for stream in crisislex6_overlap crisislex6_real crisislex6_sparse crisislex6_forum; do
  .venv/bin/trendsearch eval-trends "$EVAL/streams/$stream.jsonl" "$EVAL/streams/$stream.events.json" \
    --output "$OUT/$stream.run.jsonl" --scorer "$EVAL/scoring.py" --quiet
done
.venv/bin/python -m lab.evaluation.trends_table "$OUT" > "$OUT/results.md"
cat "$OUT/results.md"
