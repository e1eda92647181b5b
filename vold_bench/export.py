"""Export a `vold eval` run folder to lmms-eval's output layout, so lmms-eval tooling
(leaderboard scripts, its log viewers) can read our runs next to its own:

    python -m vold_bench.export results/<model>/<bench>-<split> out/
    -> out/<model_sanitized>/<YYYYmmdd_HHMMSS>_results.json
       out/<model_sanitized>/<YYYYmmdd_HHMMSS>_samples_vold_<bench>_<split>.jsonl

Task and metric names are those of tasks/lmms (vold_<bench>_<split>, vold_accuracy,
vold_parse_rate), so an exported run and an `lmms-eval --include_path tasks/lmms` run of the
same model line up key for key. Metrics stay percentages; per-sample values are 100 or 0, and
the stderr is lmms-eval's (sample std / sqrt(n)). Each sample also carries `vold_score` (0/1),
the task's `score_key`, so `lmms-eval --baseline <exported samples>` pairs its run with ours by
doc_id (the item's position in the split: samples are in dataset order, and a --limit run is a
prefix). `n-samples.original` is the whole split and `config.limit` the run's --limit.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from datetime import datetime
from pathlib import Path

from vold_bench.errors import VoldError


def _read_run(run_dir: Path) -> tuple[dict, list[dict]]:
    res_path, smp_path = run_dir / "results.json", run_dir / "samples.jsonl"
    for p in (res_path, smp_path):
        if not p.is_file():
            raise VoldError(f"{p}: not found (is {run_dir} a `vold eval` output folder?)")
    try:
        results = json.loads(res_path.read_text())
    except json.JSONDecodeError as e:
        raise VoldError(f"{res_path}: not valid JSON ({e})") from None
    for key in ("bench", "split", "model", "accuracy", "n"):
        if key not in results:
            raise VoldError(f"{res_path}: missing key {key!r}")
    samples, lines = [], smp_path.read_text().splitlines()
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            samples.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines):  # a torn last line from a killed run: that item was never done
                continue
            raise VoldError(f"{smp_path}:{i}: not valid JSON") from None
    return results, samples


def sanitize_model_name(model: str) -> str:
    # lmms-eval's rule: the last two path parts, with characters unsafe in file names -> "__"
    last_two = "/".join(model.rstrip("/").split("/")[-2:])
    return re.sub(r"[\"<>:/\|\\?\*\[\]]+", "__", last_two)


def _stderr(values: list[float]) -> float | str:
    n = len(values)
    if n < 2:
        return "N/A"
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) / math.sqrt(n)


def _date_id(results: dict) -> str:
    # lmms-eval's file stamp (utils.get_datetime_str): %Y%m%d_%H%M%S
    stamp = str(results.get("created") or datetime.now().isoformat(timespec="seconds"))
    digits = re.sub(r"\D", "", stamp)[:14]
    return f"{digits[:8]}_{digits[8:14]}"


def _lmms_results(results: dict, task: str, acc: list[float], parsed: list[float], n_samples: int,
                  date_id: str) -> dict:
    """The `<date>_results.json` of lmms-eval for one task, from our results.json."""
    from vold_bench.lmms_bridge import SCORE_KEY

    gen = results.get("generation") or {}
    dataset = results.get("dataset") or {}
    return {
        "results": {task: {"alias": task,
                           "vold_accuracy,none": results["accuracy"],
                           "vold_accuracy_stderr,none": _stderr(acc),
                           "vold_parse_rate,none": results.get("parse_rate"),
                           "vold_parse_rate_stderr,none": _stderr(parsed),
                           "vold_score,none": round(sum(a / 100 for a in acc) / len(acc), 6) if acc else 0.0,
                           "vold_score_stderr,none": _stderr([a / 100 for a in acc])}},
        "group_subtasks": {task: []},
        "configs": {task: {"task": task, "dataset_path": dataset.get("source"),
                           "dataset_kwargs": {"revision": dataset.get("revision")},
                           "output_type": "generate_until",
                           "generation_kwargs": gen, "score_key": SCORE_KEY,
                           "metadata": {"version": 1.0, "scorer": results.get("scorer"),
                                        "scorer_version": results.get("scorer_version"),
                                        "prompt_variant": results.get("prompt_variant"),
                                        "exported_from": "vold"}}},
        "versions": {task: 1.0},
        "n-shot": {task: 0},
        "higher_is_better": {task: {"vold_accuracy": True, "vold_parse_rate": True, SCORE_KEY: True}},
        # original: the whole split (results.json's split_size; older runs lack it, then n)
        "n-samples": {task: {"original": results.get("split_size") or results["n"], "effective": n_samples}},
        "config": {"model": f"vold:{results.get('backend', '?')}",
                   "model_args": f"pretrained={results['model']}", "batch_size": gen.get("batch_size"),
                   "limit": results.get("limit"), "gen_kwargs": gen},
        "git_hash": results.get("git_sha"),
        "date": date_id,
        "model_name": results["model"],
        "model_name_sanitized": sanitize_model_name(results["model"]),
    }


def _lmms_sample(s: dict, i: int, acc: float, parsed: float) -> dict:
    """One line of lmms-eval's samples file for our sample `s`, the i-th of the run."""
    from vold_bench.lmms_bridge import SCORE_KEY

    # lmms-eval's doc_id is the place in the split; `vold eval` samples are a prefix of it
    pos = (s.get("meta") or {}).get("split_position", i)
    return {"doc_id": pos, "target": str(s.get("gold")), "input": s.get("prompt"),
            "filtered_resps": s.get("response") or "",
            "doc_hash": hashlib.sha256(str(s.get("id")).encode()).hexdigest(),
            "vold_accuracy": acc, "vold_parse_rate": parsed, SCORE_KEY: acc / 100,
            # what lmms-eval's own samples lack: the audit trail of our scorer
            "vold": {k: s.get(k) for k in ("id", "extracted", "parse_status", "gen_tokens", "error")}}


def export_run(run_dir: str | Path, out_dir: str | Path) -> tuple[Path, Path]:
    from vold_bench.lmms_bridge import lmms_name

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    results, samples = _read_run(run_dir)
    task = lmms_name(results["bench"], results["split"])
    acc = [100.0 * bool(s.get("correct")) for s in samples]
    parsed = [100.0 * (s.get("parse_status") == "ok") for s in samples]
    date_id = _date_id(results)
    dest = out_dir / sanitize_model_name(results["model"])
    dest.mkdir(parents=True, exist_ok=True)
    res_out = dest / f"{date_id}_results.json"
    smp_out = dest / f"{date_id}_samples_{task}.jsonl"
    with open(smp_out, "w", encoding="utf-8") as f:
        for i, s in enumerate(samples):
            f.write(json.dumps(_lmms_sample(s, i, acc[i], parsed[i]), ensure_ascii=False, default=str) + "\n")
    lmms_results = _lmms_results(results, task, acc, parsed, len(samples), date_id)
    res_out.write_text(json.dumps(lmms_results, indent=2, ensure_ascii=False, default=str))
    return res_out, smp_out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m vold_bench.export RUN_DIR OUT_DIR")
    try:
        for p in export_run(sys.argv[1], sys.argv[2]):
            print(p)
    except VoldError as e:
        sys.exit(f"error: {e}")
