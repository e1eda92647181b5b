"""Time of one RL step (rollout + reward + teacher scoring + update), side by side in one run:

  1. distillation overhead: VOLD step (GRPO + k2 distillation, teacher forward) against a
     GRPO-only step (beta = 0, no teacher), target <= 1.3;
  2. vold against TRL's GRPOTrainer (beta = 0) on the same student, prompts, batch and
     generation length, target vold / TRL <= 1.0. TRL runs in VOLD_TRL_PYTHON, else in this
     interpreter (trl comes with the dev extra, so `make setup` provides it), and is skipped
     if neither has it;
  3. the VOLD adapter for TRL (vold_train.trl_vold.VOLDGRPOTrainer, k2, beta 0.02, no mask) on
     the same settings: TRL's step plus VOLD's distillation, next to TRL's plain step and to
     vold's own VOLD step (TRL and adapter runs alternate over the rounds as well).

Rollouts have a fixed length (min_new_tokens = max_new_tokens) so every run generates the same
number of tokens. Each configuration runs `--steps` steps; the first is warm-up and dropped,
the figure is the median of the rest over `--rounds` alternating rounds. Uses the shipped toy models if present,
else random-init
tiny ones of the same architecture.

    python bench/rl_step.py [--prompts 8 --group 4 --tokens 48 --steps 4]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def models(tmp: Path) -> tuple[str, str, str]:
    from vold_train.toy import models_dir

    d = models_dir()
    if (d / "student" / "config.json").exists() and (d / "teacher" / "config.json").exists():
        return str(d / "student"), str(d / "teacher"), "shipped toy models"
    from vold_train.toy.models import make_tiny_pair

    s, t = make_tiny_pair(tmp / "pair")
    return s, t, "random-init tiny pair"


def vold_steps(student: str, teacher: str, a, beta: float, out: Path) -> list[dict]:
    from vold_train.run import train_recipe

    args = ["stages=rl", f"threads={a.threads}", f"rl.model={student}", f"rl.teacher={teacher}", f"rl.steps={a.steps}",
            f"rl.prompts_per_step={a.prompts}", f"rl.group_size={a.group}",
            f"rl.sampling.max_new_tokens={a.tokens}", f"rl.sampling.min_new_tokens={a.tokens}", f"rl.beta={beta}",
            f"rl.engine.teacher_metrics={beta > 0}", f"rl.engine.micro_batch={a.prompts * a.group}",
            f"rl.save_every={a.steps + 1}", "rl.kd_mask=none"]
    run = train_recipe("vold", args, out=out)
    return [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()][1:]


def med(recs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in recs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--group", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    tmp = Path(tempfile.mkdtemp(prefix="vold-bench-"))
    student, teacher, which = models(tmp)
    print(f"{which}; {a.prompts} prompts x {a.group} rollouts x {a.tokens} tokens, "
          f"{a.steps} steps (first dropped), {a.threads} threads")

    # The machine is shared: alternate short runs of the two configurations and compare
    # medians over all rounds, so a burst of outside load hits both alike.
    grpo, vold = [], []
    for k in range(a.rounds):
        grpo += vold_steps(student, teacher, a, 0.0, tmp / f"grpo{k}")
        vold += vold_steps(student, teacher, a, 0.02, tmp / f"vold{k}")
    for name, r in (("grpo-only", grpo), ("vold", vold)):
        print(f"{name:9s} step {med(r, 'step_s'):6.2f} s (min {min(x['step_s'] for x in r):.2f}) = "
              f"rollout {med(r, 'rollout_s'):.2f} + teacher {med(r, 'teacher_s'):.2f} + "
              f"train {med(r, 'train_s'):.2f}  ({med(r, 'resp_len'):.0f} tokens/rollout, n={len(r)})")
    print(f"distillation overhead: vold / grpo-only step = "
          f"{med(vold, 'step_s') / med(grpo, 'step_s'):.3f} median, "
          f"{min(x['step_s'] for x in vold) / min(x['step_s'] for x in grpo):.3f} min (target <= 1.3)")

    trl_py = trl_python()
    if trl_py is None:
        print("TRL: skipped (no interpreter with trl; pip install vold[trl] or set VOLD_TRL_PYTHON)")
        return
    compare_trl(trl_py, student, teacher, a, tmp, grpo, vold)


def compare_trl(trl_py: str, student: str, teacher: str, a, tmp: Path, grpo: list, vold: list) -> None:
    """TRL's GRPOTrainer and the VOLD adapter on top of it, alternated like the vold runs."""
    trl, adapter, runs = [], [], []
    for _ in range(a.rounds):
        for acc, extra in ((trl, []), (adapter, ["--teacher", teacher, "--vold-beta", "0.02"])):
            run = trl_step(trl_py, student, a, tmp / f"trl-{len(runs)}", extra)
            if run is None:
                return
            runs.append(run)
            acc += run["all_step_s"][1:]  # first step is warm-up
    tok = statistics.median(r["tokens_per_rollout"] for r in runs)
    t_trl, t_ad = statistics.median(trl), statistics.median(adapter)
    print(f"TRL {runs[0]['version']} GRPOTrainer step {t_trl:6.2f} s (min {min(trl):.2f}, n={len(trl)}); "
          f"TRL + VOLD adapter (VOLDGRPOTrainer, k2) step {t_ad:6.2f} s (min {min(adapter):.2f}, n={len(adapter)}) "
          f"({tok:.0f} tokens/rollout)")
    print(f"vold grpo-only / TRL = {med(grpo, 'step_s') / t_trl:.3f} (target <= 1.0); "
          f"vold (with distillation) / TRL + VOLD adapter = {med(vold, 'step_s') / t_ad:.3f}")
    print(f"adapter distillation overhead: TRL + VOLD adapter / TRL GRPO = {t_ad / t_trl:.3f} median, "
          f"{min(adapter) / min(trl):.3f} min")


def trl_python() -> str | None:
    """VOLD_TRL_PYTHON, else this interpreter if it has trl (`make setup` installs it with the
    dev extra; `pip install vold[trl]` elsewhere). No interpreter outside the repo is guessed."""
    candidates = [os.environ.get("VOLD_TRL_PYTHON"), sys.executable]
    for py in [c for c in candidates if c and Path(c).exists()]:
        if subprocess.run([py, "-c", "import trl"], capture_output=True).returncode == 0:
            return py
    return None


def trl_step(trl_py: str, student: str, a, out: Path, extra: list[str] = ()) -> dict | None:
    cmd = [trl_py, str(HERE / "_trl_grpo_step.py"), "--student", student, "--prompts", str(a.prompts),
           "--group", str(a.group), "--tokens", str(a.tokens), "--steps", str(a.steps),
           "--threads", str(a.threads), "--out", str(out), *extra]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        print("TRL run failed:\n" + res.stderr[-3000:])
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
