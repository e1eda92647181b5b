"""vold's scorer in the call shapes of the RL trainers people already run.

    trl_reward(bench)        TRL GRPOTrainer(reward_funcs=...): (prompts, completions, **columns) -> [float]
    verl_compute_score       verl custom_reward_function: (data_source, solution_str, ground_truth,
                             extra_info=None) -> {"score", "acc", "pred", "parse_status"}
    easyr1_compute_score     EasyR1 batch reward: [{"response", "ground_truth", ...}] ->
                             [{"overall", "format", "accuracy"}]

All three grade with `vold_bench.scoring.score`, the function `vold eval` and `vold train` use,
so a reward seen in training is the same judgement as a benchmark number. The reward is 1.0 for
a correct answer and 0.0 otherwise (VOLD's reward-guided masking relies on that: it distils
exactly the reward-0 rollouts). Model text is only parsed, never executed, and every check is
time-bounded (math-verify runs in a killable worker), so a hostile completion cannot stall or
escape a training step.

verl and EasyR1 load a reward function from a file path and a name (importlib, under a module
name of their own), so this file uses absolute imports only and keeps its state in functions:
point them at `python -c "import vold_bench.adapters as a; print(a.__file__)"`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vold_bench.errors import VoldError
from vold_bench.schema import Item, Score
from vold_bench.scoring import SCORERS, score

# benchmark -> (scorer, default answer type, data_source names that select it). Mirrors
# tasks/*.yaml (tests/test_adapters.py checks the two agree) but lives here because the tasks/
# folder is not installed with the package, and verl / EasyR1 workers may only have the wheel.
BENCHES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "toy": ("toy", "integer", ("toy", "toy-text")),
    "geo3k": ("geo3k", "math", ("hiyouga/geometry3k", "geometry3k")),
    "geo3k-mc": ("default", "choice", ("Yang130/geometry3k_4choices_mixed",)),
    "mathvista": ("mathvista", "math", ("AI4Math/MathVista",)),
    "mathvision": ("mathvision", "math", ("MathLLMs/MathVision",)),
    "logicvista": ("logicvista", "multi_choice", ("lscpku/LogicVista",)),
    "mmmu-pro": ("mmmu_pro", "choice", ("MMMU/MMMU_Pro",)),
}
# per-row fields a dataset (TRL columns, verl extra_info) may carry to describe its gold answer
ITEM_FIELDS = ("answer_type", "options", "labels", "precision", "unit", "question")


def resolve_bench(name: str) -> tuple[str, str]:
    """(scorer, default answer type) for a benchmark name, a data_source, or a scorer name."""
    key = str(name).strip()
    for bench, (scorer, answer_type, sources) in BENCHES.items():
        if key.lower() in {bench.lower(), *(s.lower() for s in sources)}:
            return scorer, answer_type
    if key in SCORERS:
        return key, "integer" if key == "toy" else "math"
    known = sorted({*BENCHES, *(s for _, _, src in BENCHES.values() for s in src), *SCORERS})
    raise VoldError(f"unknown benchmark or data_source {name!r}; known: {', '.join(known)}")


def grade(response: str | None, gold: Any, bench: str, info: dict | None = None) -> Score:
    """Score one response against `gold` with `bench`'s scorer. `info` may override the item's
    answer_type, options, labels, precision, unit or question (needed for multiple choice)."""
    scorer, answer_type = resolve_bench(bench)
    info = {k: v for k, v in (info or {}).items() if k in ITEM_FIELDS and v is not None}
    item = Item(id="", question=str(info.get("question", "")), gold=str(gold),
                answer_type=info.get("answer_type", answer_type),
                options=[str(o) for o in info.get("options", [])],
                labels=[str(x) for x in info.get("labels", [])],
                precision=info.get("precision"), unit=info.get("unit"), meta={"scorer": scorer})
    return score(response, item, scorer)


def completion_text(completion: Any) -> str:
    """A TRL completion as text: a plain string, or (conversational) a list of messages whose
    last assistant turn is the answer; content may be a string or a list of typed parts."""
    if isinstance(completion, str):
        return completion
    turns = [m for m in completion if m.get("role", "assistant") == "assistant"] or list(completion)
    content = turns[-1].get("content", "") if turns else ""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if p.get("type", "text") == "text")
    return str(content or "")


def trl_reward(bench: str = "toy", gold_column: str = "answer", name: str | None = None) -> Callable:
    """A TRL reward function grading completions with `bench`'s scorer against `gold_column`.

    TRL passes every dataset column as a keyword list aligned with `completions` (and extra
    keywords: completion_ids, trainer_state, log_extra, log_metric); columns named like an
    Item field (answer_type, options, labels, precision, unit, question) describe each row's
    gold. The extracted answers go to TRL's completions table through `log_extra`."""
    resolve_bench(bench)  # fail at construction, not at the first training step

    def reward(prompts, completions, **columns) -> list[float]:
        if gold_column not in columns:
            cols = sorted(k for k in columns if k not in ("completion_ids", "trainer_state",
                                                          "log_extra", "log_metric", "environments"))
            raise VoldError(f"reward {reward.__name__}: no dataset column {gold_column!r} "
                            f"(columns: {', '.join(cols) or 'none'}); pass gold_column=...")
        golds = columns[gold_column]
        rows = [{k: columns[k][i] for k in ITEM_FIELDS if k in columns} for i in range(len(completions))]
        scores = [grade(completion_text(c), g, bench, r) for c, g, r in zip(completions, golds, rows)]
        log_extra = columns.get("log_extra")
        if callable(log_extra):
            log_extra(f"{reward.__name__}/extracted", [s.extracted or "" for s in scores])
        return [1.0 if s.correct else 0.0 for s in scores]

    reward.__name__ = name or f"vold_{bench.replace('-', '_')}"  # TRL logs rewards/<__name__>/mean
    return reward


def verl_compute_score(data_source: str, solution_str: str, ground_truth: Any,
                       extra_info: dict | None = None, bench: str | None = None, **kwargs) -> dict:
    """verl's custom reward function (custom_reward_function.path / .name = verl_compute_score).

    The scorer is chosen by `data_source` (a benchmark name or its hub id, e.g.
    "hiyouga/geometry3k"), or forced with `bench` (custom_reward_function.reward_kwargs).
    Returns verl's dict form: "score" is the reward, the other keys land in its
    reward_extra_info (the extracted answer, for inspecting what was graded)."""
    s = grade(solution_str, ground_truth, bench or data_source, extra_info if isinstance(extra_info, dict) else None)
    return {"score": 1.0 if s.correct else 0.0, "acc": 1.0 if s.correct else 0.0,
            "pred": s.extracted or "", "parse_status": s.parse_status}


def easyr1_compute_score(reward_inputs: list[dict], bench: str = "geo3k",
                         format_weight: float = 0.0) -> list[dict[str, float]]:
    """EasyR1's batch reward function (worker.reward.reward_function=<this file>:easyr1_compute_score,
    reward_function_kwargs={"bench": ..., "format_weight": ...}).

    accuracy: vold's reward; format: 1.0 when the scorer could read an answer in the
    benchmark's format (a closed <think> block and, for toy / geo3k, a \\boxed{}); overall mixes
    them as EasyR1's math example does. format_weight = 0 (the default) keeps overall binary,
    as VOLD's masking needs."""
    if not isinstance(reward_inputs, list):
        raise ValueError("easyr1_compute_score is a batch reward function: set worker.reward.reward_type=batch")
    out = []
    for r in reward_inputs:
        s = grade(r["response"], r["ground_truth"], bench)
        acc, fmt = (1.0 if s.correct else 0.0), (1.0 if s.parse_status == "ok" else 0.0)
        out.append({"overall": (1.0 - format_weight) * acc + format_weight * fmt,
                    "format": fmt, "accuracy": acc})
    return out


__all__ = ["BENCHES", "resolve_bench", "grade", "completion_text", "trl_reward",
           "verl_compute_score", "easyr1_compute_score"]
