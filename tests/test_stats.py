import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vold_bench.stats import bootstrap_ci, mcnemar_exact, paired_bootstrap, paired_test


def _runs(n, acc_a, acc_b, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.random(n) < acc_a
    b = rng.random(n) < acc_b
    return {str(i): bool(v) for i, v in enumerate(a)}, {str(i): bool(v) for i, v in enumerate(b)}


def test_identical_runs_give_zero_difference_and_p_one():
    a, _ = _runs(300, 0.4, 0.4)
    r = paired_test(a, dict(a))
    assert r.diff == 0.0 and r.ci_low == 0.0 and r.ci_high == 0.0
    assert r.ci_low <= 0.0 <= r.ci_high
    assert r.p_value == 1.0
    assert r.only_a == r.only_b == 0


def test_clear_difference_gives_small_p_and_ci_excluding_zero():
    a, b = _runs(400, 0.3, 0.7, seed=1)
    r = paired_test(a, b)
    assert r.diff == pytest.approx(r.acc_b - r.acc_a)
    assert r.diff > 20
    assert r.p_value < 1e-6
    assert r.ci_low > 0


def test_small_case_by_hand():
    # 1 item only a gets right, 4 only b: m=5, P(X<=1)=(1+5)/32, two-sided 12/32.
    assert mcnemar_exact(1, 4) == pytest.approx(12 / 32)
    assert mcnemar_exact(4, 1) == pytest.approx(12 / 32)
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    assert mcnemar_exact(3, 3) == 1.0
    # 10 items: a right on 0-4, b right on 0-1 and 5-8 -> only_a=3 (2,3,4), only_b=4 (5..8)
    a = {str(i): i < 5 for i in range(10)}
    b = {str(i): i < 2 or 5 <= i < 9 for i in range(10)}
    r = paired_test(a, b)
    assert (r.n, r.only_a, r.only_b) == (10, 3, 4)
    assert r.acc_a == 50.0 and r.acc_b == 60.0 and r.diff == pytest.approx(10.0)
    assert r.p_value == pytest.approx(2 * sum(math.comb(7, k) for k in range(4)) / 2 ** 7)


def test_ci_width_shrinks_with_n():
    widths = []
    for n in (50, 500, 5000):
        a, b = _runs(n, 0.4, 0.45, seed=2)
        r = paired_test(a, b)
        widths.append(r.ci_high - r.ci_low)
    assert widths[0] > widths[1] > widths[2]
    # sqrt(n) scaling: 100x more items -> roughly 10x narrower
    assert 5 < widths[0] / widths[2] < 20


def test_only_shared_ids_are_compared():
    a = {"x": True, "y": False, "z": True}
    b = {"y": True, "z": True, "w": False}
    r = paired_test(a, b)
    assert r.n == 2 and r.only_b == 1 and r.only_a == 0
    assert paired_test({"a": True}, {"b": True}) is None


def test_multinomial_shortcut_matches_index_bootstrap():
    rng = np.random.default_rng(3)
    a = rng.random(200) < 0.5
    b = rng.random(200) < 0.6
    diff, low, high = paired_bootstrap(a, b, n_boot=20_000, seed=0)
    d = b.astype(int) - a.astype(int)
    idx = rng.integers(0, 200, size=(20_000, 200))
    naive = 100 * d[idx].mean(axis=1)
    nlow, nhigh = np.quantile(naive, [0.025, 0.975])
    assert abs(low - nlow) < 1.0 and abs(high - nhigh) < 1.0
    assert diff == pytest.approx(100 * d.mean())


def test_seeded_and_single_run_ci():
    a, b = _runs(100, 0.4, 0.5, seed=4)
    assert paired_test(a, b, seed=7) == paired_test(a, b, seed=7)
    acc, low, high = bootstrap_ci(list(a.values()))
    assert low <= acc <= high and high - low > 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_symmetry_and_ranges(pairs):
    a = {str(i): x for i, (x, _) in enumerate(pairs)}
    b = {str(i): y for i, (_, y) in enumerate(pairs)}
    ab, ba = paired_test(a, b, n_boot=500), paired_test(b, a, n_boot=500)
    assert 0.0 <= ab.p_value <= 1.0
    assert ab.p_value == pytest.approx(ba.p_value)
    assert ab.diff == pytest.approx(-ba.diff)
    assert ab.ci_low <= ab.diff <= ab.ci_high
