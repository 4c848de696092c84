"""The paired tests of the evidence (fvvae.evaluation.paired) against independent
computations: SciPy's exact binomial test, Holm's procedure worked by hand,
and known cases of the sign-flip and bootstrap."""
import numpy as np
import pytest
from scipy import stats

from fvvae.evaluation import paired


pytestmark = pytest.mark.quick     # scripts/test.sh --quick


@pytest.mark.parametrize("n01,n10", [(0, 5), (3, 9), (12, 30), (40, 41), (0, 0), (230, 190)])
def test_mcnemar_is_the_exact_binomial_test_of_the_discordant_items(n01, n10):
    agree = 50
    a = np.array([0] * n01 + [1] * n10 + [1] * agree, bool)
    b = np.array([1] * n01 + [0] * n10 + [1] * agree, bool)
    want = 1.0 if n01 + n10 == 0 else stats.binomtest(n01, n01 + n10, 0.5).pvalue
    assert paired.mcnemar_exact(a, b) == pytest.approx(want, rel=1e-9)


def test_sign_flip_with_one_seed_each_is_mcnemar():
    rng = np.random.default_rng(0)
    a, b = rng.random(300) < 0.8, rng.random(300) < 0.7
    d = a.astype(float) - b.astype(float)
    assert paired.sign_flip(d) == pytest.approx(paired.mcnemar_exact(a, b), rel=1e-12)
    # few discordant items: exact enumeration, by hand for d = (1, 1, 1): 2 of 8 flips
    assert paired.sign_flip([1, 1, 1, 0, 0]) == pytest.approx(0.25)


def test_sign_flip_monte_carlo_agrees_with_enumeration_and_detects_a_shift():
    rng = np.random.default_rng(1)
    d = rng.choice([-1, -2 / 3, -1 / 3, 1 / 3, 2 / 3, 1], size=18)
    exact = paired.sign_flip(d)                          # 18 nonzero: enumerated
    mc = paired.sign_flip(np.concatenate([d, np.zeros(5)]), draws=200000)
    assert abs(exact - mc) < 0.01
    shifted = np.clip(rng.normal(0.15, 0.5, 2000), -1, 1)  # seeds' fractions, mean 0.15
    assert paired.sign_flip(shifted, draws=20000) < 1e-3
    balanced = np.array([1 / 3] * 1000 + [-1 / 3] * 1000)       # mean exactly 0
    assert paired.sign_flip(balanced, draws=20000) == pytest.approx(1.0)


def test_holm_by_hand():
    # p sorted: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.5 (x1)
    got = paired.holm([0.03, 0.5, 0.01, 0.02])
    assert got == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert paired.holm([0.04, 0.03]) == pytest.approx([0.06, 0.06])   # kept monotone
    assert paired.holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])       # capped at 1


def test_bootstrap_interval_covers_the_difference_and_shrinks_with_items():
    rng = np.random.default_rng(2)
    small = rng.choice([-1.0, 0.0, 1.0], p=[0.1, 0.7, 0.2], size=400)
    large = rng.choice([-1.0, 0.0, 1.0], p=[0.1, 0.7, 0.2], size=4000)
    lo_s, hi_s = paired.bootstrap_interval(small)
    lo_l, hi_l = paired.bootstrap_interval(large)
    assert lo_s < small.mean() < hi_s and lo_l < large.mean() < hi_l
    assert (hi_l - lo_l) < 0.5 * (hi_s - lo_s)
    assert lo_l < 0.1 < hi_l                      # the true difference, 0.2 - 0.1


def test_compare_and_verdict():
    a = np.array([[1, 1, 1, 0, 1] * 40, [1, 1, 0, 0, 1] * 40], float)   # two seeds
    b = np.array([[0, 1, 0, 0, 1] * 40], float)
    r = paired.compare(a, b)
    assert r["difference"] == pytest.approx(a.mean(axis=0).mean() - b.mean())
    assert r["test"].startswith("paired sign-flip") and r["p"] < 1e-4   # the floor: 1e-5
    assert paired.verdict(r["difference"], r["p"]) == "holds"
    assert paired.verdict(-0.02, 0.001) == "refuted"
    assert paired.verdict(0.02, 0.2) == "not separable"
    with pytest.raises(ValueError, match="paired outcomes"):
        paired.compare(a, b[:, :10])
