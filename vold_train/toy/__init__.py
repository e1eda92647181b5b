"""The toy world's models: two small Qwen-family models, `toy-teacher` (Qwen3) and
`toy-student` (Qwen2.5-VL), plus `toy-vteacher` for VA-OPD, that run the whole VOLD story
offline on CPU. Their problems and pictures are benchmark data (vold_bench/toy); the models,
their build and their checks are here (models.py, build.py, vteacher.py, check.py)."""
from __future__ import annotations

import os
from pathlib import Path

from vold_bench.errors import VoldError

TOY_NAMES = {"toy-student": "student", "toy-teacher": "teacher"}
# the image-seeing teacher for VA-OPD, built on its own (vteacher.py)
EXTRA_NAMES = {"toy-vteacher": "vteacher"}
# Shipped in the repo (a few MB of safetensors) so tests and CI never wait for a build;
# VOLD_TOY_MODELS points elsewhere (e.g. a folder `vold toy build --out` wrote).
PACKAGE_MODELS = Path(__file__).resolve().parent / "models"


def models_dir() -> Path:
    return Path(os.environ.get("VOLD_TOY_MODELS") or PACKAGE_MODELS)


def build_command(name: str) -> str:
    return "vold toy build --vteacher" if name in EXTRA_NAMES else "vold toy build"


def resolve_model(name: str) -> str:
    """What a loader opens for a model name: a toy name -> its folder under models_dir();
    anything else (a hub id, a path) unchanged. The one lookup every loader and backend uses.
    A lookup only: a toy model that is not there is an error that says how to build it."""
    sub = TOY_NAMES.get(name) or EXTRA_NAMES.get(name)
    if sub is None:
        return name
    path = models_dir() / sub
    if not (path / "config.json").exists():
        raise VoldError(f"toy model {name!r} is not built at {path}; build it with `{build_command(name)}`")
    return str(path)
