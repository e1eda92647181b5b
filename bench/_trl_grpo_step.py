"""TRL GRPOTrainer (beta = 0) steps on the toy student, for bench/rl_step.py. Runs under an
interpreter that has trl; prints one JSON line with the median step time."""
from __future__ import annotations

import argparse
import json
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    for k in ("prompts", "group", "tokens", "steps", "threads"):
        ap.add_argument(f"--{k}", type=int, required=True)
    ap.add_argument("--student", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    import torch
    import trl
    from datasets import Dataset
    from transformers import AutoModelForImageTextToText, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from vold_bench.scoring import reward
    from vold_train.data import load_problems

    torch.set_num_threads(a.threads)
    items = load_problems("toy", "train", a.prompts * a.steps, seed=0)
    by_q = {it.question: it for it in items}
    ds = Dataset.from_list([{"prompt": [{"role": "user", "content": [{"type": "text", "text": it.question}]}]}
                            for it in items])

    def reward_fn(prompts, completions, **kw):
        out = []
        for p, c in zip(prompts, completions):
            q = p[-1]["content"][0]["text"]
            out.append(reward(c[-1]["content"] if isinstance(c, list) else c, by_q[q]))
        return out

    times, lens = [], []

    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            self.t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            times.append(time.perf_counter() - self.t)

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "completions/mean_length" in logs:
                lens.append(logs["completions/mean_length"])

    tok = AutoTokenizer.from_pretrained(a.student)
    tok.padding_side = "left"
    model = AutoModelForImageTextToText.from_pretrained(a.student, dtype=torch.float32)
    model.model.visual.requires_grad_(False)
    cfg = GRPOConfig(
        output_dir=a.out, use_cpu=True, per_device_train_batch_size=a.prompts * a.group,
        num_generations=a.group, max_completion_length=a.tokens, beta=0.0, epsilon=0.2,
        epsilon_high=0.3, temperature=1.0, top_k=0, learning_rate=2e-5, max_steps=a.steps,
        logging_steps=1, save_strategy="no", report_to=[], shuffle_dataset=False,
        generation_kwargs={"min_new_tokens": a.tokens}, seed=0, bf16=False,
    )
    trainer = GRPOTrainer(model=model, reward_funcs=reward_fn, args=cfg, train_dataset=ds,
                          processing_class=tok, callbacks=[Timer()])
    trainer.train()
    print(json.dumps({"version": trl.__version__, "step_s": statistics.median(times[1:]),
                      "all_step_s": times, "tokens_per_rollout": statistics.median(lens) if lens else float("nan")}))


if __name__ == "__main__":
    main()
