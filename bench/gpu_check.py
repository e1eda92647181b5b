"""One prepared GPU check of the paper-scale paths (issue 15); `bench/gpu_check.sh` runs it.

    bench/gpu_check.sh [--dry-run] [--data DIR] [--out DIR] [--work DIR] [--steps a,b] [--budget-s N]
    bench/gpu_check.sh --stage-data      # copy MathVision testmini into ./shared/ for a device run

Steps, each a child process under its own time limit (a failure or a hang is recorded and the
next step runs): env, build (random-init Qwen2.5-VL-3B + Qwen3-8B, bench/_gpu_models.py),
eval_vllm (`vold eval --backend vllm`, 304 MathVision testmini items), eval_hf (`--backend hf`,
the first 64), rl_hf and rl_vllm (two RL steps of recipes/paper/vold.yaml, HF then vLLM
engines), gpu_tests (pytest -m gpu). Every figure goes to <out>/gpu_check.json; a summary is
printed. `--dry-run` runs the same steps on CPU with tiny models of the same configs.

Peak memory: bench/_gpu_run.py says how it is sampled.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _gpu_run import run_child  # noqa: E402

# rl_vllm last: the heaviest step (two vLLM engines beside the trainer) and the likeliest to
# run out of memory or time, so it gets what the budget has left after the others.
STEPS = ("env", "build", "eval_vllm", "eval_hf", "rl_hf", "gpu_tests", "rl_vllm")
RECIPE = "recipes/paper/vold.yaml"
# EasyR1's published Qwen2.5-VL-3B GRPO rollout throughput, the point of comparison.
ANCHOR = {"source": "EasyR1, Qwen2.5-VL-3B GRPO rollouts", "gen_tokens_per_s_per_h100": 1800}


@dataclass
class Sizes:
    """What each step does; the GPU defaults are set to end inside 8 minutes on one H100."""
    eval_vllm_items: int = 304     # all of MathVision testmini
    eval_hf_items: int = 64
    eval_max_new_tokens: int = 256  # random-init models never stop: every item generates this many
    eval_hf_batch: int = 16
    rl_steps: int = 2
    rl_prompts: int = 4
    rl_group: int = 5              # the recipe's G
    rl_max_new_tokens: int = 256
    rl_micro_batch: int = 4        # sizing plans 76.8 GB at 4, 84.7 GB at 10 on one 80 GB GPU
    budget_s: int = 450            # the whole check; + up to 30 s to end a step killed at its limit
    caps: dict = field(default_factory=lambda: {"env": 60, "build": 150, "eval_vllm": 150, "eval_hf": 120,
                                                "rl_hf": 180, "rl_vllm": 210, "gpu_tests": 180})


DRY = Sizes(eval_vllm_items=4, eval_hf_items=4, eval_max_new_tokens=8, eval_hf_batch=4, rl_prompts=2,
            rl_group=2, rl_max_new_tokens=8, rl_micro_batch=4, budget_s=600,
            caps={"env": 60, "build": 120, "eval_vllm": 240, "eval_hf": 150, "rl_hf": 180,
                  "rl_vllm": 300, "gpu_tests": 180})


# ---------------------------------------------------------------- the steps


class Check:
    def __init__(self, args):
        self.dry = args.dry_run
        self.sizes = replace(DRY if self.dry else Sizes(), **({"budget_s": args.budget_s} if args.budget_s else {}))
        self.py = sys.executable
        self.out, self.work = args.out, args.work
        self.data = args.data
        self.models = self.work / "models"
        self.student, self.teacher = str(self.models / "student"), str(self.models / "teacher")
        self.gpu_mem_gb = 0.0
        self.vllm_py, self.vllm_why = None, ""
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false",
                        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
        if self.dry:  # CPU only, one thread each: the dry run shares small machines and CI
            self.env.update(VOLD_DEVICE="cpu", CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")

    def missing_models(self) -> dict | None:
        if (self.models / "student" / "config.json").exists() and (self.models / "teacher" / "config.json").exists():
            return None
        return {"status": "error", "error": f"no built models in {self.models} (the build step failed or did not run)"}

    def child(self, name: str, cmd: list[str], timeout: float, py: str | None = None) -> dict:
        return run_child([py or self.py] + cmd, ROOT, timeout, self.work / f"{name}.log", self.env, not self.dry)

    # ---- env
    def step_env(self, timeout: float) -> dict:
        probe = ("import json, importlib.util as u, platform, torch, transformers\n"
                 "c = torch.cuda.is_available()\n"
                 "print(json.dumps({'python': platform.python_version(), 'torch': torch.__version__,"
                 " 'transformers': transformers.__version__, 'cuda': c,"
                 " 'device': torch.cuda.get_device_name(0) if c else 'cpu',"
                 " 'gpu_mem_gb': torch.cuda.get_device_properties(0).total_memory / 2**30 if c else 0,"
                 " 'missing': [m for m in ('vllm', 'datasets', 'math_verify', 'typer', 'rich', 'yaml',"
                 " 'PIL', 'pytest') if u.find_spec(m) is None]}))")
        res = self.child("env", ["-c", probe], timeout)
        lines = (self.work / "env.log").read_text().strip().splitlines()
        if res["status"] == "ok":
            res.update(json.loads(lines[-1]))
            self.gpu_mem_gb = res["gpu_mem_gb"]
            if not self.dry and not res["cuda"]:
                raise SystemExit("error: torch sees no CUDA device; run with --dry-run on a CPU machine")
        res["git_sha"] = _git_sha()
        self.vllm_py, self.vllm_why = self._find_vllm(res.get("missing", []))
        res["vllm_python"] = self.vllm_py or f"none ({self.vllm_why})"
        return res

    def _find_vllm(self, missing: list[str]) -> tuple[str | None, str]:
        """The interpreter the vLLM steps use: $VOLD_VLLM_PYTHON, else this one when it has vllm,
        else .venv-vllm (the CPU vLLM env of `make vllm-env`)."""
        cands = [os.environ.get("VOLD_VLLM_PYTHON")]
        cands += [self.py] if "vllm" not in missing else []
        cands += [str(ROOT / ".venv-vllm" / "bin" / "python")]
        for c in filter(None, cands):
            if Path(c).exists() and subprocess.run([c, "-c", "import vllm"], capture_output=True,
                                                   timeout=180).returncode == 0:
                return c, ""
        return None, "vllm not importable here and no .venv-vllm (make vllm-env) or VOLD_VLLM_PYTHON"

    # ---- build
    def step_build(self, timeout: float) -> dict:
        cmd = ["bench/_gpu_models.py", "--out", str(self.models), "--device", "cpu" if self.dry else "cuda"]
        res = self.child("build", cmd + (["--tiny"] if self.dry else []), timeout)
        if res["status"] == "ok":
            info = json.loads((self.models / "build.json").read_text())
            res.update(tiny=info["tiny"], vocab=info["vocab"], tokenizer_s=info["tokenizer_s"],
                       models={r: {"config_of": m["config_of"], "params_b": round(m["params"]["total"] / 1e9, 4),
                                   "build_s": m["build_s"], "disk_gb": m["disk_gb"]}
                               for r, m in info["models"].items()})
        return res

    # ---- eval
    def step_eval(self, backend: str, timeout: float) -> dict:
        if backend == "vllm" and not self.vllm_py:
            return {"status": "skipped", "reason": self.vllm_why}
        if self.missing_models():
            return self.missing_models()
        s = self.sizes
        n = s.eval_vllm_items if backend == "vllm" else s.eval_hf_items
        if not (self.data / "testmini.jsonl").is_file():
            return {"status": "error", "error": f"MathVision testmini not found at {self.data} "
                                                f"(pass --data, or run --stage-data first)"}
        out = self.work / f"eval_{backend}"
        shutil.rmtree(out, ignore_errors=True)  # a fresh run: the harness would resume a stale one
        cmd = ["-m", "vold_bench.cli", "eval", "--bench", "mathvision", "--split", "testmini",
               "--data", str(self.data), "--model", self.student, "--backend", backend,
               "--limit", str(n), "--max-new-tokens", str(s.eval_max_new_tokens),
               "--batch-size", str(s.eval_hf_batch), "--out", str(out)]
        res = self.child(f"eval_{backend}", cmd, timeout, self.vllm_py if backend == "vllm" else None)
        if (out / "results.json").exists():
            r = json.loads((out / "results.json").read_text())
            p = json.loads((out / "progress.json").read_text())
            res.update(items=r["n"], n_errors=r["n_errors"], max_new_tokens=s.eval_max_new_tokens,
                       gen_tokens=p["gen_tokens"], gen_s=round(p["gen_s"], 2),
                       items_per_s=round(p["gen_items"] / p["gen_s"], 3) if p["gen_s"] else 0.0,
                       items_per_s_with_load=r["items_per_s"], gen_tokens_per_s=r["gen_tokens_per_s"],
                       harness_wall_s=r["wall_s"])
            if r["n_errors"]:
                res["first_error"] = _first_error(out / "samples.jsonl")
        return res

    # ---- RL
    def _rl_args(self, engine: str, data: Path) -> list[str]:
        s = self.sizes
        sets = ["stages=[rl]", f"rl.model={self.student}", f"rl.teacher={self.teacher}",
                f"rl.data={data}", f"rl.steps={s.rl_steps}", f"rl.prompts_per_step={s.rl_prompts}",
                f"rl.group_size={s.rl_group}", f"rl.sampling.max_new_tokens={s.rl_max_new_tokens}",
                f"rl.engine.micro_batch={s.rl_micro_batch}", "rl.save_every=1000",
                f"rl.engine.rollout={engine}", f"rl.engine.teacher={engine}"]
        if engine == "vllm":
            sets += [f"rl.engine.vllm_gpu_memory_utilization={self._vllm_util():.3f}",
                     f"rl.engine.vllm_sleep={'false' if self.dry else 'true'}"]
        return [a for kv in sets for a in ("--set", kv)]

    def _vllm_util(self) -> float:
        # Each of the two engines reserves this share of the GPU. The trainer passes no
        # max_model_len, so the teacher engine must hold Qwen3-8B's bf16 weights (15.3 GiB),
        # vLLM's profiling activations (~2 GiB) and the KV cache of one 40,960-token sequence
        # (5.6 GiB), or vLLM refuses to start: 24 GiB. On CPU vLLM the share sizes the KV cache.
        if self.dry or not self.gpu_mem_gb:
            return 0.2
        return min(0.45, max(0.1, 24.0 / self.gpu_mem_gb))

    def step_rl(self, engine: str, timeout: float) -> dict:
        if engine == "vllm" and not self.vllm_py:
            return {"status": "skipped", "reason": self.vllm_why}
        if self.missing_models():
            return self.missing_models()
        data = _write_problems(self.work / "data" / "problems.jsonl", 64)
        out = self.work / f"rl_{engine}"
        shutil.rmtree(out, ignore_errors=True)
        res = {"plan": self._plan(engine)}
        cmd = ["-m", "vold_bench.cli", "train", "--recipe", RECIPE, "--out", str(out)] + self._rl_args(engine, data)
        res.update(self.child(f"rl_{engine}", cmd, timeout, self.vllm_py if engine == "vllm" else None))
        res.update(_rl_figures(out / "metrics.jsonl", self.sizes))
        if res.get("plan", {}).get("peak_gb") is not None:
            res["measured_vs_plan"] = round(res["peak_mem_gb"] / res["plan"]["peak_gb"], 3)
        if not self.dry:  # the fp32 final model is 15 GB: keep the disk for the next step
            shutil.rmtree(out / "rl", ignore_errors=True)
        return res

    def _plan(self, engine: str) -> dict:
        """sizing.py's per-GPU estimate for this exact run, before it starts."""
        try:
            from vold_train.config import load_recipe
            from vold_train.sizing import Plan, estimate, load_config

            r = load_recipe(RECIPE, [a for a in self._rl_args(engine, Path("x.jsonl")) if a != "--set"]).rl
            e = r.engine
            plan = Plan(gpus=1, gpu_mem_gb=self.gpu_mem_gb or 80.0, strategy="ddp", micro_batch=e.micro_batch,
                        seq_len=r.plan.prompt_tokens + r.sampling.max_new_tokens, grad_ckpt=e.gradient_checkpointing,
                        bf16=e.bf16, logprob_chunk=e.logprob_chunk, teacher_engine=e.teacher,
                        rollout_engine=e.rollout, vllm_mem_fraction=e.vllm_gpu_memory_utilization)
            rep = estimate(load_config(self.student), load_config(self.teacher), plan)
        except Exception as e:  # the plan is a figure, not a gate: record why it is missing
            return {"error": f"{type(e).__name__}: {str(e)[:200]}"}
        res = {"peak_gb": round(rep["peak_gb"], 2), "train_gb": round(rep["train_gb"], 2),
               "rollout_gb": round(rep["rollout_gb"], 2), "fits": rep["fits"], "gpu_mem_gb": round(plan.gpu_mem_gb, 1)}
        if engine == "vllm":
            # sizing.py counts one colocated engine; with the teacher on vLLM too the trainer
            # starts a second one with the same share, awake through the rollout phase.
            second = plan.vllm_mem_fraction * plan.gpu_mem_gb
            res["peak_gb_with_second_engine"] = round(max(rep["train_gb"] + second, rep["rollout_gb"] + second), 2)
        return res

    # ---- tests marked gpu
    def step_gpu_tests(self, timeout: float) -> dict:
        files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                       if "mark.gpu" in p.read_text())
        xml = self.work / "gpu_tests.xml"
        # Only the files that hold gpu tests: a collection error elsewhere (a package this
        # machine lacks) must not stop these from running.
        res = self.child("gpu_tests", ["-m", "pytest", "-q", "-rs", "-m", "gpu", "-p", "no:cacheprovider",
                                       f"--junitxml={xml}", *files], timeout)
        res["files"] = files
        res.update(_junit_counts(xml))
        return res


def _git_sha() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _first_error(samples: Path) -> str | None:
    for line in samples.read_text().splitlines():
        s = json.loads(line)
        if s.get("error"):
            return str(s["error"])[:300]
    return None


def _write_problems(path: Path, n: int) -> Path:
    """Text problems with gold answers in the orz57k.jsonl schema (vold_train/data.py reads it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"id": f"gc-{i}", "question": f"A shelf holds {i + 3} boxes of {2 * i + 5} apples each. "
             "How many apples are on the shelf? Put the final answer in \\boxed{}.", "gold": str((i + 3) * (2 * i + 5))}
            for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _rl_figures(metrics: Path, s: Sizes) -> dict:
    if not metrics.exists():
        return {"steps_done": 0}
    recs = [json.loads(ln) for ln in metrics.read_text().splitlines() if ln.strip()]
    recs = [r for r in recs if r.get("stage") == "rl"]
    per = [{"step": r["step"], "rollout_s": round(r["rollout_s"], 3), "teacher_s": round(r["teacher_s"], 3),
            "update_s": round(r["train_s"], 3), "step_s": round(r["step_s"], 3),
            "gen_tokens": round(r["resp_len"] * s.rl_prompts * s.rl_group),
            "gen_tokens_per_s": round(r["tokens_per_s"], 2), "reward": r["reward"],
            "teacher_k2": r.get("teacher_k2"), "teacher_rkl": r.get("teacher_rkl")} for r in recs]
    out = {"steps_done": len(per), "per_step": per, "rollouts_per_step": s.rl_prompts * s.rl_group,
           "max_new_tokens": s.rl_max_new_tokens}
    if per:  # the last step: the first pays warm-up (CUDA graphs, allocator, kernel autotune)
        out.update({k: per[-1][k] for k in ("rollout_s", "teacher_s", "update_s", "step_s", "gen_tokens_per_s")})
    return out


def _junit_counts(xml: Path) -> dict:
    if not xml.exists():
        return {}
    import xml.etree.ElementTree as ET

    suites = ET.parse(xml).getroot()
    suite = suites if suites.tag == "testsuite" else suites.find("testsuite")
    n = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    n["passed"] = n["tests"] - n["failures"] - n["errors"] - n["skipped"]
    n["failed_names"] = [c.get("name") for c in suite.iter("testcase")
                         if c.find("failure") is not None or c.find("error") is not None]
    return n


# ---------------------------------------------------------------- the whole check


def run_check(args) -> dict:
    c = Check(args)
    c.work.mkdir(parents=True, exist_ok=True)
    c.out.mkdir(parents=True, exist_ok=True)
    steps = args.steps or list(STEPS)
    report = {"mode": "dry-run (CPU, tiny models of the same configs)" if c.dry else "gpu",
              "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "data": str(c.data), "recipe": RECIPE,
              "sizes": asdict(c.sizes), "anchor": ANCHOR, "steps": {}}
    run = {"env": c.step_env, "build": c.step_build,
           "eval_vllm": lambda t: c.step_eval("vllm", t), "eval_hf": lambda t: c.step_eval("hf", t),
           "rl_hf": lambda t: c.step_rl("hf", t), "rl_vllm": lambda t: c.step_rl("vllm", t),
           "gpu_tests": c.step_gpu_tests}
    t0 = time.perf_counter()
    for name in STEPS:
        if name not in steps:
            continue
        left = c.sizes.budget_s - (time.perf_counter() - t0)
        if left < 15:
            res = {"status": "skipped", "reason": f"the check's {c.sizes.budget_s} s budget is spent"}
        else:
            print(f"[gpu_check] {name} (limit {min(c.sizes.caps[name], left):.0f} s)", flush=True)
            try:
                res = run[name](min(c.sizes.caps[name], left))
            except SystemExit:
                raise
            except Exception as e:  # a bug in the check itself: record it, keep the other figures
                res = {"status": "error", "error": f"gpu_check: {type(e).__name__}: {str(e)[:300]}"}
        report["steps"][name] = res
        report["wall_s"] = round(time.perf_counter() - t0, 2)
        _write(c.out / "gpu_check.json", report)  # after every step: a killed check keeps what it had
    _collect_logs(c.work, c.out / "gpu_check.log", steps)
    return report


def _write(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    tmp.replace(path)


def _collect_logs(work: Path, dest: Path, steps: list[str]) -> None:
    # One log file beside the JSON (the device tool brings back at most 8 files).
    with open(dest, "w") as f:
        for name in steps:
            log = work / f"{name}.log"
            if log.exists():
                f.write(f"===== {name}\n" + log.read_text(errors="replace")[-20000:] + "\n")


def _fmt(v, unit: str = "") -> str:
    return "-" if v is None else f"{v:,.2f}{unit}" if isinstance(v, float) else f"{v}{unit}"


def summary(rep: dict) -> str:
    st = rep["steps"]
    lines = [f"vold GPU check - {rep['mode']} - {rep['wall_s']:.0f} s wall"]
    env = st.get("env", {})
    if env.get("status") == "ok":
        lines.append(f"  env: {env['device']}, torch {env['torch']}, transformers {env['transformers']}, "
                     f"missing {', '.join(env['missing']) or 'none'}; vLLM python: {env['vllm_python']}")
    for name in STEPS[1:]:
        r = st.get(name)
        if r is None:
            continue
        head = f"  {name:<10} {r['status']:<8} {_fmt(r.get('wall_s'), ' s'):>10}"
        if r["status"] in ("skipped",) or r.get("error"):
            head += f"  {r.get('reason') or r.get('error')}"
        lines.append(head)
        if name == "build" and "models" in r:
            lines.append("             " + "; ".join(f"{k} {m['params_b']:.3f}B params, {m['build_s']} s"
                                                    for k, m in r["models"].items()))
        if name.startswith("eval") and "items" in r:
            lines.append(f"             {r['items']} items, {_fmt(r['items_per_s'])} items/s "
                         f"({_fmt(r['items_per_s_with_load'])} with model load), "
                         f"{_fmt(r['gen_tokens_per_s'])} generated tokens/s, peak {_fmt(r['peak_mem_gb'], ' GB')}")
        if name.startswith("rl_") and r.get("steps_done"):
            plan = r.get("plan", {})
            lines.append(f"             {r['steps_done']} steps; last: rollout {r['rollout_s']} s, teacher "
                         f"{r['teacher_s']} s, update {r['update_s']} s, {r['gen_tokens_per_s']} gen tokens/s; "
                         f"peak {_fmt(r['peak_mem_gb'], ' GB')} vs plan {_fmt(plan.get('peak_gb'), ' GB')}")
        if name == "gpu_tests" and "tests" in r:
            lines.append(f"             {r['passed']} passed, {r['failures'] + r['errors']} failed, "
                         f"{r['skipped']} skipped of {r['tests']}")
    lines.append(f"  anchor: {ANCHOR['source']}: ~{ANCHOR['gen_tokens_per_s_per_h100']:,} generated tokens/s per H100")
    return "\n".join(lines)


def default_data() -> Path:
    """$VOLD_SHARED, then ./shared (travels to the device machine), then ../shared (tests' default)."""
    for base in filter(None, (os.environ.get("VOLD_SHARED"), ROOT / "shared", ROOT.parent / "shared")):
        d = Path(base) / "benchmarks" / "mathvision"
        if (d / "testmini.jsonl").is_file():
            return d
    return ROOT.parent / "shared" / "benchmarks" / "mathvision"


def stage_data(src: Path, dest: Path) -> None:
    """testmini.jsonl and its 304 images (9.5 MB) into ./shared/, which the device tool carries
    (the whole folder with the 3,040 test images would pass its 64 MiB limit)."""
    if not (src / "testmini.jsonl").is_file():
        raise SystemExit(f"error: no testmini.jsonl in {src}; pass --data")
    (dest / "images").mkdir(parents=True, exist_ok=True)
    text = (src / "testmini.jsonl").read_text()
    for line in text.splitlines():
        img = json.loads(line).get("image")
        if img:
            shutil.copy2(src / img, dest / img)
    (dest / "testmini.jsonl").write_text(text)
    print(f"staged {len(text.splitlines())} items into {dest}")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="One prepared GPU check of vold's paper-scale paths.")
    ap.add_argument("--dry-run", action="store_true", help="the same steps on CPU with tiny models")
    ap.add_argument("--data", type=Path, default=None, help="MathVision folder with testmini.jsonl and images/")
    ap.add_argument("--out", type=Path, default=None, help="where gpu_check.json and gpu_check.log go "
                    "(default $OUT, else results/gpu_check)")
    ap.add_argument("--work", type=Path, default=None, help="models, runs and logs (default results/tmp/gpu_check)")
    ap.add_argument("--steps", default="", help=f"comma list, a subset of {','.join(STEPS)}")
    ap.add_argument("--budget-s", type=int, default=0, help="whole-check time budget (default 450 GPU, 600 dry)")
    ap.add_argument("--stage-data", action="store_true", help="copy testmini into ./shared/ and exit")
    a = ap.parse_args(argv)
    a.steps = [s.strip() for s in a.steps.split(",") if s.strip()]
    bad = [s for s in a.steps if s not in STEPS]
    if bad:
        ap.error(f"unknown step {bad[0]!r}; valid: {', '.join(STEPS)}")
    if a.steps and "env" not in a.steps:
        a.steps.insert(0, "env")  # every other step reads what env found
    if a.data is not None and not a.data.is_dir():
        ap.error(f"--data {a.data}: no such folder")
    a.data = (a.data or default_data()).resolve()
    a.out = (a.out or Path(os.environ.get("OUT") or ROOT / "results" / "gpu_check")).resolve()
    a.work = (a.work or ROOT / "results" / "tmp" / "gpu_check").resolve()
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.stage_data:
        stage_data(a.data, ROOT / "shared" / "benchmarks" / "mathvision")
        return 0
    rep = run_check(a)
    print(summary(rep))
    print(f"[gpu_check] figures: {a.out / 'gpu_check.json'}")
    return 0 if all(r["status"] in ("ok", "skipped") for r in rep["steps"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
