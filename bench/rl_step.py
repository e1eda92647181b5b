"""Time of one RL step (rollout + reward + teacher scoring + update), side by side in one run:

  1. distillation overhead: VOLD step (GRPO + k2 distillation, teacher forward) against a
     GRPO-only step (beta = 0, no teacher), target <= 1.3;
  2. vold against TRL's GRPOTrainer (beta = 0) on the same student, prompts, batch and
     generation length, target vold / TRL <= 1.0. TRL runs in its own interpreter
     (VOLD_TRL_PYTHON, default /work/venv-trl/bin/python) and is skipped if absent.

Rollouts have a fixed length (min_new_tokens = max_new_tokens) so every run generates the same
number of tokens. Each configuration runs `--steps` steps; the first is warm-up and dropped,
the figure is the median of the rest over `--rounds` alternating rounds. Uses the shipped toy models if present, else random-init
tiny ones of the same architecture.

    python bench/rl_step.py [--prompts 8 --group 4 --tokens 48 --steps 4]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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
            f"rl.max_new_tokens={a.tokens}", f"rl.min_new_tokens={a.tokens}", f"rl.beta={beta}",
            f"rl.teacher_metrics={beta > 0}", f"rl.micro_batch={a.prompts * a.group}",
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

    trl_py = os.environ.get("VOLD_TRL_PYTHON", "/work/venv-trl/bin/python")
    probe = subprocess.run([trl_py, "-c", "import trl"], capture_output=True) if Path(trl_py).exists() else None
    if probe is None or probe.returncode != 0:
        print(f"TRL: skipped (no interpreter with trl at {trl_py}; set VOLD_TRL_PYTHON)")
        return
    cmd = [trl_py, str(HERE / "_trl_grpo_step.py"), "--student", student, "--prompts", str(a.prompts),
           "--group", str(a.group), "--tokens", str(a.tokens), "--steps", str(a.steps),
           "--threads", str(a.threads), "--out", str(tmp / "trl")]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        print("TRL run failed:\n" + res.stderr[-3000:])
        return
    trl = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"TRL {trl['version']} GRPOTrainer step {trl['step_s']:6.2f} s "
          f"({trl['tokens_per_rollout']:.0f} tokens/rollout)")
    print(f"vold grpo-only / TRL = {med(grpo, 'step_s') / trl['step_s']:.3f} (target <= 1.0); "
          f"vold (with distillation) / TRL = {med(vold, 'step_s') / trl['step_s']:.3f}")


if __name__ == "__main__":
    main()
