import json

import pytest
from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoProcessor
from typer.testing import CliRunner

from vold_bench.cli import app
from vold_bench.errors import VoldError
from vold_train.toy import resolve_model
from vold_train.toy.build import BuildConfig, build
from vold_train.toy.check import evaluate_pair


@pytest.mark.slow
def test_build_smoke_on_a_trimmed_budget(tmp_path):
    cfg = BuildConfig(teacher_steps=3, student_steps=3, teacher_batch=4, student_batch=4,
                      teacher_refine_steps=2, student_refine_steps=2,
                      warmup=1, eval_n=4, teacher_layers=1, student_layers=1)
    out = build(out=tmp_path, force=True, cfg=cfg, evaluate=False)
    report = json.loads((out / "build.json").read_text())
    ev = evaluate_pair(out / "student", out / "teacher", n=3, max_new_tokens=4)
    assert ev["teacher_text"]["n"] == 3
    assert set(ev) >= {"teacher_text", "student_transcription", "student_image",
                       "teacher_on_student_transcription"}
    losses = [r["loss"] for r in report["log"] if r["model"] == "teacher"]
    assert len(losses) == 2 and losses[-1] < losses[0]  # 3 steps already move the loss
    # both parts trained (in two processes), each with its refine cycles
    assert {r["model"] for r in report["log"]} == {"teacher", "teacher-refine1", "student",
                                                   "student-refine1", "student-refine2"}
    assert report["teacher_train_s"] > 0 and report["student_train_s"] > 0
    AutoModelForCausalLM.from_pretrained(out / "teacher")
    AutoModelForImageTextToText.from_pretrained(out / "student")
    AutoProcessor.from_pretrained(out / "student")
    # a second call finds the models and does not rebuild
    mtime = (out / "teacher" / "model.safetensors").stat().st_mtime
    build(out=tmp_path, cfg=cfg)
    assert (out / "teacher" / "model.safetensors").stat().st_mtime == mtime


def test_toy_names_resolve_to_saved_models(tmp_path, monkeypatch):
    monkeypatch.setenv("VOLD_TOY_MODELS", str(tmp_path))
    for sub in ("student", "teacher"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "config.json").write_text("{}")
    assert resolve_model("toy-student") == str(tmp_path / "student")
    assert resolve_model("toy-teacher") == str(tmp_path / "teacher")


def test_a_missing_toy_model_is_an_error_not_a_build(tmp_path, monkeypatch):
    # a name lookup never trains: it says which command builds the model, and leaves no files
    monkeypatch.setenv("VOLD_TOY_MODELS", str(tmp_path))
    with pytest.raises(VoldError, match=r"`vold toy build`"):
        resolve_model("toy-student")
    with pytest.raises(VoldError, match=r"`vold toy build --vteacher`"):
        resolve_model("toy-vteacher")
    assert list(tmp_path.iterdir()) == []


def test_toy_build_vteacher_finds_a_built_one(tmp_path):
    (tmp_path / "vteacher").mkdir()
    (tmp_path / "vteacher" / "config.json").write_text("{}")
    r = CliRunner().invoke(app, ["toy", "build", "--vteacher", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert str(tmp_path / "vteacher") in r.output
    assert [p.name for p in (tmp_path / "vteacher").iterdir()] == ["config.json"]  # not rebuilt


def test_consistency_pairs_match_each_picture_to_its_number_and_the_rest_one_for_one():
    # build.student_consistency: the image form's tokens from its first picture on are paired
    # with the text form's, position for position (the toy template puts no marks around a picture)
    import torch

    from vold_train.toy.build import _consistency_loss, _consistency_pairs, _student_batch, _student_examples

    proc = AutoProcessor.from_pretrained(resolve_model("toy-student"))
    tok = proc.tokenizer
    exs = _student_examples(5, 12, paired=True)
    batch = _student_batch(proc, exs, align=True, pairs=True)
    ri, pi, rt, pt = batch["pairs"]
    ids = batch["input_ids"]
    img_tok = tok.convert_tokens_to_ids("<|image_pad|>")
    assert set(ri.tolist()) == {6, 8, 10} and (rt == ri + 1).all() and (pi == pt).all()
    pictured = ids[ri, pi] == img_tok
    # every picture is paired, with the text token of its own number
    assert int(pictured.sum()) == sum(len(e[2]) for e in exs[6:])
    numbers = [f" {v}" for e in exs[6::2] for v in e[3].values.values()]
    assert tok.batch_decode(ids[rt, pt][pictured].unsqueeze(1)) == numbers
    assert (ids[ri, pi][~pictured] == ids[rt, pt][~pictured]).all()
    # unpaired batches carry no pairs; forms that differ beyond the pictures are an error
    assert "pairs" not in _student_batch(proc, _student_examples(5, 12), pairs=True)
    q, resp, pics, p = exs[6]
    with pytest.raises(ValueError, match="differ beyond the pictures"):
        _student_batch(proc, [exs[6], (exs[7][0].replace("What", "Say"), resp, [], p)], pairs=True)
    pad = tok.convert_tokens_to_ids("<|image_pad|>")
    with pytest.raises(ValueError, match="differ beyond the pictures"):  # same length, one token differs
        _consistency_pairs(tok, [[5, pad, 7], [5, 9, 8]], [exs[6], exs[7]])
    # the loss is zero for equal hidden states and grows with their distance
    h = torch.randn(2, ids.shape[0], ids.shape[1], 8)
    same = h.clone()
    same[:, ri, pi] = same[:, rt, pt]
    assert float(_consistency_loss(tuple(same), (ri, pi, rt, pt))) == 0.0
    assert float(_consistency_loss(tuple(h), (ri, pi, rt, pt))) > 0.5


def test_drills_are_true_unchained_facts_in_place_of_own_style_problems():
    from vold_train.toy import chains
    from vold_train.toy.build import DRILL_QUESTION, _student_examples

    shipped = _student_examples(5, 24)
    with_drills = _student_examples(5, 24, drills=0.25)
    drills = [ex for ex in with_drills if ex[0] == DRILL_QUESTION]
    assert len(drills) == 3 and not any(ex[0] == DRILL_QUESTION for ex in shipped)
    for _, response, pictures in drills:
        st = chains.steps(response)
        assert len(st) == 4 and all(s.sum_ok for s in st) and pictures == []
    # the drills take the place of own-style problems; transcriptions and the rest are the same
    assert [ex[:2] for ex in with_drills if ex[0] != DRILL_QUESTION] == [ex[:2] for ex in shipped[:21]]


def test_shipped_models_were_built_with_the_default_config():
    # the weights in vold_train/toy/models/ are what `vold toy build` makes today (drills included)
    from dataclasses import asdict

    from vold_train.toy import models_dir

    report = models_dir() / "build.json"
    if not report.exists():
        pytest.skip("toy models not built")
    assert json.loads(report.read_text())["config"] == asdict(BuildConfig())


def test_chain_drills_carry_each_result_to_the_next_line():
    from vold_train.toy import chains
    from vold_train.toy.build import _drills

    for _, response, _ in _drills(2, 20, style="chains"):
        st = chains.steps(response)
        assert len(st) in (2, 3) and all(s.sum_ok for s in st)
        assert all(cur.a == prev.c for prev, cur in zip(st, st[1:]))
    with pytest.raises(ValueError, match="'facts', 'chains' or 'mixed'"):
        _drills(2, 1, style="chained")


def test_mixed_drills_are_half_chains_half_facts_unless_told():
    from vold_train.toy import chains
    from vold_train.toy.build import _drills, build_config

    mixed = _drills(2, 21, style="mixed")
    assert [r for _, r, _ in mixed[:10]] == [r for _, r, _ in _drills(2, 10, style="chains")]
    assert [r for _, r, _ in mixed[10:]] == [r for _, r, _ in _drills(3, 11, style="facts")]
    carried = [all(c.a == p.c for p, c in zip(st, st[1:])) for st in (chains.steps(r) for _, r, _ in mixed)]
    assert all(carried[:10]) and not all(carried[10:])
    # student_drill_chains sets the share: a batch's 5 drills at 0.2 are 1 chain and 4 facts
    few = _drills(2, 5, style="mixed", chains=0.2)
    assert [r for _, r, _ in few] == [r for _, r, _ in _drills(2, 1, style="chains") + _drills(3, 4, style="facts")]
    assert build_config(["student_drill_chains=0.2"]).student_drill_chains == 0.2
    with pytest.raises(ValueError, match="student_drill_chains must be between 0 and 1, got 1.5"):
        _drills(2, 5, style="mixed", chains=1.5)
    with pytest.raises(VoldError, match="toy build --set student_drill_chains: between 0 and 1, got -0.1"):
        build_config(["student_drill_chains=-0.1"])  # on the command line, before anything trains


def test_build_config_takes_key_value_overrides_and_names_a_bad_key():
    from vold_train.toy.build import build_config

    cfg = build_config(["student_drill_style=chains", "student_drills=0.1", "student_steps=7"])
    assert (cfg.student_drill_style, cfg.student_drills, cfg.student_steps) == ("chains", 0.1, 7)
    assert cfg.teacher_steps == BuildConfig().teacher_steps  # the rest keep their defaults
    for bad, named in (("student_drill=chains", "student_drill="), ("student_steps=1.5", "student_steps"),
                       ("student_drill_style=loops", "student_drill_style"), ("seed", "seed")):
        with pytest.raises(VoldError, match=named):
            build_config([bad])


def test_toy_build_set_needs_out_and_only_names_a_model():
    runner = CliRunner()
    r = runner.invoke(app, ["toy", "build", "--set", "student_drills=0.1"])
    assert r.exit_code == 2 and "--out" in r.output
    r = runner.invoke(app, ["toy", "build", "--out", "x", "--only", "vteacher"])
    assert r.exit_code == 2 and "student or teacher" in r.output


@pytest.mark.slow
def test_toy_build_only_student_with_overrides_writes_its_config(tmp_path):
    sets = ["student_steps=2", "student_refine_steps=1", "student_refine_cycles=1", "student_batch=4",
            "student_layers=1", "warmup=1", "student_drill_style=chains"]
    r = CliRunner().invoke(app, ["toy", "build", "--out", str(tmp_path), "--only", "student",
                                 *[a for s in sets for a in ("--set", s)]])
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "build-student.json").read_text())
    assert report["config"]["student_drill_style"] == "chains" and report["config"]["student_layers"] == 1
    assert (tmp_path / "student" / "config.json").exists() and not (tmp_path / "teacher").exists()
