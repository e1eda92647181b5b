"""R-Diverse prompt curation (vold_train/curation.py) and the toy generator it curates."""
import math

import pytest

from vold_bench.errors import VoldError
from vold_bench.schema import Item
from vold_bench.toy import world
from vold_train.curation import (
    Curator,
    Stream,
    bag_of_words,
    cosine,
    make_curator,
    memory_penalty,
    repetition_penalty,
    toy_skill,
)
from vold_train.toy.generator import composition, propose


def _it(i, comp):
    return Item(id=f"q{i}", question=f"question {i}", gold="1", answer_type="integer",
                meta={"composition": comp})


A, B, C, D = ({"skill:a": 1.0}, {"skill:b": 1.0}, {"skill:c": 1.0}, {"skill:d": 1.0})


def test_memory_penalty_formula():
    assert memory_penalty([]) == 0.0
    assert memory_penalty([0.2, 0.1]) == 0.0  # below both margins
    assert math.isclose(memory_penalty([1.0, 0.0]), 0.5 * 0.5 + 0.5 * 0.25)
    assert math.isclose(memory_penalty([0.9, 0.9]), 0.5 * 0.4 + 0.5 * 0.65)
    assert repetition_penalty([1.0, 0.0, 0.95, 0.2]) == 0.5 and repetition_penalty([]) == 0.0


def test_cosine_on_skill_vectors():
    assert cosine(A, A) == 1.0 and cosine(A, B) == 0.0 and cosine({}, A) == 0.0
    assert math.isclose(cosine({"x": 1, "y": 1}, {"x": 1}), 1 / math.sqrt(2))


def _curator(tmp_path, pool_fn, **kw):
    return Curator(propose=pool_fn, embed=toy_skill, path=tmp_path / "mem.jsonl", **kw)


def test_batch_avoids_repeating_a_skill(tmp_path):
    # the pool is mostly skill A; greedy curation still takes each other skill once
    pool = [_it(i, A) for i in range(20)] + [_it(20, B), _it(21, C), _it(22, D)]
    cur = _curator(tmp_path, lambda n, step: pool)
    batch, st = cur.next_batch(4, step=0)
    assert sorted(next(iter(toy_skill(b))) for b in batch) == ["skill:a", "skill:b", "skill:c", "skill:d"]
    assert st["batch_sim"] == 0.0 and st["replay_frac"] == 0.0


def test_memory_steers_away_from_known_skills_and_is_replayed(tmp_path):
    pool = [_it(i, A) for i in range(10)] + [_it(100 + i, B) for i in range(10)]
    cur = _curator(tmp_path, lambda n, step: pool, pool_factor=1)
    added = cur.update([_it(200 + i, A) for i in range(6)] + [_it(300, B)],
                       [0.4, 0.6, 0.8, 0.3, 0.5, 0.5, 0.0], step=1)
    assert added == 6  # the unsolved B prompt is not useful
    batch, st = cur.next_batch(10, step=2)
    replayed = [b for b in batch if b.id.startswith("q2")]
    fresh = [b for b in batch if not b.id.startswith("q2")]
    assert len(replayed) == 3 and st["replay_frac"] == 0.3
    # the memory is all skill A: fresh picks prefer B
    assert sum("skill:b" in toy_skill(b) for b in fresh) > sum("skill:a" in toy_skill(b) for b in fresh)


def test_only_useful_prompts_join_and_memory_persists(tmp_path):
    cur = _curator(tmp_path, lambda n, step: [])
    rates = [0.0, 0.2, 0.3, 0.5, 0.8, 0.9, 1.0]
    assert cur.update([_it(i, A) for i in range(7)], rates, step=1) == 3
    assert cur.update([_it(3, A)], [0.5], step=2) == 0  # already remembered
    cur.update([_it(10, B)], [0.6], step=3)
    again = _curator(tmp_path, lambda n, step: [])
    assert [m["id"] for m in again.memory] == ["q2", "q3", "q4", "q10"]
    again.rewind(2)  # a run resumed from step 2 forgets what step 3 added
    assert [m["id"] for m in _curator(tmp_path, lambda n, step: []).memory] == ["q2", "q3", "q4"]


def test_generator_composition_is_exact_and_deterministic():
    items = propose(40, seed=1, step=3)
    assert [i.question for i in items] == [i.question for i in propose(40, seed=1, step=3)]
    assert [i.question for i in items] != [i.question for i in propose(40, seed=1, step=4)]
    test_q = {p.text_question() for p in world.problems("test")}
    assert not test_q & {i.question for i in items}
    for it in items:
        comp = it.meta["composition"]
        n_ops = sum(v for k, v in comp.items() if k.startswith("op:"))
        assert n_ops == it.meta["level"] and comp[f"skill:{it.meta['skill']}"] == 1.0
    p = world.problems("train", n=1, seed=0, levels=(3,), skills=("rect",))[0]
    assert composition(p) == {"skill:rect": 1.0, "level:3": 1.0, "op:+": 1.0, "op:*": 1.0, "op:-": 1.0}


def test_toy_curator_end_to_end(tmp_path):
    cur = make_curator("toy", "toy-skill", tmp_path / "m.jsonl", seed=0)
    batch, st = cur.next_batch(8, step=0)
    assert len(batch) == 8 and len({b.id for b in batch}) == 8
    # on a fresh memory, curation lowers within-batch similarity against taking the pool as is
    pool = propose(8 * cur.pool_factor, 0, 0)[:8]
    naive = [cosine(toy_skill(a), toy_skill(b)) for i, a in enumerate(pool) for b in pool[i + 1:]]
    assert st["batch_sim"] < sum(naive) / len(naive)
    with pytest.raises(VoldError, match="curation_embed"):
        make_curator("toy", "nope", tmp_path / "x.jsonl", seed=0)
    assert cosine(bag_of_words(batch[0]), bag_of_words(batch[0])) > 0.999


def test_stream_counts_prompts_an_earlier_prompt_already_asked():
    qs = ["a", "b", "a", "c", "b", "b", "d"]
    s = Stream([Item(id=str(i), question=q, gold="1", answer_type="integer") for i, q in enumerate(qs)])
    batches = [s.next_batch(3, k) for k in range(3)]
    assert [[it.question for it in b] for b, _ in batches] == [["a", "b", "a"], ["c", "b", "b"], ["d"]]
    assert [st["prompt_revisit_frac"] for _, st in batches] == [pytest.approx(1 / 3), pytest.approx(2 / 3), 0.0]


def test_the_toy_stream_revisits_its_small_cells():
    # rect problems have 64 (width, height) pairs per level and the test set takes about half:
    # a run's stream asks most of them again; cards L3 problems are almost all new
    items = world.toy_problems("train", n=1920, seed=9, form="text")
    s = Stream(items)
    cell = [(it.meta["skill"], it.meta["level"]) for it in items]
    by = {c: [r for r, k in zip(s.revisit, cell) if k == c] for c in set(cell)}
    assert sum(by[("rect", 3)]) / len(by[("rect", 3)]) > 0.8
    assert sum(by[("cards", 3)]) / len(by[("cards", 3)]) < 0.05
    assert 0.3 < sum(s.revisit) / len(items) < 0.6
