"""RL problem order: a fresh toy stream, or a fixed pool revisited each epoch."""
from vold_train.data import load_problems, pooled


def test_pool_revisits_every_problem_once_per_epoch_in_a_new_order():
    items = load_problems("toy", "train", n=40, seed=3, pool=8)
    assert len(items) == 40
    epochs = [[it.id for it in items[i:i + 8]] for i in range(0, 40, 8)]
    assert all(sorted(e) == sorted(epochs[0]) for e in epochs)  # the same 8 problems each pass
    assert len({tuple(e) for e in epochs}) > 1                   # in new orders
    assert [it.id for it in load_problems("toy", "train", n=40, seed=3, pool=8)] == [it.id for it in items]
    assert {it.meta["scorer"] for it in items} == {"toy"}


def test_no_pool_is_a_fresh_stream_and_pooled_truncates():
    stream = load_problems("toy", "train", n=30, seed=3)
    assert len({it.question for it in stream}) > 25
    assert len(pooled(list("abc"), 7, seed=0)) == 7
    assert sorted(pooled(list("abc"), 6, seed=0)[3:]) == ["a", "b", "c"]


def test_share_cold_start_copies_only_an_equal_cold_start(tmp_path):
    import json

    from vold_train.config import load_recipe, save_config
    from vold_train.run import share_cold_start

    src = tmp_path / "vold-s0"
    (src / "sft" / "final").mkdir(parents=True)
    (src / "sft" / "final" / "config.json").write_text("{}")
    save_config(load_recipe("vold"), src / "config.yaml")
    (src / "traces.jsonl").write_text('{"id": "t1"}\n')
    (src / "metrics.jsonl").write_text(json.dumps({"stage": "sft", "step": 1}) + "\n"
                                       + json.dumps({"stage": "rl", "step": 1}) + "\n")
    assert share_cold_start("grpo-only", [], tmp_path / "g", src)
    assert (tmp_path / "g" / "sft" / "final" / "config.json").exists()
    assert (tmp_path / "g" / "traces.jsonl").read_text() == '{"id": "t1"}\n'
    assert [json.loads(x)["stage"] for x in (tmp_path / "g" / "metrics.jsonl").read_text().splitlines()] == ["sft"]
    assert not share_cold_start("grpo-only", [], tmp_path / "g", src)            # folder exists
    assert not share_cold_start("grpo-only", ["sft.steps=3"], tmp_path / "o", src)  # other SFT
    assert not share_cold_start("no-cold-start", [], tmp_path / "n", src)        # no SFT stage
    assert not (tmp_path / "o").exists() and not (tmp_path / "n").exists()
