"""End-to-end trainer runs on random-init tiny models (seconds each), plus the teacher checks."""
import json
import re

import pytest
import torch
import yaml

from _kill_util import dies_after
from vold_bench.errors import VoldError
from vold_train.run import train_recipe

METRIC_KEYS = {"step", "reward", "kd_loss", "kd_term", "teacher_rkl", "teacher_k1", "teacher_k2", "masked_frac",
               "entropy", "resp_len", "step_s", "tokens_per_s", "accuracy"}


def boxed_reward(text, item):
    # Test-local reward so these tests exercise the trainer, not the scorer.
    m = re.findall(r"\\boxed\{(\d+)\}", text)
    return float(bool(m) and m[-1] == item.gold)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from vold_train.toy.models import make_tiny_pair

    root = tmp_path_factory.mktemp("world")
    student, teacher = make_tiny_pair(root / "pair", seed=0)
    _, teacher2 = make_tiny_pair(root / "pair2", seed=1)  # same tokenizer, other weights
    probs, traces = root / "problems.jsonl", root / "traces.jsonl"
    with open(probs, "w") as f, open(traces, "w") as g:
        for i in range(40):
            a, b = i % 7, i % 5
            q = f"What is {a} + {b}?"
            f.write(json.dumps({"question": q, "gold": str(a + b), "answer_type": "integer"}) + "\n")
            g.write(json.dumps({"question": q, "response": f"<think>\n{a} + {b} = {a + b}.\n</think>\n"
                                                       f"\\boxed{{{a + b}}}"}) + "\n")
        f.write("not json\n")  # one bad record: skipped and counted, the run goes on
    return {"root": root, "student": student, "teacher": teacher, "teacher2": teacher2,
            "problems": str(probs), "traces": str(traces)}


def rl_args(w, *extra):
    return [f"rl.model={w['student']}", f"rl.teacher={w['teacher']}", f"rl.data={w['problems']}",
            "rl.prompts_per_step=2", "rl.group_size=3", "rl.sampling.max_new_tokens=8", "rl.engine.micro_batch=3",
            "rl.lr=1e-3", *extra]


def read_metrics(run):
    return [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]


def weights(path):
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def test_sft_then_rl_writes_metrics_config_and_run_json(world, tmp_path):
    args = [f"sft.model={world['student']}", f"sft.data={world['traces']}", "stages=sft,rl", "sft.steps=2",
            "sft.batch_size=4", "sft.micro_batch=2", *rl_args(world, "rl.model=sft", "rl.steps=2", "rl.kd=k2")]
    run = train_recipe("vold", args, out=tmp_path / "run", reward_fn=boxed_reward)
    recs = read_metrics(run)
    assert [(r["stage"], r["step"]) for r in recs] == [("sft", 1), ("sft", 2), ("rl", 1), ("rl", 2)]
    for r in recs[2:]:
        assert METRIC_KEYS <= set(r)
        # the exact reverse KL is >= 0 by definition and the k2 statistic is what the loss used
        assert r["teacher_rkl"] > 0 and r["teacher_k2"] > 0 and r["resp_len"] > 0
        assert r["kd_term"] == pytest.approx(r["teacher_k2"], rel=1e-4)
    info = json.loads((run / "run.json").read_text())
    assert info["variant"] == {"sft": True, "rl": True, "kd": True, "kd_mask": True, "trace_source": "teacher"}
    # a re-run skips every stage and keeps the times the first run recorded
    again = train_recipe("vold", args, out=tmp_path / "run", reward_fn=boxed_reward)
    assert json.loads((again / "run.json").read_text())["timings"] == info["timings"]
    assert info["timings"]["rl_s"] > 0.1 and info["timings"]["sft_s"] > 0.01
    assert (run / "config.yaml").exists() and (run / "rl" / "final" / "config.json").exists()
    assert info["final_model"] == str(run / "rl" / "final")
    # the SFT'd weights, not the base student, started RL: the sft output differs from the base
    base, after_sft = weights(__import__("pathlib").Path(world["student"])), weights(run / "sft" / "final")
    name = next(k for k in base if "lm_head" in k)
    assert not torch.equal(base[name], after_sft[name])


def test_kill_and_rerun_resumes_exactly(world, tmp_path):
    args = rl_args(world, "stages=rl", "rl.steps=4", "rl.save_every=2")
    full = train_recipe("vold", args, out=tmp_path / "full", reward_fn=boxed_reward)

    with pytest.raises(KeyboardInterrupt):
        train_recipe("vold", args, out=tmp_path / "cut", reward_fn=dies_after(12, boxed_reward))  # in step 3
    assert [r["step"] for r in read_metrics(tmp_path / "cut")] == [1, 2]
    assert not (tmp_path / "cut" / "run.json").exists()
    cut = train_recipe("vold", args, out=tmp_path / "cut", reward_fn=boxed_reward)

    a, b = read_metrics(full), read_metrics(cut)
    assert [r["step"] for r in b] == [1, 2, 3, 4]  # step count continues, no duplicates
    for ra, rb in zip(a, b):  # same rollouts, rewards and KL after the resume: state was restored
        for k in ("reward", "teacher_rkl", "teacher_k2", "resp_len", "entropy", "lr"):
            assert ra[k] == pytest.approx(rb[k], rel=1e-5, abs=1e-7), (ra["step"], k)
    wa, wb = weights(full / "rl" / "final"), weights(cut / "rl" / "final")
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)


def test_rerun_with_other_config_is_refused(world, tmp_path):
    args = rl_args(world, "stages=rl", "rl.steps=1")
    train_recipe("vold", args, out=tmp_path / "r", reward_fn=boxed_reward)
    with pytest.raises(VoldError, match=r"different config \(rl\.beta"):
        train_recipe("vold", args + ["rl.beta=0.5"], out=tmp_path / "r", reward_fn=boxed_reward)
    # a section of a stage this run does not have is not part of what it made: the folder is
    # reused as it is (its final weights untouched), and the new settings are recorded
    weights = tmp_path / "r" / "rl" / "final" / "model.safetensors"
    before = weights.stat().st_mtime_ns
    run = train_recipe("vold", args + ["sft.lr=0.5", "traces.n_prompts=3"], out=tmp_path / "r",
                       reward_fn=boxed_reward)
    assert weights.stat().st_mtime_ns == before
    assert yaml.safe_load((run / "config.yaml").read_text())["sft"]["lr"] == 0.5


def test_beta_zero_keeps_the_teacher_out_of_the_gradient(world, tmp_path):
    # Two different teachers: at beta = 0 the updated student must be bit-identical, at beta > 0 not.
    def final(teacher, beta, name):
        run = train_recipe("vold", rl_args(world, "stages=rl", "rl.steps=1", f"rl.teacher={teacher}",
                                           f"rl.beta={beta}", "rl.kd_mask=none"),
                           out=tmp_path / name, reward_fn=boxed_reward)
        return weights(run / "rl" / "final"), read_metrics(run)[-1]

    w1, m1 = final(world["teacher"], 0.0, "a")
    w2, m2 = final(world["teacher2"], 0.0, "b")
    assert m1["teacher_rkl"] != m2["teacher_rkl"]  # the teachers really differ...
    assert all(torch.equal(w1[k], w2[k]) for k in w1)  # ...and it does not matter
    w3, _ = final(world["teacher"], 1.0, "c")
    w4, _ = final(world["teacher2"], 1.0, "d")
    assert any(not torch.equal(w3[k], w4[k]) for k in w3)


def test_full_vocabulary_kl_runs(world, tmp_path):
    run = train_recipe("vold", rl_args(world, "stages=rl", "rl.steps=1", "rl.kd=full", "rl.beta=0.1"),
                       out=tmp_path / "full", reward_fn=boxed_reward)
    rec = read_metrics(run)[-1]
    # kd=full: the loss's term is the exact reverse KL itself
    assert rec["teacher_rkl"] > 0 and rec["kd_term"] == pytest.approx(rec["teacher_rkl"], rel=1e-4)


def test_teacher_with_another_tokenizer_is_refused(world, tmp_path):
    import random

    from vold_train.toy.models import make_tiny_pair

    r = random.Random(0)  # nonsense words: a full-size vocabulary whose ids mean other strings
    words = ["".join(r.choice("qwxzjkvy") for _ in range(r.randint(3, 7))) for _ in range(3000)]
    _, other = make_tiny_pair(tmp_path / "other", corpus=[" ".join(words[i:i + 30]) for i in range(0, 3000, 30)] * 3)
    with pytest.raises(VoldError, match="tokenizer disagrees with the student's"):
        train_recipe("vold", rl_args(world, "stages=rl", "rl.steps=1", f"rl.teacher={other}"),
                     out=tmp_path / "bad", reward_fn=boxed_reward)
    assert not (tmp_path / "bad" / "metrics.jsonl").exists()  # refused before any step


def test_completion_check_and_missing_data(world, tmp_path):
    from vold_train.common import load_tokenizer
    from vold_train.logprobs import check_completion

    tok = load_tokenizer(world["student"])
    with pytest.raises(VoldError, match="outside the shared vocabulary"):
        check_completion([1, 2, len(tok) + 3], tok, tok, len(tok))
    check_completion([1, 2, 3], tok, tok, len(tok))  # agreeing tokenizers pass
    with pytest.raises(VoldError, match="not found"):
        train_recipe("vold", rl_args(world, "stages=rl", "rl.steps=1", "rl.data=/nonexistent.jsonl"),
                     out=tmp_path / "nodata", reward_fn=boxed_reward)


def test_teacher_with_a_smaller_vocabulary_is_refused(world, tmp_path):
    from transformers import Qwen3ForCausalLM

    from vold_train.toy.models import build_tokenizer, save_teacher, tiny_teacher_config

    small = build_tokenizer(vocab_size=600)
    save_teacher(Qwen3ForCausalLM(tiny_teacher_config(small, hidden=64, layers=1, heads=1)), small,
                 tmp_path / "small")
    with pytest.raises(VoldError, match=r"does not cover the student's \d+ tokens"):
        train_recipe("vold", rl_args(world, "stages=rl", "rl.steps=1", f"rl.teacher={tmp_path / 'small'}"),
                     out=tmp_path / "bad", reward_fn=boxed_reward)


def test_replay_adds_the_students_perception_pretraining_and_refuses_other_tokenizers(world, tmp_path):
    # sft.replay / rl.replay (a toy deviation): each step logs the replayed NLL; off by default
    run = train_recipe("vold", [f"sft.model={world['student']}", f"sft.data={world['traces']}",
                                "stages=sft,rl", "sft.steps=2", "sft.batch_size=4", "sft.micro_batch=2",
                                "sft.replay=0.5", "sft.replay_batch=2",
                                *rl_args(world, "rl.model=sft", "rl.steps=1", "rl.replay=0.5", "rl.replay_batch=2")],
                       out=tmp_path / "replay", reward_fn=boxed_reward)
    recs = read_metrics(run)
    assert all(r["replay_loss"] > 0 for r in recs), recs
    plain = read_metrics(train_recipe("vold", rl_args(world, "stages=rl", "rl.steps=1"), out=tmp_path / "plain",
                                      reward_fn=boxed_reward))
    assert "replay_loss" not in plain[-1]
    from vold_train.toy.models import make_tiny_pair

    other, other_teacher = make_tiny_pair(tmp_path / "other", corpus=["other words only " * 20] * 50)
    with pytest.raises(VoldError, match="toy tokenizer"):
        train_recipe("vold", rl_args(world, "stages=rl", "rl.steps=1", f"rl.model={other}",
                                     f"rl.teacher={other_teacher}", "rl.replay=0.5"),
                     out=tmp_path / "other-run", reward_fn=boxed_reward)
