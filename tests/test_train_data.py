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
