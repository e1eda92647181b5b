"""Device placement: dist.device() resolves it, the models go there, every tensor follows.

Without a GPU the placement is checked on a stand-in device (tests/_device_util.py): the
trainer runs with dist.device() = cpu:1, whose tensors compute on the CPU but may not be mixed
with plain CPU tensors, so a tensor left behind raises exactly where CUDA would. The GPU tests
at the end run the same recipes on cuda and skip themselves without it.
"""
import contextlib
import hashlib
import json
import math
import zlib
from pathlib import Path

import pytest
import torch

from _device_util import FAKE, DeviceMismatch, FakeDevice
from _kill_util import dies_after
from vold_bench.errors import VoldError
from vold_train import dist
from vold_train.run import train_recipe

# ---------------------------------------------------------------- the resolver


@pytest.fixture
def gpus(monkeypatch):
    """Pretend `n` CUDA devices exist; records torch.cuda.set_device calls."""
    calls = []

    def make(n: int):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
        monkeypatch.setattr(torch.cuda, "set_device", lambda d: calls.append(torch.device(d)))
        return calls

    return make


def test_cpu_without_cuda(gpus):
    calls = gpus(0)
    assert dist.device({}) == torch.device("cpu")
    assert dist.device({"VOLD_DEVICE": "auto", "LOCAL_RANK": "3"}) == torch.device("cpu")
    assert calls == []


def test_cuda_of_the_local_rank(gpus):
    calls = gpus(2)
    assert dist.device({}) == torch.device("cuda", 0)
    assert dist.device({"LOCAL_RANK": "1"}) == torch.device("cuda", 1)
    assert dist.device({"VOLD_DEVICE": "cuda", "LOCAL_RANK": "1"}) == torch.device("cuda", 1)
    assert dist.device({"VOLD_DEVICE": "cuda:0", "LOCAL_RANK": "1"}) == torch.device("cuda", 0)
    assert calls == [torch.device("cuda", i) for i in (0, 1, 1, 0)]  # the current GPU is set too


def test_overrides_force_the_cpu(gpus):
    calls = gpus(2)
    assert dist.device({"VOLD_DEVICE": "cpu"}) == torch.device("cpu")
    assert dist.device({"VOLD_DEVICE": " CPU "}) == torch.device("cpu")
    assert dist.device({"ACCELERATE_USE_CPU": "true", "LOCAL_RANK": "1"}) == torch.device("cpu")
    # the explicit VOLD_DEVICE wins over accelerate's use_cpu
    assert dist.device({"ACCELERATE_USE_CPU": "1", "VOLD_DEVICE": "cuda"}) == torch.device("cuda", 0)
    assert calls == [torch.device("cuda", 0)]


def test_impossible_devices_are_errors(gpus):
    gpus(1)
    with pytest.raises(VoldError, match="only 1 CUDA device"):
        dist.device({"LOCAL_RANK": "1"})
    with pytest.raises(VoldError, match="expected auto, cpu, cuda"):
        dist.device({"VOLD_DEVICE": "tpu"})
    gpus(0)
    with pytest.raises(VoldError, match="CUDA is not available"):
        dist.device({"VOLD_DEVICE": "cuda:0"})


@pytest.mark.parametrize("n_gpus,override,backend", [(0, "", "gloo"), (2, "", "nccl"), (2, "cpu", "gloo")])
def test_process_group_backend_follows_the_device(gpus, monkeypatch, n_gpus, override, backend):
    gpus(n_gpus)
    seen = []
    monkeypatch.setattr(dist, "_state", None)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("VOLD_DEVICE", override)
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda b: seen.append(b))
    assert dist.init() and seen == [backend]


# ---------------------------------------------------------------- the stand-in device


def test_the_stand_in_device_catches_a_tensor_left_behind():
    lin = torch.nn.Linear(3, 2)
    x = torch.randn(4, 3)
    with FakeDevice() as mode:
        lin.to(FAKE)
        assert lin.weight.device == FAKE and lin(x.to(FAKE)).device == FAKE
        with pytest.raises(DeviceMismatch, match="mixed"):
            lin(x)
        with pytest.raises(DeviceMismatch, match="left on the CPU"):
            torch.nn.Embedding(5, 2)(torch.tensor([1]))  # a model that was never moved
    assert mode.ops > 0


def coin(text, item):
    # a deterministic function of the text: mixed rewards, so every loss branch runs
    return float(zlib.crc32(text.encode()) % 2)


RL = ["rl.steps=2", "rl.prompts_per_step=2", "rl.group_size=3", "rl.sampling.max_new_tokens=16",
      "rl.engine.micro_batch=3"]
SMALL = ["traces.n_prompts=8", "traces.batch_size=4", "traces.max_new_tokens=64", "sft.steps=2",
         "sft.batch_size=4", "sft.micro_batch=2", "sft.warmup_steps=1", *RL]
RL_ONLY = ["stages=rl", "rl.model=toy-student", *RL]
# recipe, overrides: every stage, both KD estimators, both family teachers (EMA, image teacher)
RUNS = {"vold": ("vold", SMALL), "kd_full": ("vold", RL_ONLY + ["rl.kd=full"]),
        "srpo_self": ("srpo-self", RL_ONLY), "va_opd": ("va-opd", RL_ONLY + ["rl.pg=true"])}


def digest(run: Path) -> dict:
    """sha256 of every final model folder's weights, and the metrics without timings."""
    out = {d.parent.name: hashlib.sha256((d / "model.safetensors").read_bytes()).hexdigest()
           for d in sorted(run.glob("*/final"))}
    recs = [{k: v for k, v in json.loads(ln).items() if not k.endswith("_s") and k != "tokens_per_s"}
            for ln in (run / "metrics.jsonl").read_text().splitlines()]
    return {**out, "metrics": recs}


def on_fake_device(monkeypatch):
    monkeypatch.setattr(dist, "device", lambda env=None: FAKE)
    return FakeDevice()


@pytest.fixture(scope="module")
def cpu_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cpu")
    return {name: digest(train_recipe(recipe, args, out=root / name, reward_fn=coin))
            for name, (recipe, args) in RUNS.items()}


@pytest.mark.parametrize("name", RUNS)
def test_every_tensor_follows_the_models_to_their_device(name, cpu_runs, tmp_path, monkeypatch):
    recipe, args = RUNS[name]
    with on_fake_device(monkeypatch) as mode:
        run = train_recipe(recipe, args, out=tmp_path / "run", reward_fn=coin)
    assert mode.ops > 1000  # the models really ran there
    # same computation, only placed: bit-identical weights and metrics (CPU copies were saved)
    assert digest(run) == cpu_runs[name]


@pytest.mark.parametrize("recipe", ["vold", "srpo-self"])
def test_checkpoints_move_between_devices(recipe, tmp_path, monkeypatch):
    """A checkpoint written on one device resumes on the other and ends where an uninterrupted
    run ends (optimizer state, RNG and the SRPO EMA included)."""
    args = RL_ONLY + ["rl.steps=3", "rl.save_every=2"]
    whole = digest(train_recipe(recipe, args, out=tmp_path / "whole", reward_fn=coin))
    def on(device: str, m):
        return on_fake_device(m) if device == "fake" else contextlib.nullcontext()

    for first, then in (("fake", "cpu"), ("cpu", "fake")):
        out = tmp_path / f"{first}_then_{then}"
        with monkeypatch.context() as m, on(first, m), pytest.raises(KeyboardInterrupt):
            train_recipe(recipe, args, out=out, reward_fn=dies_after(12, coin))  # in step 3
        assert (out / "rl" / "ckpt-000002").is_dir()
        with monkeypatch.context() as m, on(then, m):
            run = train_recipe(recipe, args, out=out, reward_fn=coin)
        assert digest(run) == whole, out.name


# ---------------------------------------------------------------- on a real GPU

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("recipe,extra", [("vold", []),
                                          ("vold", ["rl.engine.bf16=true", "sft.bf16=true", "rl.kd=full"]),
                                          ("srpo-self", []), ("va-opd", ["rl.pg=true"])])
def test_toy_recipe_on_cuda(recipe, extra, tmp_path, monkeypatch):
    from vold_train import common, rl, sft, traces

    placed = []

    def load(*a, **k):
        placed.append(common.load_model(*a, **k))
        return placed[-1]

    for mod in (rl, sft, traces):
        monkeypatch.setattr(mod, "load_model", load)
    monkeypatch.delenv("VOLD_DEVICE", raising=False)
    run = train_recipe(recipe, SMALL + extra, out=tmp_path / "run", reward_fn=coin)
    assert placed and all(next(m.parameters()).device.type == "cuda" for m in placed)
    recs = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in recs] == ["sft", "sft", "rl", "rl"]
    for r in recs:
        assert all(math.isfinite(v) for k, v in r.items() if isinstance(v, float)), r
    # the GPU-written folder and checkpoint state open on the CPU
    monkeypatch.setenv("VOLD_DEVICE", "cpu")
    assert next(common.load_model(str(run / "rl" / "final"), "student").parameters()).device.type == "cpu"


@pytest.mark.gpu
@needs_cuda
def test_cuda_checkpoint_resumes_on_cpu(tmp_path, monkeypatch):
    args = RL_ONLY + ["rl.steps=3", "rl.save_every=2"]
    monkeypatch.delenv("VOLD_DEVICE", raising=False)
    with pytest.raises(KeyboardInterrupt):
        train_recipe("vold", args, out=tmp_path / "r", reward_fn=dies_after(12, coin))
    st = torch.load(tmp_path / "r" / "rl" / "ckpt-000002" / "trainer_state.pt", weights_only=False)
    assert st["rng"][0][2] is not None  # the CUDA generator was saved with the CPU one
    monkeypatch.setenv("VOLD_DEVICE", "cpu")
    run = train_recipe("vold", args, out=tmp_path / "r", reward_fn=coin)
    assert [json.loads(ln)["step"] for ln in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]
