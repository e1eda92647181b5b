"""A toy problem generator for prompt curation (R-Diverse, arXiv 2602.13103).

It proposes fresh text-form problems, each carrying its exact *skill composition*: the
picture skill, the level and how many times each operation is used. R-Diverse measures
similarity by the skill a problem exercises (in the paper, an embedding of a canonical solver
program); here the generator knows it exactly, so curation needs no embedding model.
"""
from __future__ import annotations

import random

from vold_bench.schema import Item
from vold_bench.toy import world


def composition(p: world.Problem) -> dict[str, float]:
    """Skill composition as counts: {"skill:cards": 1, "level:2": 1, "op:+": 1, "op:*": 1}."""
    comp = {f"skill:{p.skill}": 1.0, f"level:{p.level}": 1.0}
    for _, op, _, _ in p.steps:
        comp[f"op:{op}"] = comp.get(f"op:{op}", 0.0) + 1.0
    return comp


def propose(n: int, seed: int, step: int, skills=world.SKILLS, levels=world.LEVELS) -> list[Item]:
    """`n` new text-form problems for RL step `step` (the same (seed, step) gives the same
    problems, so a resumed run proposes what the killed one would have). Never a test problem."""
    rng = random.Random(f"{world.STREAM_TAG}:propose:{seed}:{step}")
    test, out, j = world._test_keys(), [], 0
    while len(out) < n:
        p = world.make_problem(f"gen-s{seed}-{step:05d}-{j:03d}", rng.choice(skills), rng.choice(levels), rng)
        j += 1
        if p.key() in test:
            continue
        it = world.to_item(p, "text")
        it.meta.update({"composition": composition(p), "scorer": "toy"})
        out.append(it)
    return out
