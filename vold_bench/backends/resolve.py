"""Model names -> what `from_pretrained` opens, for the hf and vllm backends.

vold_bench knows no model names of its own. A package that ships named models declares a
resolver under the `vold.models` entry-point group (vold_train declares
`vold_train.toy:resolve_model` for toy-student, toy-teacher and toy-vteacher in
pyproject.toml), so the benchmark layer finds them without importing the trainer. A resolver
returns the folder for a name it knows and the name unchanged otherwise; a hub id or a path
passes through every resolver unchanged."""
from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

from vold_bench.errors import VoldError

GROUP = "vold.models"


@lru_cache(maxsize=1)
def _resolvers() -> tuple:
    return tuple(ep.load() for ep in sorted(entry_points(group=GROUP), key=lambda ep: ep.name))


def resolve_model(name: str) -> str:
    resolvers = _resolvers()
    for fn in resolvers:
        out = fn(name)
        if out != name:
            return out
    if name.startswith(("/", "./", "../", "~")) and not Path(name).expanduser().exists():
        # a path, not a hub id ("namespace/repo"): say so instead of the hub's repo-id complaint
        raise VoldError(f"model {name!r}: no such folder")
    if not resolvers and name.startswith("toy-"):
        raise VoldError(f"model {name!r}: no `{GROUP}` resolver is installed (the toy models come with "
                        f"vold_train; install the package with `pip install -e .` or `make setup`)")
    return name
