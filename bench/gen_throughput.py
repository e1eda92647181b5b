"""hf-backend generation throughput: vold's HFBackend vs lmms-eval's own Qwen2.5-VL class.

Same model folder, same items (real MathVision testmini records and images), same prompt
text, same image pixel bounds, same dtype, same batch size and generation length, greedy;
the two run alternately in one process, and the script prints items/s, generated tokens/s
and the ratio vold / lmms-eval.

    make lmms-env && PYTHONPATH=$PWD .venv-lmms/bin/python bench/gen_throughput.py [--model DIR] [--n 16]

lmms-eval 0.7.3 lives in its own venv inside the repo, `.venv-lmms/` (`make lmms-env`: it
reuses vold's torch/transformers pins). Without it the script measures vold only and says
the comparison was skipped.

lmms-eval returns text only; its generated-token count is re-tokenized from that text
(special tokens are gone by then, so it can undercount by the end token).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def load_requests(n: int, data: Path):
    from vold_bench.data import load_items
    from vold_bench.prompts import build_request, render
    from vold_bench.tasks import get_task

    task = get_task("mathvision")
    tpl = task.template("default", "testmini")
    items = load_items(task, "testmini", str(data), limit=n)
    reqs = [build_request(it, tpl) for it in items]
    texts = [render(tpl, it) for it in items]
    return reqs, texts


def run_vold(backend, reqs, cfg):
    t0, c0 = time.perf_counter(), time.process_time()
    out = backend.generate(reqs, cfg)
    return time.perf_counter() - t0, sum(r.gen_tokens for r in out), time.process_time() - c0


def make_lmms(model_dir, batch_size, processor):
    from lmms_eval.models.simple.qwen2_5_vl import Qwen2_5_VL

    ip = processor.image_processor
    lm = Qwen2_5_VL(pretrained=model_dir, device="cpu", device_map="cpu", batch_size=batch_size,
                    min_pixels=ip.size["shortest_edge"], max_pixels=ip.size["longest_edge"])
    return lm


def run_lmms(lm, reqs, texts, max_new_tokens):
    from lmms_eval.api.instance import Instance

    docs = {i: r.images for i, r in enumerate(reqs)}
    lm.task_dict = {"vold": {"test": docs}}
    gen_kwargs = {"max_new_tokens": max_new_tokens, "temperature": 0, "until": []}
    instances = [Instance("generate_until", (texts[i], dict(gen_kwargs), lambda doc: doc, i, "vold", "test"),
                          idx=i, metadata={"task": "vold", "doc_id": i, "repeats": 1})
                 for i in range(len(reqs))]
    t0, c0 = time.perf_counter(), time.process_time()
    answers = lm.generate_until(instances)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    tok = lm.tokenizer
    ntok = sum(min(max_new_tokens, len(tok.encode(a, add_special_tokens=False))) for a in answers)
    return dt, ntok, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="Qwen2.5-VL folder (default: a tiny random one built from config)")
    shared = os.environ.get("VOLD_SHARED", str(REPO.parent / "shared"))
    ap.add_argument("--data", default=shared + "/benchmarks/mathvision")
    ap.add_argument("--n", type=int, default=16, help="items")
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--dtype", default="bfloat16", help="lmms-eval's class loads bf16; match it")
    ap.add_argument("--rounds", type=int, default=2, help="alternating timed rounds per system")
    args = ap.parse_args()

    import torch

    from vold_bench.backends.hf import HFBackend
    from vold_bench.schema import GenConfig

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = args.model
    if model is None:
        from vold_train.toy.models import make_tiny_pair
        model = make_tiny_pair(tempfile.mkdtemp(prefix="gen-bench-"))[0]
    reqs, texts = load_requests(args.n, Path(args.data))
    cfg = GenConfig(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    vold = HFBackend(model, device="cpu", dtype=args.dtype)
    # The tiny random model rarely emits an end token, so both sides generate the full
    # length; forbidding nothing keeps the comparison at equal work.
    try:
        lm = make_lmms(model, args.batch_size, vold.processor)
    except ImportError as e:
        lm = None
        print(f"lmms-eval not importable ({e}): comparison SKIPPED; measuring vold only.\n"
              f"Install lmms-eval==0.7.3 into a separate venv and run this script with its python.")

    run_vold(vold, reqs[:2], cfg)                     # warm-up (allocator, kernels)
    if lm is not None:
        run_lmms(lm, reqs[:2], texts[:2], args.max_new_tokens)
    rows = {"vold hf": [], "lmms-eval qwen2_5_vl": []}
    for k in range(args.rounds):
        # alternate who goes first, so neither always inherits the other's warm caches
        if lm is not None and k % 2:
            rows["lmms-eval qwen2_5_vl"].append(run_lmms(lm, reqs, texts, args.max_new_tokens))
        rows["vold hf"].append(run_vold(vold, reqs, cfg))
        if lm is not None and not k % 2:
            rows["lmms-eval qwen2_5_vl"].append(run_lmms(lm, reqs, texts, args.max_new_tokens))

    print(f"\nmodel {model}  items {len(reqs)}  batch {args.batch_size}  max_new_tokens "
          f"{args.max_new_tokens}  dtype {args.dtype}  threads {torch.get_num_threads()}  rounds {args.rounds}")
    # CPU seconds (all threads of this process) are printed too: on a shared machine they
    # move far less with other people's load than wall time does.
    print(f"{'system':<24}{'wall s':>9}{'items/s':>10}{'gen tok':>9}{'gen tok/s':>11}{'cpu s':>9}{'items/cpu-s':>13}")
    ips, ipc = {}, {}
    for name, runs in rows.items():
        if not runs:
            continue
        dt = sum(r[0] for r in runs) / len(runs)
        ntok = sum(r[1] for r in runs) / len(runs)
        cpu = sum(r[2] for r in runs) / len(runs)
        ips[name] = len(reqs) / dt
        ipc[name] = len(reqs) / cpu
        print(f"{name:<24}{dt:>9.2f}{ips[name]:>10.3f}{ntok:>9.0f}{ntok / dt:>11.1f}{cpu:>9.2f}{ipc[name]:>13.3f}")
    if len(ips) == 2:
        # Each round runs the two back to back, so a per-round ratio cancels slow drifts in
        # machine load; the median of those is the robust figure on a shared machine.
        pairs = list(zip(rows["vold hf"], rows["lmms-eval qwen2_5_vl"]))
        print("per-round ratios (wall): " + ", ".join(f"{b[0] / a[0]:.2f}" for a, b in pairs))
        print("per-round ratios (cpu):  " + ", ".join(f"{b[2] / a[2]:.2f}" for a, b in pairs))
        per_round = sorted(b[0] / a[0] for a, b in pairs)
        print(f"ratio vold / lmms-eval (items/s): mean-time {ips['vold hf'] / ips['lmms-eval qwen2_5_vl']:.2f}, "
              f"median per-round {per_round[len(per_round) // 2]:.2f}, "
              f"per CPU-second {ipc['vold hf'] / ipc['lmms-eval qwen2_5_vl']:.2f}")


if __name__ == "__main__":
    main()
