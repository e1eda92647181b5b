"""Training configuration: one flat dataclass per stage, recipes as YAML, `--set` overrides.

A recipe (recipes/<name>.yaml) has top-level `stages` (which of traces / sft / rl run, in
that order), `seed` (copied into every stage), and one section per stage holding that stage's
fields. `--set rl.beta=0` sets one field; a bare key (`--set beta=0`) is accepted when exactly
one section has it. Unknown keys fail with the list of valid ones.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from vold_bench.errors import VoldError
from vold_bench.tasks import data_dir

RECIPES_DIR = data_dir("recipes")
STAGES = ("traces", "sft", "rl")


@dataclass
class TracesConfig:
    teacher: str = "toy-teacher"      # model that writes the traces (hub id, path, toy name)
    prompts: str = "toy"              # "toy" (toy-world text problems) or a .jsonl with `question`
    split: str = "train"
    n_prompts: int = 1024             # prompts to answer (paper: Mixture-of-Thoughts prompts)
    samples_per_prompt: int = 1
    max_new_tokens: int = 128         # generation budget per trace
    temperature: float = 0.7
    top_p: float = 1.0
    max_trace_tokens: int = 120       # length filter (paper: traces under 8,192 tokens)
    min_trace_tokens: int = 4
    require_boxed: bool = True        # drop traces with no \boxed{} answer (truncated or rambling)
    verify: bool = False              # keep only traces whose answer the scorer calls correct (paper: off)
    scorer: str = "toy"               # scorer used when verify is on
    batch_size: int = 32              # prompts per generate() call
    out: str = ""                     # jsonl to write; "" = <run>/traces.jsonl
    seed: int = 0


@dataclass
class SFTConfig:
    model: str = "toy-student"        # the student (Qwen2.5-VL; hub id, path, toy name)
    data: str = "traces"              # "traces" (this run's traces stage), "toy:teacher",
                                      # "toy:mismatched", or a .jsonl with question/response
    n_examples: int = 0               # 0 = all records of `data`
    max_len: int = 192                # prompt + completion tokens; longer examples are dropped
    lr: float = 1e-3                  # paper: 5e-5 at 3B; the toy student is 1000x smaller
    weight_decay: float = 0.01        # paper
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    warmup_steps: int = 10            # paper: 150 of 4,000
    steps: int = 400                  # paper: 4,000
    batch_size: int = 16              # sequences per optimizer step (paper: 256)
    micro_batch: int = 16             # sequences per forward pass (gradient accumulation)
    max_grad_norm: float = 1.0
    freeze_vision: bool = True        # paper: vision tower frozen, all LM weights trained
    replay: float = 0.0               # toy deviation: + replay * NLL(student's own pretraining mix), replay.py
    replay_batch: int = 8             # pretraining examples per step when replay > 0
    # bf16: student forwards in bf16 with fp32 master weights, AdamW states and gradient
    # reduction (FSDP2's mixed-precision policy; autocast in one process / ddp; DeepSpeed's
    # bf16); in RL the frozen teacher is loaded in bf16. gradient_checkpointing: each decoder
    # layer's activations are recomputed in backward (HF, non-reentrant). Both are meant for
    # GPUs at paper scale (recipes/paper/ set them); the toy recipes leave them off.
    bf16: bool = False
    gradient_checkpointing: bool = False
    save_every: int = 50              # steps between checkpoints
    log_every: int = 1
    seed: int = 0


@dataclass
class RLConfig:
    model: str = "sft"                # "sft" = this run's SFT output, else hub id / path / toy name
    teacher: str = "toy-teacher"      # text-only teacher that scores the student's tokens
    data: str = "toy"                 # "toy" (toy-world text problems) or a .jsonl with question/gold
    split: str = "train"
    pool: int = 0                     # toy data: 0 = a fresh stream (every problem new); N = N problems revisited
    lr: float = 2e-4                  # paper: 6e-6 at 3B; toy models are ~1000x smaller
    weight_decay: float = 0.0
    warmup_steps: int = 2             # paper: 5 of 60
    steps: int = 40                   # paper: 60
    prompts_per_step: int = 16        # paper: 256 / 5 rollouts ~ 51 prompts
    group_size: int = 5               # rollouts per prompt, G (paper: 5)
    max_new_tokens: int = 64
    min_new_tokens: int = 0           # >0 forces fixed-length rollouts (benchmarks only)
    temperature: float = 1.0
    top_p: float = 1.0
    clip_low: float = 0.2             # paper Table 4
    clip_high: float = 0.3            # paper Table 4 (clip-higher)
    agg: str = "token"                # "token" | "seq": how the GRPO loss averages
    adv_eps: float = 1e-6
    pg: bool = True                   # reward (GRPO) term on; False = distillation only (opd-only)
    # beta: weight of the distillation term, which sums KL over a rollout's tokens (eq. 5).
    # The paper says 0.1 in its text and 1e-3 in Table 4. We default to Table 4's 1e-3, the
    # hyperparameter table is what a reproduction follows, and with a per-rollout *sum* over
    # 1-8k-token traces, beta = 0.1 would make the KD term 100-800x a token-averaged GRPO term.
    # The toy recipes set beta so that beta * response length ~ 1 (their rollouts are ~40
    # tokens), the same balance 1e-3 gives the paper's ~1k-token rollouts.
    beta: float = 1e-3
    kd: str = "k2"                    # "k2" (paper: sampled-token estimator) | "full" (exact, shared vocab)
    kd_mask: str = "reward"           # "reward" (KD only on reward-0 rollouts) | "none"
    teacher_metrics: bool = True      # score with the teacher even at beta = 0 (logs teacher_k2 / _rkl)
    replay: float = 0.0               # toy deviation, as sft.replay (replay.py)
    replay_batch: int = 8
    log_exact_kl: bool = True         # log teacher_rkl, the exact reverse KL, every step (HF teacher)
    shared_vocab: int = 0             # ids compared with the teacher; 0 = min of both tokenizers/heads
    update_epochs: int = 1            # optimizer passes per rollout batch (1: old_logp == logp)
    micro_batch: int = 40             # rollouts per forward/backward
    max_grad_norm: float = 1.0
    logprob_chunk: int = 1024         # positions per chunk of the LM head (logprobs.py)
    bf16: bool = False                # as sft.bf16
    gradient_checkpointing: bool = False  # as sft.gradient_checkpointing
    save_every: int = 10
    seed: int = 0
    # ---- the on-policy family (family.py): other objectives on the same rollouts
    objective: str = "vold"           # "vold" | "srpo" (arXiv 2604.02288) | "va-opd" (arXiv 2605.21924)
    srpo_teacher: str = "external"    # "external" (rl.teacher, as VOLD) | "self" (EMA of the student
                                      # re-prompted with a correct sibling, as the SRPO paper)
    ema_rate: float = 0.05            # SRPO self-teacher: ema <- (1 - rate) ema + rate student (paper)
    va_degrade: float = 0.1           # VA-OPD: side factor of the degraded picture (paper: 10%)
    va_top_frac: float = 0.2          # VA-OPD: share of a rollout's tokens in the high-VA group (paper)
    curation: str = "none"            # "none" | "r-diverse" (arXiv 2602.13103 prompt curation)
    curation_embed: str = "toy-skill" # skill embedder for R-Diverse (curation.EMBEDDERS)
    replay_frac: float = 0.3          # R-Diverse: share of each batch replayed from memory (paper)
    # --- real-scale engines (vold_train/engines/trainer_engines.py); keep these last
    rollout_engine: str = "hf"        # "hf" (trainer's generate) | "vllm" (weights synced each step)
    teacher_engine: str = "hf"        # "hf" (forward pass, any kd) | "vllm" (prompt_logprobs, kd=k2 only)
    vllm_gpu_memory_utilization: float = 0.4  # GPU share each vLLM engine reserves
    vllm_sleep: bool = False          # colocated: rollout engine sleeps during teacher + update (GPU)
    teacher_token_budget: int = 32768  # tokens per vLLM teacher-scoring call (long traces split)
    # GPU plan for the start-up size check (vold_train/sizing.py); plan_gpus=0: no check
    plan_gpus: int = 0
    plan_gpu_mem_gb: float = 80.0
    plan_strategy: str = "fsdp"       # "fsdp" | "zero3" | "ddp"
    plan_prompt_tokens: int = 512     # prompt allowance: seq_len = this + max_new_tokens


STAGE_CLASSES = {"traces": TracesConfig, "sft": SFTConfig, "rl": RLConfig}
TOP_KEYS = ("stages", "seed", "threads", "description")


@dataclass
class Recipe:
    name: str
    stages: list[str]
    seed: int = 0
    # CPU threads for torch (0 = torch's default). Toy matmuls are tiny: with 2+ threads the
    # OpenMP barriers cost more than the maths, and on a busy machine (load > cores) a step was
    # measured 30x slower with 2 threads than with 1.
    threads: int = 1
    description: str = ""
    traces: TracesConfig = field(default_factory=TracesConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    rl: RLConfig = field(default_factory=RLConfig)

    def to_dict(self) -> dict:
        d = {"name": self.name, "stages": list(self.stages), "seed": self.seed,
             "threads": self.threads, "description": self.description}
        for s in STAGES:
            d[s] = asdict(getattr(self, s))
        return d


def _valid_keys() -> list[str]:
    return list(TOP_KEYS) + [f"{s}.{f.name}" for s, c in STAGE_CLASSES.items() for f in fields(c)]


def _coerce(value: Any, typ: Any, key: str, where: str):
    typ = typ if isinstance(typ, str) else getattr(typ, "__name__", str(typ))
    try:
        if typ == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "1", "yes", "on"):
                return True
            if str(value).lower() in ("false", "0", "no", "off"):
                return False
            raise ValueError(value)
        if typ == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if typ == "float":
            return float(value)
        return "" if value is None else str(value)
    except (TypeError, ValueError):
        raise VoldError(f"{where}: key {key!r} needs a {typ}, got {value!r}") from None


def _resolve_key(key: str) -> tuple[str | None, str]:
    """Map 'rl.beta' / 'beta' / 'seed' to (section, field); VoldError if unknown or ambiguous."""
    if key in TOP_KEYS:
        return None, key
    if "." in key:
        sec, name = key.split(".", 1)
        if sec in STAGE_CLASSES and name in {f.name for f in fields(STAGE_CLASSES[sec])}:
            return sec, name
    else:
        owners = [s for s, c in STAGE_CLASSES.items() if key in {f.name for f in fields(c)}]
        if len(owners) == 1:
            return owners[0], key
        if len(owners) > 1:
            raise VoldError(f"config key {key!r} is ambiguous; write one of "
                            + ", ".join(f"{o}.{key}" for o in owners))
    raise VoldError(f"unknown config key {key!r}; valid keys: {', '.join(_valid_keys())}")


def recipe_path(recipe: str) -> Path:
    p = Path(recipe)
    if p.suffix in (".yaml", ".yml"):
        if not p.exists():
            raise VoldError(f"recipe file {p} not found")
        return p
    p = RECIPES_DIR / f"{recipe}.yaml"
    if not p.exists():
        names = sorted(q.stem for q in RECIPES_DIR.glob("*.yaml"))
        raise VoldError(f"unknown recipe {recipe!r}; valid: {', '.join(names)}")
    return p


def load_recipe(recipe: str, overrides: list[str] | None = None) -> Recipe:
    path = recipe_path(recipe)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise VoldError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise VoldError(f"{path}: a recipe is a mapping of keys")
    flat: dict[tuple[str | None, str], Any] = {}
    for k, v in raw.items():
        if k in STAGE_CLASSES:
            if not isinstance(v, dict):
                raise VoldError(f"{path}: section {k!r} must be a mapping")
            for kk, vv in v.items():
                flat[_resolve_key(f"{k}.{kk}")] = vv
        else:
            flat[_resolve_key(k)] = v
    for ov in overrides or []:
        if "=" not in ov:
            raise VoldError(f"--set {ov!r}: expected key=value")
        k, v = ov.split("=", 1)
        flat[_resolve_key(k.strip())] = yaml.safe_load(v)
    return _build(path.stem, flat, where=str(path))


def _build(name: str, flat: dict, where: str) -> Recipe:
    stages = flat.get((None, "stages"), ["traces", "sft", "rl"])
    if isinstance(stages, str):
        stages = [s.strip() for s in stages.split(",") if s.strip()]
    bad = [s for s in stages if s not in STAGES]
    if bad or not stages:
        raise VoldError(f"{where}: stages {stages!r} invalid; choose from {', '.join(STAGES)}")
    seed = _coerce(flat.get((None, "seed"), 0), "int", "seed", where)
    secs = {}
    for sec, cls in STAGE_CLASSES.items():
        kw = {"seed": seed}
        for f in fields(cls):
            if (sec, f.name) in flat:
                kw[f.name] = _coerce(flat[(sec, f.name)], f.type, f"{sec}.{f.name}", where)
        secs[sec] = cls(**kw)
    threads = _coerce(flat.get((None, "threads"), 1), "int", "threads", where)
    r = Recipe(name=name, stages=[s for s in STAGES if s in stages], seed=seed, threads=threads,
               description=str(flat.get((None, "description"), "")), **secs)
    _validate(r, where)
    return r


def _validate(r: Recipe, where: str) -> None:
    checks = [
        (r.rl.agg in ("token", "seq"), "rl.agg must be token or seq"),
        (r.rl.kd in ("k2", "full"), "rl.kd must be k2 or full"),
        (r.rl.kd_mask in ("reward", "none"), "rl.kd_mask must be reward or none"),
        (r.rl.group_size >= 2 or not r.rl.pg, "rl.group_size must be >= 2 for GRPO advantages"),
        (r.rl.beta >= 0, "rl.beta must be >= 0"),
        (r.rl.pg or r.rl.beta > 0, "rl.pg=false with rl.beta=0 trains nothing"),
        (r.rl.model != "sft" or "sft" in r.stages, "rl.model is 'sft' but the recipe has no sft stage"),
        (r.sft.data != "traces" or "traces" in r.stages or "sft" not in r.stages,
         "sft.data is 'traces' but the recipe has no traces stage"),
        (r.sft.batch_size % r.sft.micro_batch == 0, "sft.batch_size must be a multiple of sft.micro_batch"),
        (0 <= r.rl.clip_low < 1 and r.rl.clip_high >= 0, "rl.clip_low must be in [0, 1), rl.clip_high >= 0"),
        *family_checks(r.rl),
    ]
    from vold_train.engines.trainer_engines import check_engine_config

    checks += [(False, msg) for msg in check_engine_config(r.rl)]
    for ok, msg in checks:
        if not ok:
            raise VoldError(f"{where}: {msg}")


def family_checks(rl: RLConfig) -> list[tuple[bool, str]]:
    return [
        (rl.objective in ("vold", "srpo", "va-opd"), "rl.objective must be vold, srpo or va-opd"),
        (rl.srpo_teacher in ("external", "self"), "rl.srpo_teacher must be external or self"),
        (rl.curation in ("none", "r-diverse"), "rl.curation must be none or r-diverse"),
        (rl.objective == "vold" or rl.micro_batch % rl.group_size == 0,
         "rl.micro_batch must be a multiple of rl.group_size for srpo / va-opd (they weigh within groups)"),
        (rl.objective != "va-opd" or (rl.data == "toy" and rl.curation == "none"),
         "rl.objective va-opd needs image twins of the RL problems: rl.data=toy, rl.curation=none"),
        (rl.objective != "va-opd" or rl.kd == "k2", "rl.objective va-opd uses rl.kd=k2"),
        (rl.objective != "srpo" or rl.kd == "k2" or rl.srpo_teacher == "external",
         "rl.srpo_teacher=self uses rl.kd=k2"),
        (0 < rl.ema_rate <= 1 and 0 < rl.va_degrade < 1 and 0 < rl.va_top_frac <= 1 and 0 <= rl.replay_frac <= 1,
         "rl.ema_rate, rl.va_degrade, rl.va_top_frac, rl.replay_frac must be fractions"),
        # SRPO weighs distillation tokens by the teacher's entropy, which vLLM's prompt_logprobs
        # cannot give; VA-OPD and the self-teacher score with HF models of their own.
        (rl.objective == "vold" or rl.teacher_engine == "hf",
         "rl.objective srpo / va-opd need rl.teacher_engine=hf (they use the teacher's full distribution)"),
    ]


def save_config(r: Recipe, path: Path) -> None:
    path.write_text(yaml.safe_dump(r.to_dict(), sort_keys=False))


def variant(r: Recipe) -> dict:
    """The run.json `variant` record: which parts of VOLD this recipe switches on."""
    rl = "rl" in r.stages
    sft = "sft" in r.stages
    src = None
    if sft:
        src = "mismatched" if "mismatched" in r.sft.data else "teacher"
    return {"sft": sft, "rl": rl and r.rl.pg, "kd": rl and r.rl.beta > 0,
            "kd_mask": rl and r.rl.beta > 0 and r.rl.kd_mask == "reward", "trace_source": src}
