#!/usr/bin/env bash
# Builds .venv-lmms/: lmms-eval 0.7.3 beside vold, for the tests that run real lmms-eval on our
# tasks (tests/test_lmms_offline.py skips without it).
#
#   make lmms-env                                   # -> ./.venv-lmms
#   MAIN_PY=/path/to/.venv/bin/python make lmms-env
#
# The env reuses the main env's packages through a .pth file instead of installing its own
# torch/transformers (minutes and gigabytes saved, and the same versions `vold eval` runs on).
# pip sees those packages as installed, and a constraints file frozen from the main env stops it
# from shadowing any of them with another version: lmms-eval 0.7.3 alone would pull
# math-verify 0.1.0 over our 0.9, and our scorer must grade the same under both tools.
# Pins lmms-eval's metadata lacks: decord (its qwen2_5_vl model imports it) and filelock < 4
# (lmms-eval 0.7.3 breaks on filelock 4.x).
set -euo pipefail
cd "${REPO:-$(dirname "$0")/..}"
VENV=${VENV:-.venv-lmms}
MAIN_PY=${MAIN_PY:-.venv/bin/python}
PY=${PY:-python3}
LMMS_SPEC=${LMMS_SPEC:-lmms-eval==0.7.3}

test -x "$MAIN_PY" || { echo "no main env python at $MAIN_PY (run make setup, or set MAIN_PY)"; exit 2; }
test -x "$VENV/bin/python" || "$PY" -m venv "$VENV"
SITE=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
MAIN_SITE=$("$MAIN_PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
# The checkout first, so lmms-eval's `import vold_bench` is this tree's, then the main env.
printf '%s\n%s\n' "$(pwd)" "$MAIN_SITE" > "$SITE/_vold_main_env.pth"

FROZEN=$(mktemp)
"$MAIN_PY" -m pip freeze --exclude-editable | grep -viE '^(filelock|pip|setuptools)==' | grep '==' > "$FROZEN"
"$VENV/bin/pip" install -q -c "$FROZEN" "$LMMS_SPEC" decord "filelock<4"
rm -f "$FROZEN"
"$VENV/bin/python" - <<'PYEOF'
import importlib.metadata as md
import torch, transformers, vold_bench
print(f"lmms-eval {md.version('lmms_eval')}  torch {torch.__version__}  "
      f"transformers {transformers.__version__}  filelock {md.version('filelock')}  "
      f"decord {md.version('decord')}  vold from {vold_bench.__file__}")
PYEOF
