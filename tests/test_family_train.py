"""The on-policy family inside `vold train`, on random-init tiny models (seconds each):
every family recipe runs, SRPO's self-teacher resumes with its EMA, VA-OPD's degraded picture
really changes an image-seeing teacher's log-probs, R-Diverse's memory fills and is replayed."""
import json
import zlib

import pytest
import torch

from _kill_util import dies_after
from vold_bench.errors import VoldError
from vold_train.config import load_recipe
from vold_train.run import train_recipe


def coin_reward(text, item):
    # a deterministic function of the text, right about half the time, so groups mix correct
    # and wrong rollouts even for a random-init student (SRPO then has rollouts to route)
    return float(zlib.crc32(text.encode()) % 2)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from vold_train.toy.models import make_tiny_pair

    student, teacher = make_tiny_pair(tmp_path_factory.mktemp("fam") / "pair", seed=0)
    return {"student": student, "teacher": teacher}


def args(p, *extra):
    return ["stages=rl", f"rl.model={p['student']}", f"rl.teacher={p['teacher']}", "rl.data=toy",
            "rl.prompts_per_step=2", "rl.group_size=3", "rl.sampling.max_new_tokens=8", "rl.engine.micro_batch=3",
            "rl.lr=1e-3", "rl.steps=2", *extra]


def metrics(run):
    return [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]


def test_srpo_external_routes_and_logs(pair, tmp_path):
    # rewards by rollout, 2 steps x 2 prompts x 3 rollouts: a group with a right rollout (its
    # wrong ones are distilled), an all-wrong group (nothing to distil from: PG), an all-right
    # one, and a mixed one
    script = [1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0]
    seen = []

    def reward(text, item):
        seen.append(float(script[len(seen)]))
        return seen[-1]

    run = train_recipe("srpo", args(pair), out=tmp_path / "r", reward_fn=reward)
    recs = metrics(run)
    assert len(recs) == 2 and len(seen) == len(script)
    # SRPO's routing: a wrong rollout in a group with a right one is distilled, the rest get the PG
    assert [r["kd_frac"] for r in recs] == pytest.approx([2 / 6, 2 / 6])
    assert any(r["kd_frac"] > 0 for r in recs) and recs[-1]["teacher_k2"] is not None
    assert json.loads((run / "run.json").read_text())["recipe"] == "srpo"


def test_srpo_self_teacher_resumes_with_its_ema(pair, tmp_path):
    a = args(pair, "rl.steps=3", "rl.save_every=2")
    full = train_recipe("srpo-self", a, out=tmp_path / "full", reward_fn=coin_reward)
    assert (full / "rl" / "ckpt-000002" / "ema.pt").exists()
    with pytest.raises(KeyboardInterrupt):
        train_recipe("srpo-self", a, out=tmp_path / "kill", reward_fn=dies_after(12, coin_reward))
    resumed = train_recipe("srpo-self", a, out=tmp_path / "kill", reward_fn=coin_reward)
    m_full, m_res = metrics(full), metrics(resumed)
    assert [r["step"] for r in m_res] == [1, 2, 3]
    assert m_full[-1]["loss"] == pytest.approx(m_res[-1]["loss"], rel=1e-4, abs=1e-6)


def test_va_opd_runs_with_and_without_reward(pair, tmp_path):
    # the tiny random student doubles as the image-seeing teacher (a Qwen2.5-VL with processor)
    for pg in ("false", "true"):
        run = train_recipe("va-opd", args(pair, f"rl.teacher={pair['student']}", f"rl.pg={pg}"),
                           out=tmp_path / pg, reward_fn=coin_reward)
        recs = metrics(run)
        assert all(r["va_mean"] >= 0 and r["va_top_mean"] >= r["va_mean"] - 1e-6 for r in recs)
        assert all(1 / 3 - 1e-6 <= r["va_w_max"] <= 1.0 for r in recs)
        assert (recs[-1]["pg_loss"] == 0.0) == (pg == "false")


def test_rdiverse_memory_fills_and_is_replayed(pair, tmp_path):
    run = train_recipe("vold-rdiverse", args(pair, "rl.steps=3", "rl.prompts_per_step=4"),
                       out=tmp_path / "r", reward_fn=coin_reward)
    recs = metrics(run)
    mem = [json.loads(ln) for ln in (run / "rl" / "rdiverse_memory.jsonl").read_text().splitlines()]
    assert sum(r["memory_added"] for r in recs) == len(mem) > 0
    assert all(0.3 <= m["solve_rate"] <= 0.8 and m["vec"] for m in mem)
    assert recs[0]["replay_frac"] == 0.0 and recs[-1]["replay_frac"] > 0  # replay once memory has some


def test_family_config_errors_name_the_key():
    with pytest.raises(VoldError, match="rl.objective"):
        load_recipe("vold", ["rl.objective=ppo"])
    with pytest.raises(VoldError, match="va-opd needs image twins"):
        load_recipe("va-opd", ["rl.data=x.jsonl"])
    with pytest.raises(VoldError, match="micro_batch"):
        load_recipe("srpo", ["rl.engine.micro_batch=7"])


def test_degraded_picture_changes_an_image_teacher_on_its_tokens(pair):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from vold_bench.toy import world
    from vold_train.vaopd import degrade, score_with_image

    p = world.problems("test", n=1)[0]
    pics = p.pictures()
    img = pics[0]
    small = degrade(img)
    assert small.size == img.size and small.tobytes() != img.tobytes()
    assert degrade(small).tobytes() != img.tobytes()
    proc = AutoProcessor.from_pretrained(pair["student"])
    model = AutoModelForImageTextToText.from_pretrained(pair["student"]).eval()
    comp = torch.tensor([proc.tokenizer.encode(world.trace(p), add_special_tokens=False)])
    mask = torch.ones_like(comp, dtype=torch.float)
    V = len(proc.tokenizer)
    q = p.image_question()

    def score(images):
        return score_with_image(model, proc, q, images, comp, mask, V, 64, inline=True)[0]

    full = score(pics)
    assert torch.allclose(full, score([im.copy() for im in pics]))  # the same pictures score the same
    assert (full - score([degrade(im) for im in pics])).abs().max() > 1e-4  # degraded ones do not
    # a student that samples an image placeholder id still gets scored (found in a real run)
    comp[0, 3] = model.config.image_token_id
    lp = score(pics)
    assert lp.shape == comp.shape and torch.isfinite(lp).all()
