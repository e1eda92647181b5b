import csv
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from _compare_util import make_result, make_run, toy_world
from vold_bench.cli import app
from vold_bench.compare import PAPER_FILE, build_board, read_correct, scan
from vold_bench.errors import VoldError
from vold_bench.stats import paired_test

runner = CliRunner()


def _samples(path: Path) -> dict:
    return {json.loads(ln)["id"]: json.loads(ln)["correct"] for ln in path.read_text().splitlines()}


@pytest.fixture()
def world(tmp_path):
    toy_world(tmp_path / "w")
    return tmp_path / "w"


def test_rows_named_by_recipe_deltas_and_significance(world, tmp_path):
    runs, problems, run_dirs = scan([world])
    assert problems == []
    assert {r.name for r in runs} == {"vold", "grpo-only", "no-mask", "no-cold-start",
                                      "Qwen/Qwen2.5-VL-3B-Instruct"}
    assert len(run_dirs) == 4
    board = build_board(runs, baseline="grpo-only", paper=False)
    assert board.columns == ["mathvision/testmini", "toy/test"]
    base = _samples(world / "evals/grpo-only/toy-test/samples.jsonl")
    vold = _samples(world / "evals/vold/toy-test/samples.jsonl")
    acc = lambda s: 100 * sum(s.values()) / len(s)  # noqa: E731
    assert board.deltas[("vold", "toy/test")] == pytest.approx(acc(vold) - acc(base))
    sig = {(r, c): t for r, c, t in board.sig}
    assert set(sig) == {("vold", "toy/test"), ("no-mask", "toy/test"), ("no-cold-start", "toy/test")}
    expected = paired_test(base, vold)
    assert sig[("vold", "toy/test")] == expected
    assert board.row("vold").variant["kd_mask"] is True


def test_cli_writes_all_formats(world, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["compare", str(world), "--baseline", "grpo-only", "--ablation",
                            "--out", str(out), "--plot"])
    assert r.exit_code == 0, r.output
    md = (out / "LEADERBOARD.md").read_text()
    assert "Paired significance vs grpo-only" in md and "Ablation (VOLD Table 3 layout)" in md
    # the vold row of the ablation table carries the check marks from its run.json
    vold_line = next(ln for ln in md.splitlines() if ln.startswith("| vold | ✓ | ✓ | ✓ | ✓ |"))
    assert "teacher" in vold_line
    assert next(ln for ln in md.splitlines() if ln.startswith("| grpo-only | ✗ | ✓ | ✗ | ✗ |"))
    rows = list(csv.DictReader((out / "leaderboard.csv").open()))
    byname = {row["run"]: row for row in rows}
    res = json.loads((world / "evals/vold/toy-test/results.json").read_text())
    assert float(byname["vold"]["toy/test"]) == pytest.approx(res["accuracy"], abs=0.01)
    assert byname["VOLD (VOLD T1)"]["kind"] == "published"
    tex = (out / "leaderboard.tex").read_text()
    assert "\\toprule" in tex and "\\bottomrule" in tex
    best = max(float(r["toy/test"]) for r in rows if r["toy/test"] and r["kind"] == "run")
    assert f"\\textbf{{{best:.1f}}}" in tex
    assert (out / "ablation.tex").exists() and (out / "significance.csv").exists()
    for png in ("leaderboard.png", "training_curves.png"):
        data = (out / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_protocol_mismatch_is_flagged(tmp_path):
    make_result(tmp_path / "a", "mathvision", "testmini", "model-a", [True, False] * 10)
    make_result(tmp_path / "b", "mathvision", "testmini", "model-b", [True, True] * 10,
                prompt_variant="official")
    make_result(tmp_path / "c", "mathvision", "testmini", "model-c", [False, True] * 5)
    runs, _, _ = scan([tmp_path])
    board = build_board(runs, baseline="model-a", paper=False)
    assert ("model-a", "mathvision/testmini") not in board.flags
    fb = board.footnotes[board.flags[("model-b", "mathvision/testmini")] - 1]
    assert "prompt_variant='official'" in fb and "reference 'default'" in fb
    fc = board.footnotes[board.flags[("model-c", "mathvision/testmini")] - 1]
    assert "n=10" in fc
    # c shares only 10 of a's 20 ids: the paired test uses exactly those
    sig = {r: t for r, _, t in board.sig}
    assert sig["model-c"].n == 10


def test_average_only_over_columns_every_run_has(tmp_path):
    make_result(tmp_path / "a1", "toy", "test", "a", [True] * 3 + [False])
    make_result(tmp_path / "a2", "logicvista", "test", "a", [True, False])
    make_result(tmp_path / "a3", "geo3k", "test", "a", [True])
    make_result(tmp_path / "b1", "toy", "test", "b", [True, False, False, False])
    make_result(tmp_path / "b2", "logicvista", "test", "b", [True, True])
    board = build_board(scan([tmp_path])[0], paper=False)
    assert board.avg_cols == ["logicvista/test", "toy/test"]
    assert board.average(board.row("a")) == pytest.approx((75 + 50) / 2)
    assert board.average(board.row("b")) == pytest.approx((25 + 100) / 2)


def test_seeds_and_models_disambiguate_names(tmp_path):
    for seed in (0, 1):
        final = make_run(tmp_path / f"runs/vold-s{seed}", "vold", seed=seed)
        make_result(tmp_path / f"ev/{seed}", "toy", "test", str(final), [True, False])
    make_result(tmp_path / "ev/x", "toy", "test", "m", [True])
    make_result(tmp_path / "ev/y", "toy", "test", "m", [False], prompt_variant="official")
    names = {r.name for r in scan([tmp_path])[0]}
    assert names == {"vold-s0", "vold-s1", "m@default", "m@official"}


def test_corrupt_results_named_and_rest_shown(world, tmp_path):
    bad = world / "evals" / "broken"
    bad.mkdir()
    (bad / "results.json").write_text('{"bench": "toy", "split": "te')
    nokey = world / "evals" / "nokey"
    nokey.mkdir()
    (nokey / "results.json").write_text(json.dumps({"bench": "toy", "split": "test", "model": "z"}))
    r = runner.invoke(app, ["compare", str(world), "--out", str(tmp_path / "o"), "--no-paper"])
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert str(bad / "results.json") in r.output.replace("\n", "") and "not valid JSON" in flat
    assert "missing key(s) accuracy, n" in flat
    md = (tmp_path / "o" / "LEADERBOARD.md").read_text()
    assert "| vold |" in md and "## Skipped" in md and "broken/results.json" in md
    assert "published" not in md.split("## Skipped")[0].split("\n", 3)[-1]


def test_torn_samples_line_is_counted(tmp_path):
    res = make_result(tmp_path / "a", "toy", "test", "a", [True, False, True])
    with (res.parent / "samples.jsonl").open("a") as f:
        f.write('{"id": "toy-9", "corr')
    problems = []
    assert read_correct(res.parent / "samples.jsonl", problems) == {
        "toy-0": True, "toy-1": False, "toy-2": True}
    assert problems and "1 unreadable line" in problems[0]


def test_bad_baseline_and_empty_folder_exit_2(world, tmp_path):
    r = runner.invoke(app, ["compare", str(world), "--baseline", "nope", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "nope" in r.output and "grpo-only" in r.output
    empty = tmp_path / "empty"
    empty.mkdir()
    r = runner.invoke(app, ["compare", str(empty), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "no readable results.json" in r.output
    with pytest.raises(VoldError):
        build_board(scan([world])[0], baseline="missing")


def test_published_rows_follow_benchmark_and_note_split(world):
    board = build_board(scan([world])[0], baseline="grpo-only", paper=True)
    vold_t1 = board.row("VOLD (VOLD T1)")
    assert list(vold_t1.cells) == ["mathvision/testmini"]
    assert vold_t1.cells["mathvision/testmini"].acc == 28.0
    note = board.footnotes[board.flags[("VOLD (VOLD T1)", "mathvision/testmini")] - 1]
    assert "paper split: test" in note
    # never a significance test against or for a published row
    assert all(board.row(r).kind == "run" for r, _, _ in board.sig)


def test_paper_file_every_number_has_source_and_check():
    data = yaml.safe_load(PAPER_FILE.read_text())
    allowed = {"verified", "corroborated", "unverified (secondary source)"}
    assert len(data["rows"]) >= 8
    for row in data["rows"]:
        assert row["source"] in data["sources"], row["name"]
        assert row["check"] in allowed
        for bench, per in (row.get("checks") or {}).items():
            assert bench in row["values"] and per["check"] in allowed and per["note"]
        assert all(0 < v < 100 for v in row["values"].values())
        if row["table"] == "ablation":
            assert set(row["variant"]) >= {"sft", "rl", "kd"}


def test_seed_means_row(tmp_path):
    accs = {0: [True] * 6 + [False] * 4, 1: [True] * 8 + [False] * 2, 2: [True] * 7 + [False] * 3}
    for seed, correct in accs.items():
        final = make_run(tmp_path / f"runs/vold-s{seed}", "vold", seed=seed)
        make_result(tmp_path / f"ev/{seed}", "toy", "test", str(final), correct)
    final = make_run(tmp_path / "runs/grpo-s0", "grpo-only", seed=0)
    make_result(tmp_path / "ev/g", "toy", "test", str(final), [True] * 5 + [False] * 5)
    board = build_board(scan([tmp_path])[0], baseline="grpo-only", paper=False)
    mean = board.row("vold (mean of 3 seeds)")
    assert mean.kind == "mean" and mean.cells["toy/test"].acc == pytest.approx(70.0)
    assert mean.cells["toy/test"].std == pytest.approx(10.0)
    assert board.deltas[("vold (mean of 3 seeds)", "toy/test")] == pytest.approx(20.0)
    # significance stays per seed (paired on items), never on the mean row
    assert {r for r, _, _ in board.sig} == {"vold-s0", "vold-s1", "vold-s2"}
    from vold_bench import plots, report
    assert "70.0±10.0 (+20.0)" in report.markdown(board, ablation=True)
    assert plots.leaderboard_png(board, tmp_path / "lb.png").exists()


def test_no_delta_between_published_and_run_rows(world):
    board = build_board(scan([world])[0], baseline="Qwen/Qwen2.5-VL-3B-Instruct", paper=True)
    assert ("VOLD (VOLD T1)", "mathvision/testmini") not in board.deltas
    board = build_board(scan([world])[0], baseline="Qwen2.5-VL-3B (VOLD T1)", paper=True)
    assert board.deltas[("VOLD (VOLD T1)", "mathvision/testmini")] == pytest.approx(28.0 - 21.9)
    assert ("Qwen/Qwen2.5-VL-3B-Instruct", "mathvision/testmini") not in board.deltas


def test_judge_and_compat_enter_the_protocol(tmp_path):
    make_result(tmp_path / "a", "mathvista", "testmini", "a", [True, False])
    make_result(tmp_path / "b", "mathvista", "testmini", "b", [True, True],
                judge={"model": "qwen-judge", "n_consulted": 1})
    make_result(tmp_path / "c", "mathvista", "testmini", "c", [False, True], compat=True)
    board = build_board(scan([tmp_path])[0], baseline="a", paper=False)
    notes = {r: board.footnotes[board.flags[(r, "mathvista/testmini")] - 1] for r in ("b", "c")}
    assert "judge='qwen-judge' (reference None)" in notes["b"]
    assert "compat=True (reference False)" in notes["c"]


def test_curves_use_rl_stage_lines(tmp_path):
    from vold_bench.plots import read_metrics

    run = tmp_path / "run"
    run.mkdir()
    lines = [{"stage": "sft", "step": 0, "loss": 2.0}, {"stage": "sft", "step": 1, "loss": 1.0},
             {"stage": "rl", "step": 0, "reward": 0.1}, {"stage": "rl", "step": 1, "reward": 0.3}]
    (run / "metrics.jsonl").write_text("\n".join(json.dumps(rec) for rec in lines) + "\n{\"torn")
    assert [r["reward"] for r in read_metrics(run)] == [0.1, 0.3]


def test_masked_fraction_curve_only_for_runs_that_distil(tmp_path):
    # grpo-only logs masked_frac (its reward-1 share) though it has no distillation term to mask
    from vold_bench.plots import curve_records

    lines = "".join(json.dumps({"stage": "rl", "step": k, "reward": 0.5, "masked_frac": 0.5}) + "\n"
                    for k in range(2))
    for name, kd in (("grpo-only", False), ("vold", True), ("no-run-json", None)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.jsonl").write_text(lines)
        if kd is not None:
            (tmp_path / name / "run.json").write_text(json.dumps({"recipe": name, "variant": {"kd": kd}}))
    got = {n: [("masked_frac" in r, r["reward"]) for r in curve_records(tmp_path / n)]
           for n in ("grpo-only", "vold", "no-run-json")}
    assert got == {"grpo-only": [(False, 0.5)] * 2, "vold": [(True, 0.5)] * 2, "no-run-json": [(True, 0.5)] * 2}


def test_missing_samples_or_disjoint_ids_are_noted(tmp_path):
    make_result(tmp_path / "a", "toy", "test", "a", [True, False, True])
    make_result(tmp_path / "b", "toy", "test", "b", [True, True, True])
    (tmp_path / "b" / "samples.jsonl").unlink()
    make_result(tmp_path / "c", "toy", "test", "c", [True], ids=["other"])
    board = build_board(scan([tmp_path])[0], baseline="a", paper=False)
    assert board.sig == []
    assert any("b on toy/test" in n and str(tmp_path / "b") in n for n in board.notes)
    assert any("c on toy/test" in n and "no item id in common" in n for n in board.notes)
