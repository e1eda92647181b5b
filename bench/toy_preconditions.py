"""The paper's preconditions on the toy world, each printed with its number and PASS/FAIL.

    python bench/toy_preconditions.py [--root results/runs] [--seeds 0 1 2 3 4] [--student toy-student]

Reads what `python bench/toy_ablation.py` left under --root (greedy answers to all 300 test
items per form, `samples.jsonl`), evaluating the base student and the teacher there first if
they are missing. The cold start is the sft-only run of each seed (the same traces + SFT every
cold-started variant starts from). --student names the base student when the ablation ran with
`--set sft.model=X` (give the same X). Definitions: vold_train/toy/preconditions.py.
"""
from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

from toy_ablation import LOW_REF, VARIANTS, evaluate, lr_label

from vold_train.toy import preconditions as pc
from vold_train.toy import resolve_model

RL_VARIANTS = [v for v in VARIANTS if v != "sft-only"]


def _runs(root: Path, variant: str, seeds, form: str) -> list[dict]:
    sub = "eval-toy" if form == "image" else "eval-toy-text"
    return [pc.answers(root / f"{variant}-s{s}" / sub) for s in seeds]


def _mean_levels(runs: list[dict], fn) -> dict[int, float]:
    per = [fn(r) for r in runs]
    return {lv: statistics.mean(d[lv] for d in per) for lv in per[0]}


def checks(root: Path, seeds: list[int], student_name: str = "toy-student") -> list[pc.Check]:
    student, teacher = resolve_model(student_name), resolve_model("toy-teacher")
    for name, model, bench in (("base-student", student, "toy"), ("base-student", student, "toy-text"),
                               ("base-teacher", teacher, "toy-text")):
        evaluate(model, root / name / f"eval-{bench}", None, bench)
    base_img = pc.answers(root / "base-student" / "eval-toy")
    base_txt = pc.answers(root / "base-student" / "eval-toy-text")
    teach_txt = pc.answers(root / "base-teacher" / "eval-toy-text")
    out = []

    r0 = pc.reading(base_img)
    out.append(pc.Check("P0 perception", min(r0.values()) >= 90,
                        f"base student's restated quantities on image problems: {pc.fmt_levels(r0)} (>= 90 each)"))
    ai, at = pc.accuracy(base_img), pc.accuracy(base_txt)
    weak = max(ai[2], ai[3], at[2], at[3])
    out.append(pc.Check("P1 weak reasoning", weak <= 20,
                        f"base student's accuracy, image {pc.fmt_levels(ai)}; text {pc.fmt_levels(at)} "
                        f"(L2, L3 <= 20 in both forms)"))

    cold_txt = _runs(root, "sft-only", seeds, "text")
    cold_dir = str(root / f"sft-only-s{seeds[0]}" / "sft" / "final")  # under --root, wherever it was trained
    kl_base = pc.exact_teacher_kl(student, teacher, base_txt)
    kl_cold = pc.exact_teacher_kl(cold_dir, teacher, cold_txt[0])
    out.append(pc.Check("P2 its own style", kl_base >= 3 * kl_cold,
                        f"exact teacher reverse KL per token on greedy text answers: base {kl_base:.3f}, "
                        f"cold-started (seed {seeds[0]}) {kl_cold:.3f}, "
                        f"ratio {kl_base / max(kl_cold, 1e-9):.1f} (>= 3)"))

    # GRPO at a lower lr (stop 18's second reference) joins when its runs are there
    extra = [LOW_REF] if all((root / f"{LOW_REF}-s{s}" / "eval-toy-text").exists() for s in seeds) else []
    trained = {v: (_runs(root, v, seeds, "image"), _runs(root, v, seeds, "text"))
               for v in ["sft-only", *RL_VARIANTS, *extra]}  # read once, used by P3 and P4
    rows, worst = [], math.inf
    for v, (img_runs, _) in trained.items():
        rd = _mean_levels(img_runs, pc.reading)
        worst = min(worst, min(rd.values()))
        rows.append(f"{v}: {pc.fmt_levels(rd)}")
    out.append(pc.Check("P3 perception survives", worst >= 85,
                        "reading after the cold start (sft-only) and RL, seed mean: " + "; ".join(rows)
                        + " (>= 85 each)"))

    gaps, rows = [], []
    for v, (img_runs, txt_runs) in trained.items():
        for img, txt in zip(img_runs, txt_runs):
            gi, gt, n = pc.transfer_gap(img, txt)
            gaps.append((v, gi - gt, n))
        vg = [g for name, g, n in gaps if name == v and n]
        rows.append(f"{v} {statistics.mean(vg):+.1f}" if vg else f"{v}: no item read right")
    # a run that read no image item right has no transfer to measure: it fails the check
    worst_gap = max(abs(g) if n else math.inf for _, g, n in gaps)
    out.append(pc.Check("P4 transfer", worst_gap <= 5,
                        "image minus text accuracy on the items read right, seed mean: " + ", ".join(rows)
                        + (f"; worst single run {worst_gap:.1f}" if worst_gap < math.inf
                           else "; a run read no item right")
                        + " (|gap| <= 5)"))

    restate = statistics.mean(pc.restated_share(r) for r in cold_txt)
    ct, tt = _mean_levels(cold_txt, pc.accuracy), pc.accuracy(teach_txt)
    room = min(tt[2] - ct[2], tt[3] - ct[3])
    out.append(pc.Check("P5 learns its teacher", restate >= 95 and room >= 20,
                        f"after the cold start: restates text numbers {restate:.1f}% (>= 95); text "
                        f"{pc.fmt_levels(ct)} vs teacher {pc.fmt_levels(tt)}: room {room:.1f} pts (>= 20)"))

    # P7 again for GRPO at the lower lr, when it was trained
    for name, v in (("P6 distillation is informative", "opd-only"), ("P7 RL has teeth", "grpo-only"),
                    *[(f"P7 RL has teeth, GRPO at lr {lr_label(x)}", x) for x in extra]):
        t = pc.paired(cold_txt, trained[v][1])  # the same 300 item ids in every run: never None
        out.append(pc.Check(name, t.diff > 0 and t.p_value < 0.05,
                            f"{v} - sft-only on toy-text, {t.n} items over {len(seeds)} seeds: "
                            f"{t.diff:+.1f} pts [{t.ci_low:+.1f}, {t.ci_high:+.1f}], McNemar p {t.p_value:.3g}"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="results/runs")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--out", default="", help="also write the lines to this file")
    ap.add_argument("--student", default="toy-student",
                    help="the base student: the ablation's sft.model (a toy name or a model folder)")
    a = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    lines = [c.line() for c in checks(Path(a.root), a.seeds, a.student)]
    print("\n".join(lines))
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
