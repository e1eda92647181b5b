"""samples.jsonl in, results.json numbers out; plus the provenance every result carries."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from vold_bench.tasks import REPO_ROOT, TaskSpec

# The key lists of vold_bench/schema.py's docstring, checked by the tests.
RESULT_KEYS = ("bench", "split", "model", "backend", "prompt_variant", "scorer", "scorer_version",
               "n", "n_errors", "accuracy", "parse_rate", "breakdown", "generation", "dataset",
               "git_sha", "packages", "wall_s", "items_per_s", "gen_tokens_per_s", "created")
SAMPLE_KEYS = ("id", "prompt", "response", "extracted", "gold", "correct", "parse_status",
               "gen_tokens", "meta", "error")
PACKAGES = ("vold", "torch", "transformers", "datasets", "tokenizers", "accelerate", "pillow",
            "math-verify", "sympy", "vllm", "lmms-eval")


def ordered(results: dict) -> dict:
    """results.json keys in the schema's order (easier to read), extras after."""
    return {k: results[k] for k in RESULT_KEYS if k in results} | {
        k: v for k, v in results.items() if k not in RESULT_KEYS}


def recover_samples(path: Path) -> dict[str, dict]:
    """id -> sample from a samples.jsonl that a kill may have cut mid-line. Writes to the file:
    the torn tail is truncated away, so the next append starts on a clean line. A later
    duplicate id (which only a manual edit could produce) keeps the first occurrence."""
    done: dict[str, dict] = {}
    if not path.exists():
        return done
    raw = path.read_bytes()
    good = 0
    for line in raw.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            s = json.loads(line)
            done.setdefault(str(s["id"]), s)
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
            break   # anything after a corrupt line is not trusted either
        good += len(line)
    if good < len(raw):
        with open(path, "r+b") as f:
            f.truncate(good)
    return done


def write_samples(path: Path, samples: list[dict]) -> None:
    tmp = path.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for s in samples:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


@contextmanager
def one_writer(folder: Path):
    """Hold an exclusive lock on `folder` (its `.lock` file) while the block runs; a second
    process asking for it says so on stderr and waits. No lock where fcntl is missing (not POSIX)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(folder / ".lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting: another process is writing {folder}", file=sys.stderr, flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_json(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path)


def _pct(k: int, n: int) -> float:
    return round(100.0 * k / n, 4) if n else 0.0


def summarize(samples: list[dict], task: TaskSpec) -> dict:
    """Accuracy over ALL items (errors count as wrong), parse rate (share with an extracted
    answer), and accuracy per value of each breakdown field (a list-valued field such as
    MathVista's `skills` counts the item under each of its values)."""
    n = len(samples)
    correct = sum(bool(s["correct"]) for s in samples)
    groups: dict[str, dict] = {}
    for field in task.breakdown:
        acc = defaultdict(lambda: [0, 0])
        for s in samples:
            v = (s.get("meta") or {}).get(field)
            for val in (v if isinstance(v, list) else [v]):
                key = "unknown" if val is None or val == "" else str(val)
                acc[key][0] += 1
                acc[key][1] += bool(s["correct"])
        groups[field] = {k: {"n": a[0], "accuracy": _pct(a[1], a[0])} for k, a in sorted(acc.items())}
    return {"n": n, "n_errors": sum(s["parse_status"] == "error" for s in samples),
            "accuracy": _pct(correct, n),
            "parse_rate": _pct(sum(s["parse_status"] == "ok" for s in samples), n),
            "breakdown": groups}


def git_sha() -> str:
    if not (REPO_ROOT / ".git").exists():   # an installed wheel: whatever repo holds the venv is not ours
        return "unknown"
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (sha + ("-dirty" if dirty else "")) if sha else "unknown"


def environment() -> dict:
    pk = {}
    for name in PACKAGES:
        try:
            pk[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"git_sha": git_sha(), "packages": pk,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
