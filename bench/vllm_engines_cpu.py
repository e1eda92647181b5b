"""Rollout and teacher-scoring throughput: vLLM engines vs the trainer's HF path, side by side.

    .venv-vllm/bin/python bench/vllm_engines_cpu.py [--prompts 8] [--group 5] [--tokens 64]

Runs both engines in one process on the same tiny random models (make_tiny_pair: Qwen2.5-VL
student served through its text-only view, Qwen3 teacher), the same prompts and fixed-length
generation (ignore_eos, so both produce prompts*group*tokens tokens), and prints tokens/s and
the vLLM / HF ratio. Engine start-up is reported apart and not counted. On CPU with toy models
this measures per-step overheads more than kernels; the GPU anchor (1,800 generated tokens/s
per H100 for Qwen2.5-VL-3B) needs a GPU run.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--group", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--pair", help="folder holding student/ and teacher/ from make_tiny_pair; built here if "
                    "omitted (needs torchvision, which .venv-vllm lacks: build it with the main env)")
    args = ap.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2_5_VLForConditionalGeneration

    from vold_train.common import teacher_prompt
    from vold_train.engines.vllm_rollout import VLLMRollout, text_only_view
    from vold_train.engines.vllm_teacher import VLLMTeacher
    from vold_train.rollout import Rollouts, completion_mask, teacher_scores
    from vold_train.toy.models import make_tiny_pair

    torch.manual_seed(0)
    tmp = Path(tempfile.mkdtemp(prefix="vold-bench-"))
    if args.pair:
        student, teacher = str(Path(args.pair) / "student"), str(Path(args.pair) / "teacher")
    else:
        try:
            student, teacher = make_tiny_pair(tmp)
        except ImportError as e:
            sys.exit(f"cannot build the tiny pair here ({str(e).strip().splitlines()[0]}); run\n"
                     "  .venv/bin/python -c 'from vold_train.toy.models import make_tiny_pair; "
                     "make_tiny_pair(\"/tmp/pair\")'\nthen pass --pair /tmp/pair")
    view = text_only_view(student, tmp / "student_text")
    tok = AutoTokenizer.from_pretrained(teacher)
    questions = [f"A = {i}, B = {i + 3}. What is A + B?" for i in range(args.prompts)]
    prompts = [teacher_prompt(tok, q) for q in questions]
    n_gen = args.prompts * args.group * args.tokens
    rows = []

    # ---- rollouts
    t0 = time.perf_counter()
    eng = VLLMRollout(view, dtype="float32", max_model_len=1024, enforce_eager=True)
    start_s = time.perf_counter() - t0
    eng.generate([{"prompt_token_ids": p} for p in prompts], args.group, max_tokens=4, ignore_eos=True)  # warm-up
    t0 = time.perf_counter()
    groups = eng.generate([{"prompt_token_ids": p} for p in prompts], args.group,
                          max_tokens=args.tokens, ignore_eos=True)
    v_roll = time.perf_counter() - t0
    assert sum(len(r.completion_ids) for g in groups for r in g) == n_gen

    hf_student = Qwen2_5_VLForConditionalGeneration.from_pretrained(student, dtype=torch.float32).eval()
    from vold_train.common import pad_left
    ids, attn = pad_left(prompts, tok.pad_token_id)
    with torch.no_grad():
        hf_student.generate(input_ids=ids, attention_mask=attn, do_sample=True, max_new_tokens=4,
                            min_new_tokens=4, num_return_sequences=args.group, pad_token_id=tok.pad_token_id)
        t0 = time.perf_counter()
        out = hf_student.generate(input_ids=ids, attention_mask=attn, do_sample=True, top_k=0,
                                  max_new_tokens=args.tokens, min_new_tokens=args.tokens,
                                  num_return_sequences=args.group, pad_token_id=tok.pad_token_id)
        h_roll = time.perf_counter() - t0
    assert out.shape[1] - ids.shape[1] == args.tokens
    rows.append(("rollout (generated tok/s)", n_gen / v_roll, n_gen / h_roll, start_s))

    # ---- teacher scoring of those rollouts (the teacher's own prompt + the student's tokens)
    t0 = time.perf_counter()
    vt = VLLMTeacher(teacher, dtype="float32", max_model_len=1024, enforce_eager=True, token_budget=8192)
    tstart = time.perf_counter() - t0
    t_prompts = [prompts[r.prompt_index] for g in groups for r in g]
    comps = [r.completion_ids for g in groups for r in g]
    vt.score(t_prompts[:2], comps[:2])  # warm-up
    t0 = time.perf_counter()
    v_lp = vt.score(t_prompts, comps)
    v_teach = time.perf_counter() - t0

    hf_teacher = AutoModelForCausalLM.from_pretrained(teacher, dtype=torch.float32).eval()
    completion = torch.tensor(comps)
    mask, finished = completion_mask(completion, -1)  # fixed length: every token counts
    ro = Rollouts(completion=completion, mask=mask, texts=[""] * len(comps), finished=finished)
    teacher_scores(hf_teacher, t_prompts[:2], Rollouts(completion[:2], mask[:2], ["", ""], finished[:2]),
                   tok.pad_token_id, hf_teacher.config.vocab_size, 1024)  # warm-up
    t0 = time.perf_counter()
    h_lp = teacher_scores(hf_teacher, t_prompts, ro, tok.pad_token_id, hf_teacher.config.vocab_size, 1024)["logp"]
    h_teach = time.perf_counter() - t0
    diff = (torch.tensor(v_lp) - h_lp).abs().max().item()
    rows.append(("teacher scoring (scored tok/s)", n_gen / v_teach, n_gen / h_teach, tstart))

    print(f"tiny models, {args.prompts} prompts x {args.group} rollouts x {args.tokens} tokens, "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'':32s} {'vLLM':>10s} {'HF':>10s} {'vLLM/HF':>8s} {'vLLM start s':>12s}")
    for name, v, h, s in rows:
        print(f"{name:32s} {v:10.1f} {h:10.1f} {v / h:8.2f} {s:12.1f}")
    print(f"teacher log-probs max |vLLM - HF| = {diff:.2e}")


if __name__ == "__main__":
    main()
