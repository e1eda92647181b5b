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

With --margin, at each wrong multi-step answer's first wrong number (chains.first_slip: a
carry, an operand, a sum or the box), the probability the student gives the number its chain
needs there and the one it wrote, given its own answer up to that point, and the same two for
the teacher (its own prompt, the same text). Per class of slip with at least 5 answers: the
median student probability of the right number (at temperature 1, the rollouts' sampling), the
share of slips where it is at least 0.1, and the teacher's median probability of the right
number and of the student's. A slip the student samples right often is one GRPO can credit;
one it almost never samples is left to the teacher's signal, which is large where the teacher
rules out what the student wrote. With --slips-from RUN the slips are RUN's (its answers,
its first wrong numbers) and each listed run's model scores them: how far an RL stage moved
the probability of the right number at its own cold start's slips. It also prints the items
each run gets right and RUN wrong, by RUN's first wrong step, and how many it loses.

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


def gained_line(before: dict[str, dict], after: dict[str, dict]) -> str:
    """The items `after` gets right and `before` wrong, by `before`'s first wrong step (L1 items
    as one class per skill), the six largest classes; then how many `after` loses."""
    gained: Counter = Counter()
    for i, s in before.items():
        if after[i]["correct"] and not s["correct"]:
            p = pc.test_problem(i)
            slip = chains.first_wrong_step(s["response"], p) if p.level > 1 else "one step"
            gained[f"{p.skill} L{p.level} {slip}"] += 1
    lost = sum(s["correct"] and not after[i]["correct"] for i, s in before.items())
    return (f"gained {sum(gained.values())}: " + ", ".join(f"{k} {n}" for k, n in gained.most_common(6))
            + f"; lost {lost}")


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


def _number_logps(model, tok, prompts: list[list[int]], cases: list[tuple[str, list[str], str]],
                  batch: int = 32) -> list[list[float]]:
    """log p of each candidate number after its prompt and `head` (an answer up to a number),
    over the tokens from the first that differs between candidates to the last that overlaps
    the number; `rest` (what follows the number) is there only so each text tokenizes as it
    does in a whole answer. cases: (head, candidates, rest)."""
    import torch

    rows, spans = [], []
    for prompt, (head, numbers, rest) in zip(prompts, cases):
        encs = [tok(head + n + rest, add_special_tokens=False, return_offsets_mapping=True) for n in numbers]
        ids = [prompt + e["input_ids"] for e in encs]
        common = min(next((k for k, col in enumerate(zip(*ids)) if len(set(col)) > 1), len(ids[0])),
                     *(len(r) for r in ids))
        for n, e, r in zip(numbers, encs, ids):
            end = len(prompt) + sum(a < len(head) + len(n) for a, _ in e["offset_mapping"])
            rows.append(r)
            spans.append((common, end))
    flat = []
    with torch.no_grad():
        for i in range(0, len(rows), batch):
            chunk = rows[i:i + batch]
            width = max(map(len, chunk))
            ids = torch.tensor([r + [tok.pad_token_id] * (width - len(r)) for r in chunk])
            attn = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in chunk])
            logp = torch.log_softmax(model(input_ids=ids, attention_mask=attn).logits.float(), -1)
            for k, r in enumerate(chunk):
                a, z = spans[i + k]
                flat.append(sum(logp[k, t - 1, r[t]].item() for t in range(a, z)))
    out, pos = [], 0
    for _, numbers, _ in cases:
        out.append(flat[pos:pos + len(numbers)])
        pos += len(numbers)
    return out


def margins(model: str, teacher: str, samples: dict[str, dict]) -> dict[str, list[tuple[float, float, float, float]]]:
    """{slip class with skill and level: [(student p right, student p written, teacher p right,
    teacher p written)]} over the wrong multi-step answers whose first slip is a number."""
    import math

    from vold_train.common import load_model, load_tokenizer, student_prompt, teacher_prompt

    cases = []
    for i, s in samples.items():
        p = pc.test_problem(i)
        if p.level > 1 and not s["correct"]:
            kind, span, value = chains.first_slip(s["response"], p)
            if span is not None:
                r = s["response"]
                cases.append((f"{p.skill} L{p.level} {kind}", p.text_question(),
                              (r[:span[0]], [str(value), r[span[0]:span[1]]], r[span[1]:])))
    probs = []
    for name, kind, prompt in ((model, "student", student_prompt), (teacher, "teacher", teacher_prompt)):
        tok, m = load_tokenizer(name), load_model(name, kind).eval()
        probs.append(_number_logps(m, tok, [prompt(tok, q) for _, q, _ in cases], [c for *_, c in cases]))
    out: dict[str, list] = defaultdict(list)
    for (label, _, _), (s_right, s_wrote), (t_right, t_wrote) in zip(cases, *probs):
        out[label].append(tuple(map(math.exp, (s_right, s_wrote, t_right, t_wrote))))
    return dict(out)


def margin_lines(model: str, teacher: str, samples: dict[str, dict], least: int = 5) -> list[str]:
    import statistics as st

    out = []
    for label, rows in sorted(margins(model, teacher, samples).items(), key=lambda kv: -len(kv[1])):
        if len(rows) >= least:
            sr, sw, tr, tw = zip(*rows)
            out.append(f"    {label:18s} n {len(rows):3d}  student p(right) median {st.median(sr):.3f}, "
                       f">= 0.1 in {100.0 * sum(x >= 0.1 for x in sr) / len(sr):3.0f}%, p(written) {st.median(sw):.3f}"
                       f"  teacher p(right) {st.median(tr):.3f}, p(written) {st.median(tw):.2g}")
    return out or [f"    no class of slip with {least} or more answers"]


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
    ap.add_argument("--margin", action="store_true", help="student and teacher probabilities at each first slip")
    ap.add_argument("--slips-from", metavar="RUN", help="--margin at this run's slips (e.g. the cold start)")
    ap.add_argument("--teacher", default="toy-teacher")
    ap.add_argument("--intervene", action="store_true", help="does the answer follow a corrupted first step?")
    args = ap.parse_args()
    if args.intervene:
        teacher = resolve_model(args.teacher)
        print(f"{args.teacher} (teacher): {intervene_line(teacher, 'teacher')}")
    slips = pc.answers(_pair(args.slips_from)[1]) if args.slips_from else None  # read once for every run
    for run in args.runs:
        model, evals = _pair(run)
        samples = pc.answers(evals)
        print(f"{run}: {chain_line(samples)}")
        print(f"  first wrong step: {first_wrong_line(samples)}")
        if args.intervene:
            print(f"  {intervene_line(model, 'student')}")
        if args.kl:
            print("\n".join(kl_lines(model, resolve_model(args.teacher), samples)))
        if args.margin:
            if slips is not None:
                print(f"  against {args.slips_from}: {gained_line(slips, samples)}")
            print(f"  at the first slip of {args.slips_from or 'its own answers'} (median probabilities):")
            print("\n".join(margin_lines(model, resolve_model(args.teacher), samples if slips is None else slips)))


if __name__ == "__main__":
    main()
