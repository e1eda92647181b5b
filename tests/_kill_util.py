"""A reward function that kills a run part-way, for the resume tests."""


def dies_after(n_calls: int, reward):
    """`reward`, except that call n_calls + 1 raises KeyboardInterrupt (as a Ctrl-C or a kill
    would land mid-step): with 6 rollouts per step, dies_after(12, r) dies inside step 3."""
    calls = {"n": 0}

    def fn(text, item):
        calls["n"] += 1
        if calls["n"] > n_calls:
            raise KeyboardInterrupt
        return reward(text, item)

    return fn
