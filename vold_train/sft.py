"""Stage 2: cold-start SFT of the student on the teacher's reasoning traces.

NLL on the completion tokens only (the prompt is context, not a target); the vision tower is
frozen and every language-model weight trains (arXiv 2510.23497, sec. 4: AdamW, weight decay
0.01, cosine schedule with warmup). The student sees the trace prompts in its own chat format,
text only.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import torch

from vold_bench.errors import VoldError
from vold_train import dist, sharding
from vold_train.common import (
    Metrics,
    cosine_schedule,
    latest_checkpoint,
    load_model,
    load_tokenizer,
    make_optimizer,
    progress,
    restore_state,
    save_checkpoint,
    save_final,
    set_seed,
    student_prompt,
)
from vold_train.config import SFTConfig
from vold_train.data import load_sft_records
from vold_train.replay import make_replay
from vold_train.rl import freeze_vision


def encode(tok, records: list[dict], max_len: int) -> tuple[list[tuple[list[int], list[int]]], int]:
    """(prompt ids, completion ids) per record; completions end with the end-of-turn token."""
    out, too_long = [], 0
    for r in records:
        p = student_prompt(tok, r["question"])
        c = tok(r["response"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        if len(p) + len(c) > max_len:
            too_long += 1
            continue
        out.append((p, c))
    return out, too_long


def collate(examples, pad_id: int):
    """Right-padded ids, attention mask and a loss mask that is 1 on completion targets."""
    n = max(len(p) + len(c) for p, c in examples)
    ids = torch.full((len(examples), n), pad_id, dtype=torch.long)
    attn = torch.zeros_like(ids)
    loss_mask = torch.zeros(len(examples), n, dtype=torch.float)
    for i, (p, c) in enumerate(examples):
        seq = p + c
        ids[i, :len(seq)] = torch.tensor(seq)
        attn[i, :len(seq)] = 1
        loss_mask[i, len(p):len(seq)] = 1.0
    return ids, attn, loss_mask


def completion_nll(policy, ids, attn, loss_mask):
    """Mean NLL over completion tokens, via the policy's chunked head (no full-vocabulary logits)."""
    logp, _, _ = policy(ids, attn, ids[:, 1:])  # (B, L-1): position t predicts t+1
    m = loss_mask[:, 1:]
    return -(logp * m).sum() / m.sum().clamp(min=1.0), m.sum()


def batch_at(examples: list, batch_size: int, seed: int, step: int) -> list:
    """Step `step`'s examples. The order is a pure function of (seed, epoch): resuming at any
    step sees exactly the batches an uninterrupted run would have seen."""
    per_epoch = max(1, len(examples) // batch_size)
    epoch, k = divmod(step, per_epoch)
    order = list(range(len(examples)))
    random.Random(seed * 100_003 + epoch).shuffle(order)
    return [examples[i] for i in order[k * batch_size:(k + 1) * batch_size]]


def accumulate(policy, full: list, micro_batch: int, pad_id: int) -> tuple[float, float]:
    """Forward and backward this rank's share of one batch, in micro-batches; the summed token
    NLL and the number of tokens it covers."""
    batch = dist.shard(full)  # data parallel: this rank's examples
    # Sharded weights are gathered by collectives in every forward, so each rank runs as
    # many micro-batches as the largest share; a rank short of examples (a data set
    # smaller than the batch) runs one of them at weight 0.
    n_local = -(-len(full) // dist.world())
    total_loss, total_tok = 0.0, 0.0
    for s in range(0, n_local, micro_batch):
        mb = batch[s:s + micro_batch]
        ids, attn, lm = (t.to(dist.device()) for t in collate(mb or full[:1], pad_id))
        loss, ntok = completion_nll(policy, ids, attn, lm)
        sharding.backward(policy, loss * len(mb) / max(len(batch), 1), last=s + micro_batch >= n_local)
        total_loss += loss.item() * float(ntok) * bool(mb)
        total_tok += float(ntok) * bool(mb)
    return total_loss, total_tok


def train(cfg: SFTConfig, run_dir: Path) -> str:
    stage_dir = run_dir / "sft"
    final = stage_dir / "final"
    if (final / "config.json").exists():
        return str(final)
    stage_dir.mkdir(parents=True, exist_ok=True)
    set_seed(cfg.seed)
    tok = load_tokenizer(cfg.model)
    records = load_sft_records(cfg.data, run_dir, cfg.n_examples, cfg.seed)
    examples, too_long = encode(tok, records, cfg.max_len)
    if not examples:
        raise VoldError(f"sft.data {cfg.data!r}: all {len(records)} examples exceed sft.max_len={cfg.max_len}")

    ck = latest_checkpoint(stage_dir)
    model = load_model(str(ck) if ck else cfg.model, "student")  # on dist.device(); each batch follows
    freeze_vision(model)
    model.train()
    vocab = min(len(tok), model.get_output_embeddings().weight.shape[0])
    # every student forward goes through `policy` (logprobs.LogprobModel), sharded as launched
    policy, opt = sharding.prepare(
        model, vocab, 1024, lambda m: make_optimizer(m, cfg.lr, cfg.weight_decay, (cfg.adam_beta1, cfg.adam_beta2)),
        bf16=cfg.bf16, gradient_checkpointing=cfg.gradient_checkpointing, max_grad_norm=cfg.max_grad_norm)
    sched = cosine_schedule(opt, cfg.warmup_steps, cfg.steps)
    start = restore_state(ck, policy, opt, sched) if ck else 0
    metrics = Metrics(run_dir, "sft", start)
    replay = make_replay(cfg.model, cfg.replay, cfg.replay_batch, cfg.seed)

    bar, task = progress(cfg.steps, "sft", start)
    with bar:
        for step in range(start, cfg.steps):
            t0 = time.perf_counter()
            total_loss, total_tok = accumulate(policy, batch_at(examples, cfg.batch_size, cfg.seed, step),
                                               cfg.micro_batch, tok.pad_token_id)
            rec_replay = {}
            if replay is not None:
                rloss = replay.loss(model, step)
                rloss.backward()
                rec_replay = {"replay_loss": rloss.item() / cfg.replay}
            gnorm = sharding.step(policy, opt, sched, cfg.max_grad_norm)
            dt = time.perf_counter() - t0
            rec = dist.mean_metrics({"loss": total_loss / max(total_tok, 1.0), "grad_norm": gnorm,
                                     "lr": sched.get_last_lr()[0], "step_s": dt, "tokens_per_s": total_tok / dt,
                                     "n_examples": len(examples), "dropped_too_long": too_long, **rec_replay})
            if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
                metrics.log(step + 1, rec)
            bar.update(task, advance=1, info=f"loss {rec['loss']:.3f}")
            if (step + 1) % cfg.save_every == 0 and step + 1 < cfg.steps:
                save_checkpoint(stage_dir, step + 1, policy, tok, opt, sched)  # every rank: gathers shards

    save_final(policy, tok, final, cfg.model)
    return str(final)
