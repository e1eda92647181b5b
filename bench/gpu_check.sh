#!/usr/bin/env bash
# One prepared GPU check (docs/gpu.md): bench/gpu_check.sh [--dry-run] [--data DIR] [--out DIR] ...
# The interpreter: $PYTHON, else the repo's .venv, else python3 (on the device machine, the
# one that holds torch). Everything else is bench/gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHONUNBUFFERED=1
exec "$PYTHON" bench/gpu_check.py "$@"
