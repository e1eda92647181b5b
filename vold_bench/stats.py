"""Paired significance for two runs scored on the same items.

Both tests look only at items present in both runs (matched by id), because an accuracy gap
measured on different item sets says nothing about the models. Accuracies and differences are
in percentage points, like results.json.

- `paired_bootstrap`: percentile bootstrap CI of acc(b) - acc(a), resampling items (Koehn 2004;
  Dror et al. 2018, "The Hitchhiker's Guide to Testing Statistical Significance in NLP").
- `mcnemar_exact`: exact McNemar test = two-sided sign test on the discordant items (one run
  right, the other wrong). Items where both agree carry no information about the difference.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class Paired:
    n: int              # items scored by both runs
    acc_a: float        # % on those items
    acc_b: float
    diff: float         # acc_b - acc_a, percentage points
    ci_low: float
    ci_high: float
    p_value: float      # exact McNemar (two-sided)
    only_a: int         # items a got right and b wrong
    only_b: int         # items b got right and a wrong


def _as01(x: Sequence) -> np.ndarray:
    return np.asarray([1 if v else 0 for v in x], dtype=np.int64)


def paired_bootstrap(a: Sequence, b: Sequence, n_boot: int = 10_000, seed: int = 0,
                     level: float = 0.95) -> tuple[float, float, float]:
    """(diff, low, high) in percentage points for acc(b) - acc(a) over aligned items.

    Resampling n items with replacement only matters through how many of the drawn items have
    per-item difference -1, 0 or +1, and those counts are exactly Multinomial(n, observed
    proportions). Drawing the counts instead of n indices gives the same bootstrap
    distribution at O(n_boot) cost, so 10k resamples of MathVision's 3,040 items are instant.
    """
    a, b = _as01(a), _as01(b)
    if len(a) != len(b):
        raise ValueError(f"paired_bootstrap needs aligned runs, got {len(a)} and {len(b)} items")
    n = len(a)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    d = b - a                                                     # (n,) in {-1, 0, 1}
    probs = np.array([(d == -1).sum(), (d == 0).sum(), (d == 1).sum()], dtype=float) / n
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, probs, size=n_boot)               # (n_boot, 3)
    boot = 100.0 * (counts[:, 2] - counts[:, 0]) / n              # (n_boot,)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return 100.0 * float(d.mean()), float(low), float(high)


def bootstrap_ci(correct: Sequence, n_boot: int = 10_000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float, float]:
    """(accuracy, low, high) in % for one run; resampling items is Binomial(n, acc)."""
    c = _as01(correct)
    n = len(c)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    acc = c.mean()
    boot = 100.0 * np.random.default_rng(seed).binomial(n, acc, size=n_boot) / n
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return 100.0 * float(acc), float(low), float(high)


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact p-value: P(a split at least as uneven as observed | no difference).

    Under H0 each discordant item is a fair coin, so the smaller count is Binomial(m, 1/2).
    Python's big ints keep comb(m, k) / 2**m exact enough for m in the thousands.
    """
    m = only_a + only_b
    if m == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(m, i) for i in range(k + 1)) / 2 ** m
    return min(1.0, 2.0 * tail)


def paired_test(a: Mapping[str, bool], b: Mapping[str, bool], n_boot: int = 10_000,
                seed: int = 0, level: float = 0.95) -> Paired | None:
    """Compare two runs given {item id: correct}; None when they share no item."""
    ids = sorted(set(a) & set(b))
    if not ids:
        return None
    xa = _as01([a[i] for i in ids])
    xb = _as01([b[i] for i in ids])
    diff, low, high = paired_bootstrap(xa, xb, n_boot=n_boot, seed=seed, level=level)
    only_a = int(((xa == 1) & (xb == 0)).sum())
    only_b = int(((xa == 0) & (xb == 1)).sum())
    return Paired(n=len(ids), acc_a=100.0 * float(xa.mean()), acc_b=100.0 * float(xb.mean()),
                  diff=diff, ci_low=low, ci_high=high,
                  p_value=mcnemar_exact(only_a, only_b), only_a=only_a, only_b=only_b)
