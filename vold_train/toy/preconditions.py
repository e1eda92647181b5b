"""The paper's preconditions, measured on the toy world (bench/toy_preconditions.py prints them).

VOLD's claim only means something where its preconditions hold: the student perceives (P0),
reasons weakly (P1), answers in a style of its own (P2), keeps its perception under text-only
training (P3), transfers what it reasons on text to what it reads (P4), can learn its teacher
(P5), and both on-policy distillation (P6) and RL (P7) can move it. Each check here reads the
greedy answers the harness saved (`samples.jsonl` of `vold eval --bench toy` / `toy-text`), so
the same files back the ablation table and these lines.

Reading is checked from the answer itself: every toy style states the quantities as
`NAME = value` before it reasons, and a restatement is right when every quantity is there with
its value.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from vold_bench.toy import world


@dataclass
class Check:
    name: str
    ok: bool
    text: str

    def line(self) -> str:
        return f"{self.name} {'PASS' if self.ok else 'FAIL'}  {self.text}"


@lru_cache(maxsize=1)
def _test_by_id() -> dict[str, world.Problem]:
    return {f"toy-{p.uid}": p for p in world.problems("test")}


def test_problem(item_id: str) -> world.Problem:
    """The test problem behind a toy item id (both forms share it: toy-test-NNNN)."""
    return _test_by_id()[item_id]


def restated_ok(response: str, p: world.Problem) -> bool:
    """Every quantity of `p` is stated with its value (first statement per name counts)."""
    got = world.parse_transcription(response or "")
    return all(got.get(k) == v for k, v in p.values.items())


def answers(eval_dir: Path) -> dict[str, dict]:
    """{item id: sample} of a finished harness run, read only (metrics.recover_samples repairs
    a torn file in place, which an analysis must not do); a missing file is an error naming it."""
    from vold_bench.errors import VoldError, json_object

    path = Path(eval_dir) / "samples.jsonl"
    if not path.exists():
        raise VoldError(f"{path}: no samples (run bench/toy_ablation.py first)")
    out = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            s = json_object(line, f"{path} line {n}")
            out[s["id"]] = s
    return out


def by_level(samples: dict[str, dict], flag) -> dict[int, float]:
    """% of samples per level (1..3) for which flag(sample, problem) holds."""
    hits = defaultdict(list)
    for sid, s in samples.items():
        p = test_problem(sid)
        hits[p.level].append(bool(flag(s, p)))
    return {lv: 100.0 * sum(v) / len(v) for lv, v in sorted(hits.items())}


def reading(samples) -> dict[int, float]:
    return by_level(samples, lambda s, p: restated_ok(s["response"], p))


def accuracy(samples) -> dict[int, float]:
    return by_level(samples, lambda s, p: s["correct"])


def restated_share(samples) -> float:
    """% of all answers that state every quantity right (reading over every level at once)."""
    return 100.0 * sum(restated_ok(s["response"], test_problem(i)) for i, s in samples.items()) / len(samples)


def transfer_gap(image: dict[str, dict], text: dict[str, dict]) -> tuple[float, float, int]:
    """(image acc, text acc, n) on the image items the model read right, paired by problem."""
    # both forms of a problem share its id (toy-test-NNNN)
    ids = [i for i, s in image.items() if i in text and restated_ok(s["response"], test_problem(i))]
    if not ids:
        return float("nan"), float("nan"), 0
    img = 100.0 * sum(image[i]["correct"] for i in ids) / len(ids)
    txt = 100.0 * sum(text[i]["correct"] for i in ids) / len(ids)
    return img, txt, len(ids)


def fmt_levels(d: dict[int, float]) -> str:
    return " ".join(f"L{lv} {v:.1f}" for lv, v in d.items())


@torch.no_grad()
def per_token_teacher_kl(student_dir: str, teacher_dir: str, samples: dict[str, dict],
                         batch: int = 50) -> list[tuple[str, list[tuple[int, int]], list[float]]]:
    """Exact reverse KL(student || teacher) at each completion token, over the shared
    vocabulary, on the student's own saved answers to text problems: the student sees its chat
    prompt, the teacher its own text-only prompt, both score the same completion ids. One
    (response, character offsets of its tokens, KL per token) per answer; the closing
    end-of-text token comes last, with the empty offset (len, len)."""
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoTokenizer

    from vold_train.common import student_prompt, teacher_prompt
    from vold_train.logprobs import completion_hidden, full_reverse_kl
    from vold_train.rollout import joined

    tok = AutoTokenizer.from_pretrained(student_dir)
    ttok = AutoTokenizer.from_pretrained(teacher_dir)
    student = AutoModelForImageTextToText.from_pretrained(student_dir).eval()
    teacher = AutoModelForCausalLM.from_pretrained(teacher_dir).eval()
    V = min(len(tok), len(ttok))
    items = [(test_problem(i).text_question(), s["response"]) for i, s in samples.items()]
    out = []
    for b in range(0, len(items), batch):
        chunk = items[b:b + batch]
        encs = [tok(r, add_special_tokens=False, return_offsets_mapping=True) for _, r in chunk]
        comps = [e["input_ids"] + [tok.eos_token_id] for e in encs]
        width = max(map(len, comps))
        completion = torch.tensor([c + [tok.pad_token_id] * (width - len(c)) for c in comps])
        mask = torch.tensor([[1.0] * len(c) + [0.0] * (width - len(c)) for c in comps])
        s_ids, s_attn = joined([student_prompt(tok, q) for q, _ in chunk], completion, mask, tok.pad_token_id)
        t_ids, t_attn = joined([teacher_prompt(ttok, q) for q, _ in chunk], completion, mask, ttok.pad_token_id)
        h = completion_hidden(student, s_ids, s_attn, width)
        th = completion_hidden(teacher, t_ids, t_attn, width)
        kl = full_reverse_kl(h, student.get_output_embeddings(), th, teacher.get_output_embeddings(), V)  # (B, T)
        for k, ((_, r), e) in enumerate(zip(chunk, encs)):
            offsets = [tuple(o) for o in e["offset_mapping"]] + [(len(r), len(r))]
            out.append((r, offsets, kl[k, :len(offsets)].tolist()))
    return out


def exact_teacher_kl(student_dir: str, teacher_dir: str, samples: dict[str, dict],
                     batch: int = 50) -> float:
    """`per_token_teacher_kl` averaged over every completion token (end-of-text included)."""
    per = per_token_teacher_kl(student_dir, teacher_dir, samples, batch)
    n_tok = sum(len(kl) for _, _, kl in per)
    return sum(sum(kl) for _, _, kl in per) / max(n_tok, 1)


def paired(a_runs: list[dict[str, dict]], b_runs: list[dict[str, dict]]):
    """vold_bench.stats.paired_test of b against a, items paired within a seed, pooled over seeds."""
    from vold_bench.stats import paired_test

    a = {f"s{k}:{i}": s["correct"] for k, run in enumerate(a_runs) for i, s in run.items()}
    b = {f"s{k}:{i}": s["correct"] for k, run in enumerate(b_runs) for i, s in run.items()}
    return paired_test(a, b)
