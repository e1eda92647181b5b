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
