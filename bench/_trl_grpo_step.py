"""TRL GRPOTrainer steps on the toy student, for bench/rl_step.py: plain GRPO (beta = 0), or
with --teacher the VOLD adapter (vold_train.trl_vold.VOLDGRPOTrainer: the same TRL step plus
teacher scoring and the k2 distillation term). Runs under an interpreter that has trl; prints
one JSON line with the median step time."""
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
    ap.add_argument("--teacher", default=None, help="run VOLDGRPOTrainer with this teacher")
    ap.add_argument("--vold-beta", type=float, default=0.02)
    a = ap.parse_args()

    import torch
    import trl
    from datasets import Dataset
    from transformers import AutoModelForImageTextToText, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from vold_bench.adapters import trl_reward
    from vold_train.data import load_problems

    torch.set_num_threads(a.threads)
    items = load_problems("toy", "train", a.prompts * a.steps, seed=0)
    ds = Dataset.from_list([{"prompt": [{"role": "user", "content": [{"type": "text", "text": it.question}]}],
                             "answer": it.gold} for it in items])
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
    common = dict(
        output_dir=a.out, use_cpu=True, per_device_train_batch_size=a.prompts * a.group,
        num_generations=a.group, max_completion_length=a.tokens, beta=0.0, epsilon=0.2,
        epsilon_high=0.3, temperature=1.0, top_k=0, learning_rate=2e-5, max_steps=a.steps,
        logging_steps=1, save_strategy="no", report_to=[], shuffle_dataset=False,
        generation_kwargs={"min_new_tokens": a.tokens}, seed=0, bf16=False,
    )
    kw = dict(model=model, reward_funcs=trl_reward("toy"), train_dataset=ds, processing_class=tok, callbacks=[Timer()])
    if a.teacher:
        from vold_train.trl_vold import VOLDConfig, VOLDGRPOTrainer

        # kd_mask none, as bench/rl_step.py runs vold: every rollout pays the distillation cost
        cfg = VOLDConfig(**common, vold_beta=a.vold_beta, vold_kd="k2", vold_kd_mask="none")
        trainer = VOLDGRPOTrainer(args=cfg, teacher_model=a.teacher, **kw)
    else:
        trainer = GRPOTrainer(args=GRPOConfig(**common), **kw)
    trainer.train()
    print(json.dumps({"version": trl.__version__, "step_s": statistics.median(times[1:]),
                      "all_step_s": times, "tokens_per_rollout": statistics.median(lens) if lens else float("nan")}))


if __name__ == "__main__":
    main()
