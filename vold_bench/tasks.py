"""Benchmarks are declared once, as YAML under `tasks/`, and loaded into a frozen `TaskSpec`.

A task says where the data lives (hub id + revision, or a local file in the upstream GitHub
schema), which loader hook turns records into Items, the prompt templates, the scorer and the
breakdown fields. Everything a results.json needs to say "what exactly was run" comes from here.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from vold_bench.errors import VoldError

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("name", "hub_id", "revision", "splits", "default_split", "loader", "prompts", "scorer")
OPTIONAL = ("breakdown", "composite", "description")
SPLIT_KEYS = ("hub_config", "hub_split", "local_file")


@dataclass(frozen=True)
class SplitSpec:
    hub_config: str | None
    hub_split: str
    local_file: str | None


@dataclass(frozen=True)
class TaskSpec:
    name: str
    hub_id: str
    revision: str
    splits: Mapping[str, SplitSpec]
    default_split: str
    loader: str
    # variant -> template, or variant -> {split: template} when settings need different text
    prompts: Mapping[str, Any]
    scorer: str
    breakdown: tuple[str, ...] = ()
    # setting -> the splits whose mean it reports (MMMU-Pro `overall`)
    composite: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    path: str = ""

    def split_names(self) -> list[str]:
        return list(self.splits) + list(self.composite)

    def resolve_split(self, split: str | None) -> str:
        split = split or self.default_split
        if split not in self.splits and split not in self.composite:
            raise VoldError(f"task {self.name!r} ({self.path}): unknown split {split!r}; "
                            f"valid: {', '.join(self.split_names())}")
        return split

    def template(self, variant: str, split: str) -> str:
        if variant not in self.prompts:
            raise VoldError(f"task {self.name!r} ({self.path}): unknown prompt variant {variant!r}; "
                            f"valid: {', '.join(self.prompts)}")
        tpl = self.prompts[variant]
        if isinstance(tpl, Mapping):
            if split not in tpl:
                raise VoldError(f"task {self.name!r} ({self.path}): prompt {variant!r} has no "
                                f"template for split {split!r}")
            tpl = tpl[split]
        return tpl


def data_dir(name: str) -> Path:
    """The top-level `tasks/` or `recipes/` folder. In a checkout (editable install, tests) that
    is the folder itself, the one source of truth; a wheel carries a copy made at build time
    (setup.py) under vold_bench/_data/, since site-packages has no repo around it."""
    src = REPO_ROOT / name
    return src if src.is_dir() else Path(__file__).resolve().parent / "_data" / name


def tasks_dir() -> Path:
    return Path(os.environ.get("VOLD_TASKS") or data_dir("tasks"))


def list_tasks() -> list[str]:
    d = tasks_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def get_task(name: str) -> TaskSpec:
    """`name` is a task under tasks/ (e.g. "mathvision") or a path to a task YAML."""
    path = Path(name)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        path = tasks_dir() / f"{name}.yaml"
        if not path.is_file():
            raise VoldError(f"unknown benchmark {name!r}: no {path}; "
                            f"known: {', '.join(list_tasks()) or '(none)'}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise VoldError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    return parse_task(raw, str(path))


def parse_task(raw: Any, path: str = "<task>") -> TaskSpec:
    if not isinstance(raw, dict):
        raise VoldError(f"{path}: a task file must be a mapping of keys")
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise VoldError(f"{path}: missing key(s) {', '.join(missing)}")
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise VoldError(f"{path}: unknown key(s) {', '.join(unknown)}; "
                        f"valid: {', '.join(REQUIRED + OPTIONAL)}")
    splits = {}
    if not isinstance(raw["splits"], dict) or not raw["splits"]:
        raise VoldError(f"{path}: 'splits' must map split names to {{{', '.join(SPLIT_KEYS)}}}")
    for sname, s in raw["splits"].items():
        if not isinstance(s, dict) or "hub_split" not in s:
            raise VoldError(f"{path}: split {sname!r} needs at least 'hub_split'")
        bad = sorted(set(s) - set(SPLIT_KEYS))
        if bad:
            raise VoldError(f"{path}: split {sname!r}: unknown key(s) {', '.join(bad)}")
        splits[str(sname)] = SplitSpec(s.get("hub_config"), str(s["hub_split"]), s.get("local_file"))
    composite = {}
    for cname, parts in (raw.get("composite") or {}).items():
        if not isinstance(parts, list) or not parts or any(p not in splits for p in parts):
            raise VoldError(f"{path}: composite {cname!r} must list splits among {', '.join(splits)}")
        composite[str(cname)] = tuple(parts)
    if raw["default_split"] not in splits and raw["default_split"] not in composite:
        raise VoldError(f"{path}: default_split {raw['default_split']!r} is not a split")
    prompts = raw["prompts"]
    if not isinstance(prompts, dict) or "default" not in prompts:
        raise VoldError(f"{path}: 'prompts' must be a mapping with at least a 'default' variant")
    for v, tpl in prompts.items():
        ok = isinstance(tpl, str) or (isinstance(tpl, dict) and all(
            k in splits and isinstance(t, str) for k, t in tpl.items()))
        if not ok:
            raise VoldError(f"{path}: prompt {v!r} must be a string or a mapping split -> string")
    breakdown = raw.get("breakdown") or []
    if not isinstance(breakdown, list):
        raise VoldError(f"{path}: 'breakdown' must be a list of field names")
    return TaskSpec(
        name=str(raw["name"]), hub_id=str(raw["hub_id"]), revision=str(raw["revision"]),
        splits=MappingProxyType(splits), default_split=str(raw["default_split"]),
        loader=str(raw["loader"]), prompts=MappingProxyType(dict(prompts)),
        scorer=str(raw["scorer"]), breakdown=tuple(breakdown),
        composite=MappingProxyType(composite), path=path)
