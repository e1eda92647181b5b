"""bench/gpu_check.py: the prepared GPU check, proven by its --dry-run on CPU (issue 15)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import gpu_check  # noqa: E402
from _gpu_models import FIRST_SPECIAL, QWEN_SPECIALS, ROWS, paper_configs, standin_tokenizer  # noqa: E402


def test_paper_configs_have_the_published_sizes_and_tiny_keeps_the_ids():
    from vold_train.sizing import param_counts

    s, t = paper_configs(tiny=False)
    assert param_counts(s)["total"] == 3_754_622_976 and param_counts(t)["total"] == 8_190_735_360
    ts, tt = paper_configs(tiny=True)
    assert ts.image_token_id == s.image_token_id == 151655
    assert ts.text_config.vocab_size == tt.vocab_size == ROWS
    assert ts.text_config.hidden_size == 128 and ts.text_config.num_key_value_heads == 1


def test_standin_tokenizer_has_qwen_ids_and_decodes_every_row():
    tok = standin_tokenizer()
    assert len(tok) == ROWS
    assert [tok.convert_tokens_to_ids(t) for t in QWEN_SPECIALS] == list(range(FIRST_SPECIAL, FIRST_SPECIAL + 26))
    assert tok.eos_token_id == 151645 and tok.pad_token_id == 151643
    text = "What is 12 + 30? \\boxed{42}"
    assert tok.decode(tok(text)["input_ids"]) == text
    assert isinstance(tok.decode([0, 151000, ROWS - 1]), str)  # placeholders decode, never crash


def test_bad_arguments_are_one_line_errors(capsys, tmp_path):
    with pytest.raises(SystemExit):
        gpu_check.parse_args(["--steps", "build,warp"])
    assert "unknown step 'warp'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        gpu_check.parse_args(["--data", str(tmp_path / "none")])
    assert "no such folder" in capsys.readouterr().err
    a = gpu_check.parse_args(["--steps", "build", "--out", str(tmp_path)])
    assert a.steps == ["env", "build"]


def test_vllm_rl_run_sizes_engines_from_the_gpu(tmp_path):
    c = gpu_check.Check(gpu_check.parse_args(["--out", str(tmp_path), "--work", str(tmp_path)]))
    c.gpu_mem_gb = 79.2
    args = c._rl_args("vllm", tmp_path / "p.jsonl")
    assert "rl.engine.vllm_sleep=true" in args and "rl.engine.rollout=vllm" in args
    util = float(next(a for a in args if a.startswith("rl.engine.vllm_gpu_memory_utilization=")).split("=")[1])
    assert util * 79.2 >= 15.3 + 2 + 5.6  # the 8B teacher's weights, activations, one full-length KV
    from vold_train.config import load_recipe

    r = load_recipe(gpu_check.RECIPE, [a for a in args if a != "--set"])  # every override is a real key
    assert r.stages == ["rl"] and r.rl.engine.teacher == "vllm" and r.rl.steps == 2


def test_a_hung_step_is_killed_at_its_limit_and_recorded(tmp_path):
    from _gpu_run import run_child

    cmd = [sys.executable, "-c", "import subprocess, sys, time; "
           "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"]
    res = run_child(cmd, tmp_path, 2, tmp_path / "log", {}, gpu=False)
    assert res["status"] == "timeout" and res["wall_s"] < 30 and "limit" in res["error"]
    bad = run_child([sys.executable, "-c", "raise SystemExit('error: no such model')"], tmp_path, 30,
                    tmp_path / "log2", {}, gpu=False)
    assert bad["status"] == "error" and bad["error"] == "error: no such model"


def test_steps_without_models_say_so(tmp_path):
    c = gpu_check.Check(gpu_check.parse_args(["--dry-run", "--out", str(tmp_path), "--work", str(tmp_path)]))
    c.vllm_py = sys.executable
    for res in (c.step_eval("hf", 10), c.step_rl("hf", 10)):
        assert res["status"] == "error" and "no built models" in res["error"]


def test_stage_data_copies_testmini_and_its_images(tmp_path):
    src = tmp_path / "src"
    (src / "images").mkdir(parents=True)
    (src / "images" / "1.jpg").write_bytes(b"x")
    (src / "testmini.jsonl").write_text(json.dumps({"id": "1", "image": "images/1.jpg"}) + "\n")
    gpu_check.stage_data(src, tmp_path / "dst")
    assert (tmp_path / "dst" / "images" / "1.jpg").read_bytes() == b"x"


def _mathvision(tmp_path: Path) -> Path:
    """The real testmini when ../shared has it, else four items of the same schema."""
    from vold_bench.published import shared_root

    real = shared_root() / "benchmarks" / "mathvision"
    if (real / "testmini.jsonl").is_file():
        return real
    from PIL import Image

    d = tmp_path / "mathvision"
    (d / "images").mkdir(parents=True)
    rows = []
    for i in range(4):
        Image.new("RGB", (300 + 40 * i, 200), (255, 255, 255)).save(d / "images" / f"{i}.jpg")
        rows.append({"id": str(i), "question": "How many squares are there?\n<image1>", "options": [],
                     "answer": str(i), "solution": None, "level": 1, "subject": "counting",
                     "image": f"images/{i}.jpg"})
    (d / "testmini.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


@pytest.mark.slow
def test_dry_run_writes_every_figure(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    cmd = [sys.executable, "bench/gpu_check.py", "--dry-run", "--out", str(out), "--work", str(work),
           "--data", str(_mathvision(tmp_path))]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "vold GPU check - dry-run" in p.stdout and "anchor: EasyR1" in p.stdout
    rep = json.loads((out / "gpu_check.json").read_text())
    st = rep["steps"]
    assert rep["mode"].startswith("dry-run") and list(st) == list(gpu_check.STEPS)
    assert (out / "gpu_check.log").exists()
    assert st["env"]["status"] == "ok" and st["env"]["cuda"] is False
    assert st["build"]["status"] == "ok" and st["build"]["vocab"] == ROWS
    assert st["build"]["models"]["student"]["config_of"] == "Qwen/Qwen2.5-VL-3B-Instruct"
    e = st["eval_hf"]
    assert e["status"] == "ok" and e["items"] == 4 and e["n_errors"] == 0
    assert e["items_per_s"] > 0 and e["gen_tokens_per_s"] > 0 and e["gen_tokens"] > 0
    for name in ("rl_hf",) + (("rl_vllm",) if st["rl_vllm"]["status"] != "skipped" else ()):
        r = st[name]
        assert r["status"] == "ok" and r["steps_done"] == 2, r
        assert all(r[k] > 0 for k in ("rollout_s", "teacher_s", "update_s", "gen_tokens_per_s")), r
        assert r["peak_mem_gb"] > 0 and r["plan"]["peak_gb"] > 0
    for name in ("eval_vllm", "rl_vllm"):  # no vLLM env here: said so, not silently absent
        assert st[name]["status"] in ("ok", "skipped")
        if st[name]["status"] == "skipped":
            assert "vllm" in st[name]["reason"]
    g = st["gpu_tests"]
    assert g["status"] == "ok" and g["tests"] >= 1 and g["failures"] == g["errors"] == 0
    assert g["skipped"] == g["tests"]  # CPU: every gpu test skips itself
