#!/usr/bin/env bash
# One entry point for a fresh machine: creates .venv/, installs the CPU build of
# torch (pinned by constraints.txt; a bare `torch` would pull multi-GB CUDA wheels)
# and the project, then runs what was asked. Safe to run again: the install step
# is skipped while pyproject.toml and constraints.txt are unchanged.
#
#   ./run.sh demo     index the bundled sample into embedded Qdrant, serve on 127.0.0.1:8000
#   ./run.sh test     run the test suite
#   ./run.sh setup    install only
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

setup() {
  if [ ! -x .venv/bin/python ]; then
    echo "run.sh: creating .venv with $($PYTHON --version)" >&2
    "$PYTHON" -m venv .venv
  fi
  local stamp=.venv/.trendsearch-installed
  local want
  want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "run.sh: installing torch 2.13.0 (CPU) and the project into .venv (about 2 minutes once)" >&2
    PIP_CONSTRAINT="$PWD/constraints.txt" .venv/bin/pip install -q -c constraints.txt "torch==2.13.0"
    PIP_CONSTRAINT="$PWD/constraints.txt" .venv/bin/pip install -q -c constraints.txt -e ".[test,lab]"
    echo "$want" > "$stamp"
  fi
}

case "${1:-}" in
  setup) setup ;;
  demo)  setup; shift; exec .venv/bin/trendsearch demo "$@" ;;
  test)  setup; shift; exec .venv/bin/python -m pytest "$@" ;;
  *) echo "usage: ./run.sh demo|test|setup" >&2; exit 2 ;;
esac
