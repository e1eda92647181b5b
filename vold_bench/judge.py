"""Optional LLM judge: a second opinion only where the rule scorer found no answer.

    judge = Judge(url, model, cache_dir, scorer=task.scorer)
    j = judge.judge(item, response, rule_score)   # Score, or None when the rules were confident

Design choices a reader would ask about:
- The judge never sees the gold answer. It only *extracts* the response's final answer
  (an option label, a number, an expression, or NONE), and grading is done by the same rule
  scorer as everywhere else, on `\\boxed{<extracted>}`. So the judge cannot be talked into
  "close enough", and a judged number means the same as a rule number.
- Consulted only for parse_status "no_answer" (rules found no final answer). "ok" is already
  graded; "truncated" scores 0 by protocol (an unfinished reasoning block is a wrong answer);
  "empty" has nothing to read; "error" is a broken record, not a response problem.
- Cached on disk (jsonl keyed by sha256 of model + prompt), so a rerun or a resumed run costs
  nothing and is reproducible even if the endpoint's model changes later.
- If the endpoint fails, ChatClient retries with backoff, then raises VoldError: the run stops
  and says so rather than counting unjudged items as wrong.
- The harness reports judged accuracy in its own `judge` block of results.json, never merged
  into the rule accuracy; `stats` counts calls, cache hits and answers for that block.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import replace
from pathlib import Path

from vold_bench.backends.openai import ChatClient
from vold_bench.errors import VoldError
from vold_bench.schema import Item, Score

JUDGED_STATUSES = ("no_answer",)
# The final answer sits at the end of a reasoning trace; the head of a 30k-char trace only
# costs judge tokens. Keep the tail.
RESPONSE_TAIL_CHARS = 6000

SYSTEM = ("You read a model's response to an exam question and report the final answer it "
          "commits to. Do not solve the question yourself and do not judge correctness.")
INSTRUCTIONS = (
    "Reply with exactly one line: `ANSWER: <final answer>`.\n"
    "- Multiple choice: give the option label(s) the response chose (e.g. `ANSWER: B`, or "
    "`ANSWER: A, C` for several); if it names an option by its text, give that option's label.\n"
    "- Otherwise: give the final number or expression as written, without units.\n"
    "- If the response commits to no final answer, reply `ANSWER: NONE`.")
_ANSWER = re.compile(r"ANSWER:\s*(.+)", re.IGNORECASE)


def judge_prompt(item: Item, response: str) -> str:
    lines = [f"Question:\n{item.question.strip() or '(the question is in an image)'}"]
    if item.options:
        labels = item.labels or [chr(ord("A") + i) for i in range(len(item.options))]
        lines.append("Options:\n" + "\n".join(f"{lab}. {opt}" for lab, opt in zip(labels, item.options)))
    tail = response[-RESPONSE_TAIL_CHARS:]
    cut = "(beginning omitted) ..." if len(response) > RESPONSE_TAIL_CHARS else ""
    lines.append(f"Response:\n<<<\n{cut}{tail}\n>>>")
    lines.append(INSTRUCTIONS)
    return "\n\n".join(lines)


def parse_judge_reply(text: str) -> str | None:
    """The judge's answer, or None for NONE / a reply not following the format."""
    m = None
    for m in _ANSWER.finditer(text or ""):  # noqa: B007 - the last ANSWER: line wins, as with the rule scorer's anchors
        pass
    if m is None:
        return None
    ans = m.group(1).strip().strip("`").strip()
    return None if not ans or ans.upper().rstrip(".") == "NONE" else ans


class Judge:
    def __init__(self, url: str, model: str, cache_dir: str | Path, scorer: str = "default",
                 api_key: str | None = None, timeout: float = 120.0, max_retries: int = 4,
                 backoff: float = 1.0, max_tokens: int = 64):
        if not model:
            raise VoldError("judge: --judge-model is required with --judge")
        self.model, self.scorer, self.max_tokens = model, scorer, max_tokens
        self.client = ChatClient(url, api_key, timeout, max_retries, backoff)
        self.cache_path = Path(cache_dir) / "judge_cache.jsonl"
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        self.cache = _load_cache(self.cache_path)
        self.lock = threading.Lock()
        self.stats = {"consulted": 0, "cache_hits": 0, "answered": 0, "correct": 0}

    def judge(self, item: Item, response: str, score: Score) -> Score | None:
        if score.parse_status not in JUDGED_STATUSES:
            return None
        prompt = judge_prompt(item, response)
        key = hashlib.sha256(json.dumps([self.model, SYSTEM, prompt]).encode()).hexdigest()
        self.stats["consulted"] += 1
        reply = self.cache.get(key)
        if reply is None:
            reply = self._ask(prompt, item.id)
            with self.lock:
                self.cache[key] = reply
                with open(self.cache_path, "a") as f:
                    f.write(json.dumps({"key": key, "model": self.model, "item": item.id,
                                        "reply": reply}) + "\n")
        else:
            self.stats["cache_hits"] += 1
        answer = parse_judge_reply(reply)
        if answer is None:
            return replace(score, detail=f"judge:{self.model}:none")
        from vold_bench.scoring import score as rule_score  # lazy: scoring imports sympy etc.

        graded = rule_score(f"\\boxed{{{answer}}}", item, self.scorer)
        self.stats["answered"] += 1
        self.stats["correct"] += int(graded.correct)
        return Score(extracted=graded.extracted, gold=graded.gold, correct=graded.correct,
                     parse_status=graded.parse_status, detail=f"judge:{self.model}")

    def _ask(self, prompt: str, item_id: str) -> str:
        body = {"model": self.model, "temperature": 0.0, "max_tokens": self.max_tokens, "seed": 0,
                "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]}
        try:
            reply = self.client.post(body, what=f"judge call for item {item_id}")
        except VoldError as e:
            raise VoldError(f"LLM judge unavailable, run stopped (rule results so far are saved): {e}") from None
        try:
            return reply["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise VoldError(f"LLM judge at {self.client.url}: reply has no choices[0].message "
                            f"for item {item_id} ({str(reply)[:200]})") from None


def _load_cache(path: Path) -> dict[str, str]:
    cache = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
                cache[rec["key"]] = rec["reply"]
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a torn last line from a killed run: that call is simply redone
    return cache

