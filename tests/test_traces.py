"""The traces stage: filters, and a re-run skips every prompt already tried."""
import json

from vold_bench.schema import Item
from vold_train.config import TracesConfig
from vold_train.traces import _verdict, write_traces


def test_filters():
    item = Item(id="q", question="2 + 3?", gold="5", answer_type="integer", meta={"scorer": "toy"})
    cfg = TracesConfig(max_trace_tokens=10, min_trace_tokens=2, require_boxed=True, verify=False)
    ok = "<think>\n2 + 3 = 5.\n</think>\nThe answer is \\boxed{5}."
    assert _verdict(ok, 8, True, item, cfg) == "ok"
    assert _verdict(ok, 8, False, item, cfg) == "truncated"
    assert _verdict(ok, 11, True, item, cfg) == "too_long"
    assert _verdict(ok, 1, True, item, cfg) == "too_short"
    assert _verdict("the answer is 5", 5, True, item, cfg) == "no_boxed"
    wrong = ok.replace("{5}", "{6}")
    assert _verdict(wrong, 8, True, item, cfg) == "ok"  # the paper does not verify answers
    cfg.verify = True
    assert _verdict(wrong, 8, True, item, cfg) == "wrong"
    assert _verdict(ok, 8, True, item, cfg) == "ok"


def test_resumable(tmp_path):
    from vold_train.toy.models import make_tiny_pair

    _, teacher = make_tiny_pair(tmp_path / "pair")
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"question": f"What is {i} + 1?", "gold": str(i + 1)}) + "\n"
                               for i in range(5)))
    out = tmp_path / "traces.jsonl"
    cfg = TracesConfig(teacher=teacher, prompts=str(prompts), n_prompts=5, max_new_tokens=4,
                       min_trace_tokens=0, require_boxed=False, batch_size=2)
    counts = write_traces(cfg, out)
    kept = out.read_text().splitlines() if out.exists() else []
    rejected = out.with_suffix(".rejected.jsonl").read_text().splitlines()
    assert len(kept) + len(rejected) == 5 and sum(v for k, v in counts.items() if k != "skipped_done") == 5
    assert all(json.loads(r)["rejected"] for r in rejected)
    again = write_traces(cfg, out)
    assert again == {"skipped_done": 5}
    assert len(out.with_suffix(".rejected.jsonl").read_text().splitlines()) == len(rejected)
