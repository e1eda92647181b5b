"""Where a toy student's reasoning chain goes wrong, and where the teacher disagrees with it.

    python bench/toy_chain_probe.py RUN [RUN ...] [--kl] [--teacher toy-teacher]

RUN: a run folder of bench/toy_ablation.py (its eval-toy-text/samples.jsonl and its final
model, from run.json), or MODEL=EVAL_DIR for any other pair (toy-student=results/runs/
base-student/eval-toy-text). For each run it prints, over its greedy answers to the toy-text
test items (vold_train/toy/chains.py):

  carries    each later step's left operand against the previous step's result: exact,
             near (within 2: recomputed, not copied), one of the problem's quantities, other
  sums       steps whose own arithmetic is right
  boxed=last answers whose boxed value is their last step's result
  right, other chain   right answers to multi-step items whose step lines are not the
             problem's own steps (a wrong line the answer did not depend on, or a lucky one)
  first wrong step     wrong multi-step answers by skill and level, by where each first
             leaves the problem's chain (short, operand<k>, carry<k>, sum<k>, boxed): a slip
             many items share shows up as one large class

With --intervene, an intervention instead of an observation: on each multi-step test item
the model continues (greedy) an answer that restates the quantities and writes the first step
with its result one off (`8 + 2 = 11.`, vold_train/toy/chains.corrupted_prefix). A model whose
answer comes from its written chain carries 11 and answers what 11 leads to ("follows"); one
that computes the answer beside its chain answers the true one ("gold"). On-policy RL can only
credit a chain that the answer depends on. `--intervene` also runs the teacher.

With --kl, the teacher's exact reverse KL(student || teacher) at each completion token of the
same answers (nats per token), split by the role of the token: restated quantity, step operand,
carry, step result, boxed answer, other (format and words). A role's share is its part of the
summed KL: what on-policy distillation's signal is made of.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from vold_bench.errors import VoldError
from vold_train.toy import chains, resolve_model
from vold_train.toy import preconditions as pc


def _pair(run: str) -> tuple[str, Path]:
    if "=" in run:
        model, evals = run.split("=", 1)
        return resolve_model(model), Path(evals)
    info = Path(run) / "run.json"
    if not info.exists():
        raise VoldError(f"{info}: not a run folder (give MODEL=EVAL_DIR instead)")
    return json.loads(info.read_text())["final_model"], Path(run) / "eval-toy-text"


def chain_line(samples: dict[str, dict]) -> str:
    pairs = [(s["response"], list(pc.test_problem(i).values.values())) for i, s in samples.items()]
    c = chains.chain_counts(pairs)
    pct = lambda k, of: 100.0 * c[k] / max(c[of], 1)  # noqa: E731
    acc = 100.0 * sum(s["correct"] for s in samples.values()) / len(samples)
    deep = [(s["response"], pc.test_problem(i)) for i, s in samples.items()
            if s["correct"] and pc.test_problem(i).level > 1]
    other = sum([(st.a, st.op, st.b, st.c) for st in chains.steps(r)] != p.steps for r, p in deep)
    carries = ", ".join(f"{k} {pct('carry_' + k, 'carries'):.0f}" for k in ("exact", "near", "quantity", "other"))
    return (f"acc {acc:.1f}  carries (n={c['carries']}) %: {carries}  "
            f"sums right {pct('sum_ok', 'steps'):.0f}% of {c['steps']} steps  "
            f"boxed=last {pct('boxed_is_last', 'boxed_seen'):.0f}%  "
            f"right, other chain {100.0 * other / max(len(deep), 1):.0f}% of {len(deep)}")


def first_wrong_line(samples: dict[str, dict]) -> str:
    """Wrong multi-step answers by skill and level, each by where it first leaves the problem's
    chain (chains.first_wrong_step), the three largest classes."""
    by: dict[tuple[str, int], Counter] = {}
    for i, s in samples.items():
        p = pc.test_problem(i)
        if p.level > 1 and not s["correct"]:
            by.setdefault((p.skill, p.level), Counter())[chains.first_wrong_step(s["response"], p)] += 1
    return "; ".join(f"{skill} L{lv}: " + ", ".join(f"{k} {n}" for k, n in c.most_common(3))
                     + f" (of {sum(c.values())})" for (skill, lv), c in sorted(by.items()))


def kl_lines(model: str, teacher: str, samples: dict[str, dict]) -> list[str]:
    total, count = defaultdict(float), defaultdict(int)
    for response, offsets, kl in pc.per_token_teacher_kl(model, teacher, samples):
        for role, v in zip(chains.token_roles(response, offsets), kl):
            total[role] += v
            count[role] += 1
    whole = sum(total.values())
    n = sum(count.values())
    out = [f"  exact teacher KL {whole / n:.3f} nats/token over {n} tokens"]
    for role in sorted(total, key=total.get, reverse=True):
        out.append(f"    {role:9s} {count[role]:6d} tokens  mean {total[role] / count[role]:7.3f}  "
                   f"share {100.0 * total[role] / whole:5.1f}%")
    return out


def _greedy_boxed(model, tok, rows: list[list[int]], batch: int = 32) -> list[int | None]:
    """The boxed answer of a greedy continuation of each row of prompt ids (None: no answer)."""
    import torch

    from vold_train.common import pad_left
    from vold_train.toy.check import boxed_int

    out = []
    with torch.no_grad():
        for i in range(0, len(rows), batch):
            ids, attn = pad_left(rows[i:i + batch], tok.pad_token_id)
            gen = model.generate(input_ids=ids, attention_mask=attn, do_sample=False, max_new_tokens=48,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
            out += [boxed_int(t) for t in tok.batch_decode(gen[:, ids.shape[1]:], skip_special_tokens=True)]
    return out


def intervene(model: str, kind: str, limit: int | None = None) -> tuple[dict[str, int], int, int]:
    """How often `model` (kind "student" or "teacher") follows a corrupted first step, over
    the multi-step toy-text test items (of the first `limit`) where following and not
    following give different answers: counts by `chains.follow_kind`, then how many it gets
    right from the same prefix with the step written right, of how many."""
    from vold_bench.toy import world
    from vold_train.common import load_model, load_tokenizer, student_prompt, teacher_prompt

    tok, m = load_tokenizer(model), load_model(model, kind).eval()
    prompt = student_prompt if kind == "student" else teacher_prompt
    enc = lambda text: tok(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    cases = [(p, cut) for p in world.problems("test")[:limit] if (cut := chains.corrupted_prefix(p))]
    questions = [prompt(tok, p.text_question()) for p, _ in cases]
    cut_answers = _greedy_boxed(m, tok, [q + enc(cut[0]) for q, (_, cut) in zip(questions, cases)])
    clean_answers = _greedy_boxed(m, tok, [q + enc(chains.chain_prefix(p)) for q, (p, _) in zip(questions, cases)])
    kinds = dict.fromkeys(("follows", "gold", "other"), 0)
    for boxed, (_, (_, followed, gold)) in zip(cut_answers, cases):
        kinds[chains.follow_kind(boxed, followed, gold)] += 1
    clean_right = sum(boxed == p.answer for boxed, (p, _) in zip(clean_answers, cases))
    return kinds, clean_right, len(cases)


def intervene_line(model: str, kind: str) -> str:
    kinds, clean_right, clean_n = intervene(model, kind)
    n = sum(kinds.values())
    shares = ", ".join(f"{k} {100.0 * kinds[k] / n:.0f}%" for k in ("follows", "gold", "other"))
    return (f"first step written one off, {n} items: {shares}; "
            f"written right: {100.0 * clean_right / max(clean_n, 1):.0f}% right")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--kl", action="store_true", help="the teacher's exact KL per token, by role")
    ap.add_argument("--teacher", default="toy-teacher")
    ap.add_argument("--intervene", action="store_true", help="does the answer follow a corrupted first step?")
    args = ap.parse_args()
    if args.intervene:
        teacher = resolve_model(args.teacher)
        print(f"{args.teacher} (teacher): {intervene_line(teacher, 'teacher')}")
    for run in args.runs:
        model, evals = _pair(run)
        samples = pc.answers(evals)
        print(f"{run}: {chain_line(samples)}")
        print(f"  first wrong step: {first_wrong_line(samples)}")
        if args.intervene:
            print(f"  {intervene_line(model, 'student')}")
        if args.kl:
            print("\n".join(kl_lines(model, resolve_model(args.teacher), samples)))


if __name__ == "__main__":
    main()
