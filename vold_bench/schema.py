"""The few records every part of vold passes around.

An `Item` is one benchmark question after loading, whatever its source (hub, local
GitHub release, toy world). A `Score` is what the scorer says about one response to it.
`GenRequest`/`GenResult` are what a generation backend takes and gives back.

results.json (written by the harness, read by `vold compare`) has these top-level keys:
    bench, split, model, backend, prompt_variant, scorer, scorer_version,
    n, n_errors, accuracy, parse_rate, breakdown {field: {value: {"n", "accuracy"}}},
    generation {max_new_tokens, temperature, top_p, seed, ...},
    dataset {source, revision}, git_sha, packages {name: version},
    wall_s, items_per_s, gen_tokens_per_s, created
accuracy and breakdown accuracies are percentages in [0, 100].
samples.jsonl has one object per item:
    id, prompt, response, extracted, gold, correct, parse_status, gen_tokens, meta, error
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# How an item's answer is graded. "choice": one label out of `labels`; "multi_choice": a set
# of labels (LogicVista "A, C"); "integer"/"float": a number (float honours `precision`);
# "text": normalised string equality; "math": a free-form expression (math-verify, then a
# numeric-tolerance pass).
AnswerType = Literal["choice", "multi_choice", "integer", "float", "text", "math"]

# "ok": an answer was extracted; "no_answer": nothing extractable; "truncated": the
# reasoning block never closed (scores 0); "empty": blank response; "error": the record or
# the response could not be processed (counted, never silently dropped).
ParseStatus = Literal["ok", "no_answer", "truncated", "empty", "error"]


@dataclass
class Item:
    id: str
    question: str                 # question text as the benchmark states it ("" if image-only)
    gold: str                     # a label ("C"), labels ("A, C") or a free-form answer
    answer_type: AnswerType
    options: list[str] = field(default_factory=list)   # option texts, in label order
    labels: list[str] = field(default_factory=list)    # valid labels, e.g. A-J or "1".."4"
    precision: int | None = None  # decimals for "float" answers (MathVista)
    unit: str | None = None
    images: list[Any] = field(default_factory=list)    # file paths or PIL images
    meta: dict[str, Any] = field(default_factory=dict)  # breakdown fields and the raw record
    official_prompt: str | None = None  # the benchmark's own full prompt, when it ships one


@dataclass
class Score:
    extracted: str | None
    gold: str
    correct: bool
    parse_status: ParseStatus
    detail: str = ""              # which rule fired, for audit ("boxed", "answer_is", ...)


@dataclass
class GenRequest:
    id: str
    messages: list[dict]          # chat messages; content parts {"type": "text"|"image", ...}
    images: list[Any] = field(default_factory=list)    # PIL images referenced by the messages


@dataclass
class GenResult:
    id: str
    text: str
    gen_tokens: int
    finish_reason: str = "stop"   # "stop" | "length"


@dataclass
class GenConfig:
    max_new_tokens: int = 1024
    temperature: float = 0.0      # 0 = greedy
    top_p: float = 1.0
    seed: int = 0
    batch_size: int = 8
