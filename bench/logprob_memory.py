"""Peak memory of one teacher-scoring pass at Qwen's vocabulary size, chunked vs naive.

One pass = the student's and the teacher's log-probabilities of a batch of completion tokens
(what on-policy distillation needs each step). Naive: full-vocabulary float32 logits from both
models, log_softmax, gather. Chunked: vold_train.logprobs (head applied to chunks of
positions). Models are random-init, tiny in width but with the real 151,936 logit rows, so the
logits dominate as they do at scale. Each mode runs in a fresh subprocess; on CPU the figure is
the peak resident-memory increase over the pass (VmHWM reset via /proc/self/clear_refs), on
CUDA torch.cuda.max_memory_allocated over the pass.

    python bench/logprob_memory.py [--batch 2 --prompt 64 --completion 448 --chunk 256]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

VOCAB = 151_936      # Qwen2.5-VL-3B logit rows
SHARED = 151_665     # ids Qwen2.5-VL and Qwen3 both define


def _rss_kb(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(field)


def _models(device):
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    text = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                num_attention_heads=1, num_key_value_heads=1, tie_word_embeddings=False,
                rope_parameters={"rope_type": "default", "rope_theta": 1e4, "mrope_section": [8, 12, 12]})
    vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=1, out_hidden_size=64,
                  fullatt_block_indexes=[0])
    student = Qwen2_5_VLForConditionalGeneration(
        Qwen2_5_VLConfig(text_config=text, vision_config=vision, tie_word_embeddings=False))
    teacher = Qwen3ForCausalLM(Qwen3Config(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
        num_attention_heads=1, num_key_value_heads=1, head_dim=64, tie_word_embeddings=False))
    return student.to(device).eval(), teacher.to(device).eval()


def run_one(mode: str, batch: int, prompt: int, completion: int, chunk: int) -> dict:
    import torch

    from vold_train.logprobs import completion_hidden, token_logprobs

    device = "cuda" if torch.cuda.is_available() else "cpu"
    student, teacher = _models(device)
    L = prompt + completion
    ids = torch.randint(0, SHARED, (batch, L), device=device)
    attn = torch.ones_like(ids)
    pos = attn.cumsum(-1) - 1
    target = ids[:, -completion:]

    def naive():
        s = student(input_ids=ids, attention_mask=attn).logits.float()  # (B, L, V)
        t = teacher(input_ids=ids, attention_mask=attn, position_ids=pos).logits.float()  # (B, L, V)
        s_lp = s[:, -completion - 1:-1, :SHARED].log_softmax(-1).gather(-1, target[..., None])
        t_lp = t[:, -completion - 1:-1, :SHARED].log_softmax(-1).gather(-1, target[..., None])
        return s_lp.squeeze(-1), t_lp.squeeze(-1)

    def chunked():
        sh = completion_hidden(student, ids, attn, completion)
        th = completion_hidden(teacher, ids, attn, completion)
        s_lp, _ = token_logprobs(sh, student.get_output_embeddings(), target, SHARED, chunk)
        t_lp, _ = token_logprobs(th, teacher.get_output_embeddings(), target, SHARED, chunk)
        return s_lp, t_lp

    fn = naive if mode == "naive" else chunked
    with torch.no_grad():
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            s_lp, t_lp = fn()
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - base
        else:
            open("/proc/self/clear_refs", "w").write("5")  # reset VmHWM to the current RSS
            base = _rss_kb("VmRSS:") * 1024
            s_lp, t_lp = fn()
            peak = _rss_kb("VmHWM:") * 1024 - base
    return {"mode": mode, "device": device, "peak_bytes": peak,
            "checksum": float(s_lp.sum() + t_lp.sum())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--completion", type=int, default=448)
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--child", choices=["naive", "chunked"])
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_one(a.child, a.batch, a.prompt, a.completion, a.chunk)))
        return
    res = {}
    for mode in ("naive", "chunked"):
        cmd = [sys.executable, __file__, "--child", mode, "--batch", str(a.batch), "--prompt",
               str(a.prompt), "--completion", str(a.completion), "--chunk", str(a.chunk)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        res[mode] = json.loads(out.strip().splitlines()[-1])
    n, c = res["naive"], res["chunked"]
    same = abs(n["checksum"] - c["checksum"]) <= 1e-3 * abs(n["checksum"])
    print(f"vocab {VOCAB} (shared {SHARED}), batch {a.batch}, {a.prompt}+{a.completion} tokens, "
          f"chunk {a.chunk}, device {n['device']}")
    print(f"naive   peak {n['peak_bytes'] / 2**20:8.1f} MiB")
    print(f"chunked peak {c['peak_bytes'] / 2**20:8.1f} MiB")
    print(f"ratio chunked/naive = {c['peak_bytes'] / n['peak_bytes']:.3f} (target <= 0.25); "
          f"log-probs agree: {same}")


if __name__ == "__main__":
    main()
