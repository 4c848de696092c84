"""Paired tests of two methods on the same test items (docs/evidence.md).

A method's outcome on a test item is whether its top-1 prediction is right;
with several training seeds, the fraction of seeds that got it right. The
difference of two methods on item i is d_i = a_i - b_i, and their difference
in top-1 is mean(d).

* `mcnemar_exact`: one seed each (d_i in {-1, 0, 1}): the exact two-sided
  McNemar test, a binomial test of the discordant items at p = 1/2.
* `sign_flip`: any outcomes: the paired randomisation test of mean(d) = 0
  (under the null each d_i is as likely to be -d_i); exact by enumeration
  when few items differ, else Monte Carlo with a fixed seed. With one seed
  each it is McNemar's exact test again.
* `bootstrap_interval`: the 95% percentile interval of mean(d) over test
  items resampled with replacement (pairs kept together).
* `holm`: Holm's step-down adjustment of p-values across a family of claims.
"""
import math

import numpy as np


def mcnemar_exact(a_right, b_right):
    """Two-sided exact McNemar p-value of two 0/1 outcome vectors."""
    a, b = np.asarray(a_right, bool), np.asarray(b_right, bool)
    n01, n10 = int(np.sum(~a & b)), int(np.sum(a & ~b))
    n = n01 + n10
    if n == 0:
        return 1.0
    k = min(n01, n10)
    # P(X <= k) for X ~ Binomial(n, 1/2), doubled, in log space for large n
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2)
            for i in range(k + 1)]
    top = max(logs)
    tail = math.exp(top) * sum(math.exp(v - top) for v in logs)
    return float(min(1.0, 2.0 * tail))


def sign_flip(d, draws=100000, seed=0):
    """Two-sided p-value of mean(d) = 0 by flipping the signs of the nonzero
    d_i: exact by enumeration up to 20 of them, else `draws` random flips
    (the observed assignment counted, so p >= 1 / (draws + 1))."""
    d = np.asarray(d, np.float64)
    d = d[d != 0]
    if d.size == 0:
        return 1.0
    observed = abs(d.sum())
    tol = 1e-9 * max(1.0, np.abs(d).sum())
    if d.size <= 20:
        signs = ((np.arange(2 ** d.size)[:, None] >> np.arange(d.size)) & 1) * 2 - 1
        return float(np.mean(np.abs(signs @ d) >= observed - tol))
    if np.all(np.abs(np.abs(d) - 1) < 1e-12):      # one seed each: McNemar, exactly
        return mcnemar_exact(d > 0, d < 0)
    rng = np.random.default_rng(seed)
    hits, done = 0, 0
    while done < draws:
        n = min(10000, draws - done)
        signs = rng.integers(0, 2, size=(n, d.size), dtype=np.int8) * 2 - 1
        hits += int(np.sum(np.abs(signs @ d) >= observed - tol))
        done += n
    return float((hits + 1) / (draws + 1))


def bootstrap_interval(d, draws=10000, seed=0, level=0.95):
    """(low, high): the percentile interval of mean(d) over test items
    resampled with replacement."""
    d = np.asarray(d, np.float64)
    rng = np.random.default_rng(seed)
    means = np.empty(draws)
    for start in range(0, draws, 1000):
        n = min(1000, draws - start)
        idx = rng.integers(0, d.size, size=(n, d.size))
        means[start:start + n] = d[idx].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def holm(pvalues):
    """Holm-adjusted p-values (same order as given): the k-th smallest of m
    is multiplied by m - k + 1, made monotone, capped at 1."""
    p = np.asarray(pvalues, np.float64)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (p.size - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def compare(a_right, b_right, seed=0):
    """The claim's numbers for outcomes a (rows: seeds, or one row) against b
    on the same items: difference of top-1 (a - b), its bootstrap interval,
    the p-value (McNemar when both have one seed, else sign-flip)."""
    a = np.atleast_2d(np.asarray(a_right, np.float64))
    b = np.atleast_2d(np.asarray(b_right, np.float64))
    if a.shape[1] != b.shape[1]:
        raise ValueError("paired outcomes of %d and %d test items" % (a.shape[1], b.shape[1]))
    d = a.mean(axis=0) - b.mean(axis=0)
    low, high = bootstrap_interval(d, seed=seed)
    if a.shape[0] == 1 and b.shape[0] == 1:
        p, test = mcnemar_exact(a[0] > 0.5, b[0] > 0.5), "exact McNemar"
    else:
        p, test = sign_flip(d, seed=seed), "paired sign-flip (%d vs %d seeds)" % (
            a.shape[0], b.shape[0])
    return {"difference": float(d.mean()), "low": low, "high": high, "p": p, "test": test,
            "items": int(d.size), "discordant": int(np.sum(d != 0))}


def verdict(difference, p_adjusted, alpha=0.05):
    """holds / refuted / not separable, for a claim that a beats b."""
    if p_adjusted < alpha:
        return "holds" if difference > 0 else "refuted"
    return "not separable"
