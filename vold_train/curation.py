"""R-Diverse prompt curation for the RL stage (arXiv 2602.13103).

Not a loss: it decides which prompts each RL step trains on, so that across steps the
student keeps meeting problems of *different skills* instead of drifting onto a few it
already half-solves. Per step:
  1. propose a pool of new candidate prompts (the toy generator, or the next slice of a file);
  2. penalise each candidate against a persistent memory of past useful prompts
        mem_pen = 0.5 * [max_sim - 0.5]+ + 0.5 * [mean_sim - 0.25]+
     and against the prompts already picked for this batch (within-batch repetition);
  3. fill 30% of the batch by replaying memory, the rest greedily with the least-penalised
     candidates;
  4. after the rollouts, a prompt solved 30-80% of the time was useful (neither trivial nor
     hopeless): it joins the memory.
Similarity is cosine over skill vectors. The toy world knows each problem's skill
composition exactly; for real data the embedder is a pluggable name in EMBEDDERS.

rl.train asks `prompt_source(...)` for its prompts: a Curator with rl.family.curation=r-diverse,
else a Stream of the loaded problems in order; both answer next_batch and after_step.
"""
from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vold_bench.errors import VoldError
from vold_bench.schema import Item

Vec = dict[str, float]  # sparse skill vector


def toy_skill(item: Item) -> Vec:
    """The toy generator's exact skill composition (vold_train/toy/generator.py)."""
    comp = item.meta.get("composition")
    if comp is None:  # a toy item not made by the generator: skill and level only
        comp = {f"skill:{item.meta.get('skill')}": 1.0, f"level:{item.meta.get('level')}": 1.0}
    return dict(comp)


def bag_of_words(item: Item) -> Vec:
    """Hashed bag of words of the question: a weak stand-in for the paper's embedding of a
    canonical solver program, for data that carries no skill labels. Replace it by
    registering a better embedder here."""
    v: Vec = {}
    for w in re.findall(r"[a-z]+|[^\sa-z0-9]", item.question.lower()):
        k = hashlib.blake2s(w.encode(), digest_size=4).hexdigest()
        v[k] = v.get(k, 0.0) + 1.0
    return v


EMBEDDERS: dict[str, Callable[[Item], Vec]] = {"toy-skill": toy_skill, "bow": bag_of_words}


def cosine(a: Vec, b: Vec) -> float:
    dot = sum(x * b.get(k, 0.0) for k, x in a.items())
    na, nb = math.sqrt(sum(x * x for x in a.values())), math.sqrt(sum(x * x for x in b.values()))
    return dot / (na * nb) if na > 0 and nb > 0 else 0.0


def memory_penalty(sims: list[float], max_margin: float = 0.5, mean_margin: float = 0.25) -> float:
    """0.5 * [max_sim - 0.5]+ + 0.5 * [mean_sim - 0.25]+ ; 0 against an empty memory."""
    if not sims:
        return 0.0
    return 0.5 * max(max(sims) - max_margin, 0.0) + 0.5 * max(sum(sims) / len(sims) - mean_margin, 0.0)


def repetition_penalty(sims: list[float], threshold: float = 0.9) -> float:
    """Share of the prompts already in the batch that exercise (nearly) the same skills.
    The paper penalises repeats inside a batch; the 0.9 threshold is our choice."""
    return sum(s >= threshold for s in sims) / len(sims) if sims else 0.0


@dataclass
class Curator:
    """Picks each RL step's prompts; `memory` persists in `path` (jsonl, one useful prompt a line)."""
    propose: Callable[[int, int], list[Item]]   # (n, step) -> candidate prompts
    embed: Callable[[Item], Vec]
    path: Path
    replay_frac: float = 0.3
    pool_factor: int = 4        # candidates proposed per batch slot
    solved_low: float = 0.3     # "useful" = solved in [solved_low, solved_high] of the rollouts
    solved_high: float = 0.8
    capacity: int = 1024        # oldest useful prompts drop out first
    seed: int = 0

    def __post_init__(self):
        self.memory: list[dict] = []
        if self.path.exists():
            self.memory = [json.loads(ln) for ln in self.path.read_text().splitlines() if ln.strip()]

    def rewind(self, step: int) -> None:
        """Forget what was added after `step` (a resumed run replays those steps)."""
        self.memory = [m for m in self.memory if m["step"] <= step]
        self._save()

    def next_batch(self, n: int, step: int) -> tuple[list[Item], dict]:
        rng = random.Random(f"rdiverse:{self.seed}:{step}")
        n_replay = min(round(self.replay_frac * n), len(self.memory))
        picked = [_item(m) for m in rng.sample(self.memory, n_replay)]
        mem_vecs = [m["vec"] for m in self.memory]
        pool = self.propose(n * self.pool_factor, step)
        vecs = [self.embed(c) for c in pool]
        mem_pen = [memory_penalty([cosine(v, m) for m in mem_vecs]) for v in vecs]
        chosen_vecs = [self.embed(it) for it in picked]
        free = list(range(len(pool)))
        rng.shuffle(free)  # ties go to a random candidate, not the first proposed
        pens = []
        while len(picked) < n and free:
            best = min(free, key=lambda i: mem_pen[i] + repetition_penalty([cosine(vecs[i], c) for c in chosen_vecs]))
            pens.append(mem_pen[best])
            free.remove(best)
            picked.append(pool[best])
            chosen_vecs.append(vecs[best])
        sims = [cosine(a, b) for i, a in enumerate(chosen_vecs) for b in chosen_vecs[i + 1:]]
        stats = {"replay_frac": n_replay / n, "memory_size": len(self.memory),
                 "mem_penalty": sum(pens) / max(len(pens), 1),
                 "batch_sim": sum(sims) / max(len(sims), 1)}
        return picked, stats

    def after_step(self, batch: list[Item], rewards, group_size: int, step: int) -> dict:
        """Step `step` (0-based) is done: remember its useful prompts."""
        rates = rewards.view(-1, group_size).mean(-1).tolist()
        return {"memory_added": self.update(batch, rates, step + 1)}

    def update(self, batch: list[Item], solve_rates: list[float], step: int) -> int:
        """Add the useful prompts of this step to the memory; returns how many were added."""
        known = {m["id"] for m in self.memory}
        added = 0
        for it, rate in zip(batch, solve_rates):
            if self.solved_low <= rate <= self.solved_high and it.id not in known:
                self.memory.append({"id": it.id, "question": it.question, "gold": it.gold,
                                    "answer_type": it.answer_type, "meta": _jsonable(it.meta),
                                    "vec": self.embed(it), "solve_rate": rate, "step": step})
                known.add(it.id)
                added += 1
        self.memory = self.memory[-self.capacity:]
        self._save()
        return added

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(m) + "\n" for m in self.memory))
        tmp.replace(self.path)


def _item(m: dict) -> Item:
    return Item(id=m["id"], question=m["question"], gold=m["gold"], answer_type=m["answer_type"],
                meta=dict(m["meta"]))


def _jsonable(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool, dict, list, type(None)))}


def make_curator(data: str, embedder: str, path: Path, seed: int, split: str = "train") -> Curator:
    """Candidates from the toy generator (data "toy") or the problem file in order."""
    if embedder not in EMBEDDERS:
        raise VoldError(f"rl.family.curation_embed {embedder!r} unknown; valid: {', '.join(EMBEDDERS)}")
    if data == "toy":
        from vold_train.toy.generator import propose as gen

        def propose(n: int, step: int) -> list[Item]:
            return gen(n, seed, step)
    else:
        from vold_train.data import load_problems

        def propose(n: int, step: int) -> list[Item]:
            return load_problems(data, split, n * (step + 1), seed)[n * step:]
    return Curator(propose=propose, embed=EMBEDDERS[embedder], path=path, seed=seed)


@dataclass
class Stream:
    """The prompts of a run without curation: the loaded problems, P at a time, in order.

    `prompt_revisit_frac` (logged every step) is the share of the step's prompts whose question
    an earlier prompt of the run already asked. A "fresh" toy stream is not all fresh: the toy
    world's small cells (rect problems, cards L1) hold few problems outside the test set, and
    the stream draws them again and again (docs/toy-world.md, "Stop 27")."""
    problems: list[Item]

    def __post_init__(self):
        first: dict[str, int] = {}
        self.revisit = [first.setdefault(p.question, i) < i for i, p in enumerate(self.problems)]

    def next_batch(self, n: int, step: int) -> tuple[list[Item], dict]:
        lo, hi = step * n, min((step + 1) * n, len(self.problems))
        frac = sum(self.revisit[lo:hi]) / (hi - lo) if hi > lo else 0.0
        return self.problems[lo:hi], {"prompt_revisit_frac": frac}

    def after_step(self, batch: list[Item], rewards, group_size: int, step: int) -> dict:
        return {}


def prompt_source(cfg, problems: list[Item], stage_dir: Path, start: int):
    """Where rl.train's prompts come from; `start` is the step the run resumes at."""
    if cfg.family.curation == "none":
        return Stream(problems)
    cur = make_curator(cfg.data, cfg.family.curation_embed, stage_dir / "rdiverse_memory.jsonl", cfg.seed, cfg.split)
    cur.replay_frac = cfg.family.replay_frac
    cur.rewind(start)
    return cur
