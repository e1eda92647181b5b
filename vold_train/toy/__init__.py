"""The embedded toy world: procedural problems (text and image forms) and two small
Qwen-family models, `toy-teacher` (Qwen3) and `toy-student` (Qwen2.5-VL), that run the whole
VOLD story offline on CPU. See world.py, models.py, build.py."""
from __future__ import annotations

import os
from pathlib import Path

TOY_NAMES = {"toy-student": "student", "toy-teacher": "teacher"}
# the image-seeing teacher for VA-OPD, built on its own (vteacher.py)
EXTRA_NAMES = {"toy-vteacher": "vteacher"}
# Shipped in the repo (a few MB of safetensors) so tests and CI never wait for a build;
# VOLD_TOY_MODELS points elsewhere (e.g. a folder `vold toy build --out` wrote).
PACKAGE_MODELS = Path(__file__).resolve().parent / "models"


def models_dir() -> Path:
    return Path(os.environ.get("VOLD_TOY_MODELS") or PACKAGE_MODELS)


def resolve_model(name: str) -> str | None:
    """Local folder of a toy model name, building the toy models on first use; None when
    `name` is not a toy name (a hub id or a path is left to the caller)."""
    if name in EXTRA_NAMES:
        from vold_train.toy.vteacher import build_vteacher
        return str(build_vteacher(models_dir() / EXTRA_NAMES[name]))
    if name not in TOY_NAMES:
        return None
    path = models_dir() / TOY_NAMES[name]
    if not (path / "config.json").exists():
        from vold_train.toy.build import build
        build(out=models_dir())
    return str(path)
