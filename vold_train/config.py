"""Training configuration: one dataclass per stage, recipes as YAML, `--set` overrides.

A recipe (recipes/<name>.yaml) has top-level `stages` (which of traces / sft / rl run, in
that order), `seed` (copied into every stage), and one section per stage holding that stage's
fields. The RL stage nests four small sections under its own keys:

    rl.<key>            the run and its objective (RLConfig)
    rl.sampling.<key>   how the student samples its rollouts (SamplingConfig)
    rl.engine.<key>     how each step is computed: engines, precision, memory, logging (EngineConfig)
    rl.family.<key>     knobs of SRPO, VA-OPD and R-Diverse (FamilyConfig)
    rl.plan.<key>       the GPU plan of the start-up size check (PlanConfig)

`--set rl.beta=0` or `--set rl.engine.rollout=vllm` sets one field; a bare key (`--set
beta=0`) is accepted when exactly one field has that name. Unknown keys fail with the list
of valid ones, a key that moved fails naming its new place, a choice outside its `Literal`
fails naming the key, and every check between fields runs here, before any model loads.
"""
from __future__ import annotations

import typing
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from vold_bench.errors import VoldError
from vold_bench.tasks import data_dir
from vold_train.curation import EMBEDDERS

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
    # 300 steps (~5 passes over the toy's 1,024 traces) since stop 27, with the "mixed" toy
    # student; chosen on held-out seeds at stop 26 (docs/toy-world.md, "Stop 26")
    steps: int = 300                  # paper: 4,000
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
class SamplingConfig:
    """rl.sampling: how the student samples each rollout."""
    max_new_tokens: int = 64
    min_new_tokens: int = 0           # >0 forces fixed-length rollouts (benchmarks only)
    temperature: float = 1.0          # the paper's; the toy recipes sample at 0.7 (stop 27)
    top_p: float = 1.0


@dataclass
class EngineConfig:
    """rl.engine: how each step is computed. None of these changes the objective (bf16 up to
    rounding; micro_batch up to the token weighting rl.agg=token notes in rl.policy_update)."""
    rollout: Literal["hf", "vllm"] = "hf"   # "hf" (trainer's generate) | "vllm" (weights synced each step)
    teacher: Literal["hf", "vllm"] = "hf"   # "hf" (forward pass, any kd) | "vllm" (prompt_logprobs, kd=k2 only)
    vllm_gpu_memory_utilization: float = 0.4  # GPU share each vLLM engine reserves
    vllm_sleep: bool = False          # colocated: rollout engine sleeps during teacher + update (GPU)
    teacher_token_budget: int = 32768  # tokens per vLLM teacher-scoring call (long traces split)
    micro_batch: int = 40             # rollouts per forward/backward
    logprob_chunk: int = 1024         # positions per chunk of the LM head (logprobs.py)
    bf16: bool = False                # as sft.bf16 (the teacher loads in bf16 too)
    gradient_checkpointing: bool = False  # as sft.gradient_checkpointing
    shared_vocab: int = 0             # ids compared with the teacher; 0 = min of both tokenizers/heads
    teacher_metrics: bool = True      # score with the teacher even at beta = 0 (logs teacher_k2 / _rkl)
    log_exact_kl: bool = True         # log teacher_rkl, the exact reverse KL, every step (HF teacher)


@dataclass
class FamilyConfig:
    """rl.family: knobs of the other objectives and of prompt curation (objectives.py)."""
    srpo_teacher: Literal["external", "self"] = "external"  # "external" (rl.teacher, as VOLD) | "self"
                                      # (EMA of the student re-prompted with a correct sibling, as the SRPO paper)
    ema_rate: float = 0.05            # SRPO self-teacher: ema <- (1 - rate) ema + rate student (paper)
    va_degrade: float = 0.1           # VA-OPD: side factor of the degraded picture (paper: 10%)
    va_top_frac: float = 0.2          # VA-OPD: share of a rollout's tokens in the high-VA group (paper)
    curation: Literal["none", "r-diverse"] = "none"  # "r-diverse": arXiv 2602.13103 prompt curation
    curation_embed: str = "toy-skill"  # skill embedder for R-Diverse (curation.EMBEDDERS)
    replay_frac: float = 0.3          # R-Diverse: share of each batch replayed from memory (paper)


@dataclass
class PlanConfig:
    """rl.plan: the GPU plan for the start-up size check (sizing.py); gpus=0: no check."""
    gpus: int = 0
    gpu_mem_gb: float = 80.0
    strategy: Literal["fsdp", "zero3", "ddp"] = "fsdp"
    prompt_tokens: int = 512          # prompt allowance: seq_len = this + sampling.max_new_tokens


@dataclass
class RLConfig:
    model: str = "sft"                # "sft" = this run's SFT output, else hub id / path / toy name
    teacher: str = "toy-teacher"      # the teacher that scores the student's tokens (text-only for vold)
    data: str = "toy"                 # "toy" (toy-world text problems) or a .jsonl with question/gold
    split: str = "train"
    pool: int = 0                     # toy: 0 = the seeded train stream (small cells repeat); N = N problems revisited
    # objective: which record of objectives.OBJECTIVES trains the student: "vold" (arXiv
    # 2510.23497), "srpo" (arXiv 2604.02288) or "va-opd" (arXiv 2605.21924)
    objective: Literal["vold", "srpo", "va-opd"] = "vold"
    # lr and steps: the toy protocol since stop 19 (docs/toy-world.md, "Stop 19"). 120 steps as
    # since stop 16; lr 1e-4, the largest of 5e-5 / 1e-4 / 2e-4 / 5e-4 at which GRPO alone kept
    # the 1,200-step cold start's accuracy and reading on seeds 5-6 (2e-4 and 5e-4 damaged it).
    # Kept by the stop-27 protocol (300-step cold start of the "mixed" student, rollouts at T 0.7).
    lr: float = 1e-4                  # paper: 6e-6 at 3B; toy models are ~1000x smaller
    weight_decay: float = 0.0
    warmup_steps: int = 2             # paper: 5 of 60
    steps: int = 120                  # paper: 60, of ~51 prompts each (3x the toy's 16)
    prompts_per_step: int = 16        # paper: 256 / 5 rollouts ~ 51 prompts
    group_size: int = 5               # rollouts per prompt, G (paper: 5)
    clip_low: float = 0.2             # paper Table 4
    clip_high: float = 0.3            # paper Table 4 (clip-higher)
    agg: Literal["token", "seq"] = "token"  # how the GRPO loss averages (losses.grpo_loss)
    adv_eps: float = 1e-6
    pg: bool = True                   # reward (GRPO) term on; False = distillation only (opd-only)
    # beta: weight of the distillation term, which sums KL over a rollout's tokens (eq. 5).
    # The paper says 0.1 in its text and 1e-3 in Table 4. We default to Table 4's 1e-3, the
    # hyperparameter table is what a reproduction follows, and with a per-rollout *sum* over
    # 1-8k-token traces, beta = 0.1 would make the KD term 100-800x a token-averaged GRPO term.
    # The toy recipes set beta so that beta * response length ~ 1 (their rollouts are ~40
    # tokens), the same balance 1e-3 gives the paper's ~1k-token rollouts.
    beta: float = 1e-3
    kd: Literal["k2", "full"] = "k2"  # "k2" (paper: sampled-token estimator) | "full" (exact, shared vocab)
    kd_mask: Literal["reward", "none"] = "reward"  # "reward" (KD only on reward-0 rollouts) | "none"
    update_epochs: int = 1            # passes over each rollout batch (1 with mini_batches 1: old_logp == logp)
    # optimizer steps per pass, each on prompts_per_step / mini_batches whole prompt groups
    # (EasyR1's rollout_batch_size / global_batch_size, 512 / 128 by default; verl's
    # train_batch_size / ppo_mini_batch_size). 1: one step on the whole batch
    mini_batches: int = 1
    max_grad_norm: float = 1.0
    replay: float = 0.0               # toy deviation, as sft.replay (replay.py)
    replay_batch: int = 8
    save_every: int = 10
    seed: int = 0
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    family: FamilyConfig = field(default_factory=FamilyConfig)
    plan: PlanConfig = field(default_factory=PlanConfig)


STAGE_CLASSES = {"traces": TracesConfig, "sft": SFTConfig, "rl": RLConfig}
TOP_KEYS = ("stages", "seed", "threads", "description")

# Keys of the flat RLConfig that now live in a section: an old recipe or --set fails with the
# new name instead of "unknown key".
MOVED = {f"rl.{old}": f"rl.{new}" for old, new in {
    "max_new_tokens": "sampling.max_new_tokens", "min_new_tokens": "sampling.min_new_tokens",
    "temperature": "sampling.temperature", "top_p": "sampling.top_p",
    "rollout_engine": "engine.rollout", "teacher_engine": "engine.teacher",
    "vllm_gpu_memory_utilization": "engine.vllm_gpu_memory_utilization", "vllm_sleep": "engine.vllm_sleep",
    "teacher_token_budget": "engine.teacher_token_budget", "micro_batch": "engine.micro_batch",
    "logprob_chunk": "engine.logprob_chunk", "bf16": "engine.bf16",
    "gradient_checkpointing": "engine.gradient_checkpointing", "shared_vocab": "engine.shared_vocab",
    "teacher_metrics": "engine.teacher_metrics", "log_exact_kl": "engine.log_exact_kl",
    "srpo_teacher": "family.srpo_teacher", "ema_rate": "family.ema_rate", "va_degrade": "family.va_degrade",
    "va_top_frac": "family.va_top_frac", "curation": "family.curation",
    "curation_embed": "family.curation_embed", "replay_frac": "family.replay_frac",
    "plan_gpus": "plan.gpus", "plan_gpu_mem_gb": "plan.gpu_mem_gb", "plan_strategy": "plan.strategy",
    "plan_prompt_tokens": "plan.prompt_tokens"}.items()}


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


# ---------------------------------------------------------------- keys: dotted paths to leaf fields


def _leaves(cls, prefix: str) -> dict[str, tuple[Any, Any]]:
    """{dotted key: (type, default)} of every leaf field of a config dataclass, sections included."""
    out = {}
    for f in fields(cls):
        typ = typing.get_type_hints(cls)[f.name]
        if is_dataclass(typ):
            out.update(_leaves(typ, f"{prefix}.{f.name}"))
        else:
            out[f"{prefix}.{f.name}"] = (typ, f.default if f.default is not MISSING else f.default_factory())
    return out


LEAVES = {k: v for sec, cls in STAGE_CLASSES.items() for k, v in _leaves(cls, sec).items()}
SECTIONS = {k.rsplit(".", 1)[0] for k in LEAVES} - set(STAGE_CLASSES)  # "rl.engine", ...


def _resolve_key(key: str) -> str:
    """Map 'rl.beta' / 'beta' / 'rl.engine.rollout' / 'seed' to the dotted key of one field."""
    if key in TOP_KEYS or key in LEAVES:
        return key
    if key in MOVED:
        raise VoldError(f"config key {key!r} is now {MOVED[key]!r}")
    if key in SECTIONS:
        raise VoldError(f"config key {key!r} is a section; set its keys: "
                        + ", ".join(k for k in LEAVES if k.startswith(key + ".")))
    if "." not in key:
        owners = [k for k in LEAVES if k.rsplit(".", 1)[1] == key]
        if len(owners) == 1:
            return owners[0]
        if len(owners) > 1:
            raise VoldError(f"config key {key!r} is ambiguous; write one of {', '.join(owners)}")
        if f"rl.{key}" in MOVED:
            raise VoldError(f"config key {key!r} is now {MOVED[f'rl.{key}']!r}")
    raise VoldError(f"unknown config key {key!r}; valid keys: {', '.join([*TOP_KEYS, *LEAVES])}")


def _flatten(d: dict, prefix: str) -> dict[str, Any]:
    """A recipe section {engine: {rollout: vllm}} as {"rl.engine.rollout": "vllm"}."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}.{k}"
        if isinstance(v, dict) and key in SECTIONS:
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def _coerce(value: Any, typ: Any, key: str, where: str):
    """`value` (from YAML or --set) as the field's type; a Literal's choices are checked later,
    with every other field's, by check_choices."""
    name = "str" if typing.get_origin(typ) is Literal else getattr(typ, "__name__", str(typ))
    try:
        if name == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "1", "yes", "on"):
                return True
            if str(value).lower() in ("false", "0", "no", "off"):
                return False
            raise ValueError(value)
        if name == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if name == "float":
            return float(value)
        return "" if value is None else str(value)
    except (TypeError, ValueError):
        raise VoldError(f"{where}: key {key!r} needs a {name}, got {value!r}") from None


# ---------------------------------------------------------------- loading


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
    flat: dict[str, Any] = {}
    for k, v in raw.items():
        if k in STAGE_CLASSES:
            if not isinstance(v, dict):
                raise VoldError(f"{path}: section {k!r} must be a mapping")
            flat.update({_resolve_key(kk): vv for kk, vv in _flatten(v, k).items()})
        else:
            flat[_resolve_key(k)] = v
    for ov in overrides or []:
        if "=" not in ov:
            raise VoldError(f"--set {ov!r}: expected key=value")
        k, v = ov.split("=", 1)
        flat[_resolve_key(k.strip())] = yaml.safe_load(v)
    return _build(path.stem, flat, where=str(path))


def _make(cls, prefix: str, flat: dict, where: str, seed: int):
    kw = {"seed": seed} if "seed" in {f.name for f in fields(cls)} else {}
    for f in fields(cls):
        key, typ = f"{prefix}.{f.name}", typing.get_type_hints(cls)[f.name]
        if is_dataclass(typ):
            kw[f.name] = _make(typ, key, flat, where, seed)
        elif key in flat:
            kw[f.name] = _coerce(flat[key], typ, key, where)
    return cls(**kw)


def _build(name: str, flat: dict, where: str) -> Recipe:
    stages = flat.get("stages", ["traces", "sft", "rl"])
    if isinstance(stages, str):
        stages = [s.strip() for s in stages.split(",") if s.strip()]
    bad = [s for s in stages if s not in STAGES]
    if bad or not stages:
        raise VoldError(f"{where}: stages {stages!r} invalid; choose from {', '.join(STAGES)}")
    seed = _coerce(flat.get("seed", 0), int, "seed", where)
    secs = {sec: _make(cls, sec, flat, where, seed) for sec, cls in STAGE_CLASSES.items()}
    threads = _coerce(flat.get("threads", 1), int, "threads", where)
    r = Recipe(name=name, stages=[s for s in STAGES if s in stages], seed=seed, threads=threads,
               description=str(flat.get("description", "")), **secs)
    _validate(r, where)
    return r


# ---------------------------------------------------------------- checks, all before any model loads


def check_choices(obj, prefix: str) -> list[str]:
    """The one validator of choices: every field annotated Literal[...] holds one of them."""
    errs = []
    for f in fields(obj):
        key, typ, value = f"{prefix}.{f.name}", typing.get_type_hints(type(obj))[f.name], getattr(obj, f.name)
        if is_dataclass(typ):
            errs += check_choices(value, key)
        elif typing.get_origin(typ) is Literal and value not in typing.get_args(typ):
            errs.append(f"{key} must be one of {', '.join(typing.get_args(typ))}, got {value!r}")
    return errs


def _checks(r: Recipe) -> list[tuple[bool, str]]:
    rl, eng, fam = r.rl, r.rl.engine, r.rl.family
    return [
        (rl.group_size >= 2 or not rl.pg, "rl.group_size must be >= 2 for GRPO advantages"),
        (rl.beta >= 0, "rl.beta must be >= 0"),
        (rl.update_epochs >= 1, "rl.update_epochs must be >= 1"),
        (rl.mini_batches >= 1 and rl.prompts_per_step % rl.mini_batches == 0,
         "rl.mini_batches must be >= 1 and divide rl.prompts_per_step (each step takes whole prompt groups)"),
        (rl.pg or rl.beta > 0, "rl.pg=false with rl.beta=0 trains nothing"),
        (rl.model != "sft" or "sft" in r.stages, "rl.model is 'sft' but the recipe has no sft stage"),
        (r.sft.data != "traces" or "traces" in r.stages or "sft" not in r.stages,
         "sft.data is 'traces' but the recipe has no traces stage"),
        (r.sft.batch_size % r.sft.micro_batch == 0, "sft.batch_size must be a multiple of sft.micro_batch"),
        (0 <= rl.clip_low < 1 and rl.clip_high >= 0, "rl.clip_low must be in [0, 1), rl.clip_high >= 0"),
        (0 < fam.ema_rate <= 1 and 0 < fam.va_degrade < 1 and 0 < fam.va_top_frac <= 1 and 0 <= fam.replay_frac <= 1,
         "rl.family.ema_rate, va_degrade, va_top_frac, replay_frac must be fractions"),
        (eng.teacher == "hf" or rl.kd == "k2",
         "rl.kd=full needs the teacher's full distributions, which vLLM does not return; "
         "use rl.engine.teacher=hf or rl.kd=k2"),
        (not eng.vllm_sleep or eng.rollout == "vllm", "rl.engine.vllm_sleep needs rl.engine.rollout=vllm"),
        (0 < eng.vllm_gpu_memory_utilization <= 1, "rl.engine.vllm_gpu_memory_utilization must be in (0, 1]"),
        (eng.teacher_token_budget >= 1, "rl.engine.teacher_token_budget must be >= 1"),
        (fam.curation == "none" or fam.curation_embed in EMBEDDERS,
         f"rl.family.curation_embed {fam.curation_embed!r} unknown; valid: {', '.join(EMBEDDERS)}"),
    ]


def _launch_checks(r: Recipe) -> list[tuple[bool, str]]:
    """Checks against the launch (`accelerate launch` / torchrun environment), read without
    joining the process group."""
    from vold_train import dist, objectives, sharding

    world, rl = dist.launched_world(), r.rl
    checks = [(r.sft.batch_size % world == 0 or "sft" not in r.stages,
               f"sft.batch_size {r.sft.batch_size} must be a multiple of the {world} processes")]
    if "rl" in r.stages:
        checks += [
            (world == 1 or (objectives.get(rl.objective).multi_process and rl.family.curation == "none"),
             f"rl.objective {rl.objective} / rl.family.curation {rl.family.curation} run in one process "
             f"only (their per-step state is not sharded across ranks yet)"),
            # equal shares: the same number of (collective) forwards on every rank
            (rl.prompts_per_step % world == 0,
             f"rl.prompts_per_step {rl.prompts_per_step} must be a multiple of the {world} processes"),
            ((rl.prompts_per_step // world) % rl.mini_batches == 0,
             f"rl.mini_batches {rl.mini_batches} must divide each of the {world} processes' "
             f"{rl.prompts_per_step // world} prompts"),
            (rl.engine.rollout != "vllm" or world == 1 or sharding.strategy() not in sharding.SHARDED,
             "rl.engine.rollout=vllm syncs whole weights from each rank; it is not wired to FSDP2 / "
             "ZeRO-3 shards yet (use rl.engine.rollout=hf or a ddp launch)"),
        ]
    return checks


def _validate(r: Recipe, where: str) -> None:
    from vold_train import objectives

    errs = [e for sec in STAGES for e in check_choices(getattr(r, sec), sec)]
    if not errs:  # the checks below read the choices
        checks = _checks(r) + [(False, e) for e in objectives.check(r.rl)] + _launch_checks(r)
        errs = [msg for ok, msg in checks if not ok]
    if errs:
        raise VoldError(f"{where}: {errs[0]}")


# ---------------------------------------------------------------- the run folder's copy


def save_config(r: Recipe, path: Path) -> None:
    path.write_text(yaml.safe_dump(r.to_dict(), sort_keys=False))


def saved_keys(d: dict) -> dict[str, Any]:
    """A run folder's config.yaml as {dotted key: value} in today's keys: a key that moved is
    read at its new place, a field added since that run takes its default (it changes nothing)."""
    out = {k: v for k, v in d.items() if k not in STAGE_CLASSES}
    for sec in STAGE_CLASSES:
        old = _flatten(d[sec], sec) if isinstance(d.get(sec), dict) else {}
        old = {MOVED.get(k, k): v for k, v in old.items()}
        out.update({k: old.get(k, default) for k, (_, default) in LEAVES.items() if k.startswith(sec + ".")})
    return out


def variant(r: Recipe) -> dict:
    """The run.json `variant` record: which parts of VOLD this recipe switches on."""
    rl = "rl" in r.stages
    sft = "sft" in r.stages
    src = None
    if sft:
        src = "mismatched" if "mismatched" in r.sft.data else "teacher"
    return {"sft": sft, "rl": rl and r.rl.pg, "kd": rl and r.rl.beta > 0,
            "kd_mask": rl and r.rl.beta > 0 and r.rl.kd_mask == "reward", "trace_source": src}
