"""The baselines against independent computations: FV against scikit-image's
fisher_vector, VLAD against a direct NumPy VLAD, BP / AVE / Concatenation
against NumPy; plus the bad inputs of section 4 of the issue."""
import numpy as np
import pytest

from fvvae.baselines import encode, fit_codebook
from fvvae.data.representations import normalize_rows


from fvvae.baselines import as_stored_set as as_set


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    centers = rng.gamma(2.0, 1.0, (5, 6))
    sample = (centers[rng.integers(0, 5, 3000)] + rng.normal(0, 0.3, (3000, 6))).astype(np.float32)
    one = (centers[rng.integers(0, 5, 40)] + rng.normal(0, 0.3, (40, 6))).astype(np.float32)
    return sample, one


def test_fv_matches_scikit_image(data):
    from sklearn.mixture import GaussianMixture
    from skimage.feature import fisher_vector
    sample, one = data
    cb = fit_codebook("fv", sample, 4, seed=0)
    k, d = cb["means"].shape
    gm = GaussianMixture(n_components=k, covariance_type="diag")
    gm.weights_ = cb["priors"].astype(np.float64)
    gm.means_ = cb["means"].astype(np.float64)
    gm.covariances_ = cb["covars"].astype(np.float64)
    gm.precisions_cholesky_ = 1.0 / np.sqrt(gm.covariances_)
    ref = fisher_vector(one.astype(np.float64), gm)        # [d_pi (K), d_mu (KD), d_sigma (KD)]
    ours = encode("fv", as_set(one), cb)
    assert ours.shape == (2 * k * d,)
    expected = np.concatenate([ref[k:k + k * d], -ref[k + k * d:]])   # VLFeat: no d_pi, sigma sign
    np.testing.assert_allclose(ours, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())


def test_fv_then_classifier_normalisation_is_vlfeat_improved_fv(data):
    from cyvlfeat.fisher import fisher
    sample, one = data
    cb = fit_codebook("fv", sample, 4, seed=0)
    improved = fisher(one, cb["means"], cb["covars"], cb["priors"], improved=True)
    np.testing.assert_allclose(normalize_rows(encode("fv", as_set(one), cb)[None])[0],
                               improved, rtol=1e-4, atol=1e-6)


def test_vlad_matches_numpy(data):
    sample, one = data
    cb = fit_codebook("vlad", sample, 5, seed=0)
    c = cb["centers"].astype(np.float64)
    x = one.astype(np.float64)
    nearest = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
    expected = np.stack([(x[nearest == j] - c[j]).sum(0) for j in range(len(c))]).ravel()
    np.testing.assert_allclose(encode("vlad", as_set(one), cb), expected, rtol=1e-4, atol=1e-4)


def test_codebooks_are_seeded(data):
    sample, _ = data
    a, b = fit_codebook("vlad", sample, 5, seed=3), fit_codebook("vlad", sample, 5, seed=3)
    np.testing.assert_array_equal(a["centers"], b["centers"])
    g1, g2 = fit_codebook("fv", sample, 4, seed=3), fit_codebook("fv", sample, 4, seed=3)
    np.testing.assert_array_equal(g1["means"], g2["means"])


def test_bp_ave_concat_ga_match_numpy(data):
    _, one = data
    np.testing.assert_allclose(encode("bp", as_set(one)),
                               (one.astype(np.float64).T @ one).ravel(), rtol=1e-5)
    fmap = np.random.default_rng(1).random((6, 1, 49)).astype(np.float32)   # C x 1 x HW
    np.testing.assert_allclose(encode("ave", fmap), fmap[:, 0].mean(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(encode("concat", fmap), fmap.ravel())
    g = np.arange(8, dtype=np.float32).reshape(8, 1, 1)
    np.testing.assert_array_equal(encode("ga", g), np.arange(8))


def test_all_zero_sets_give_finite_vectors(data):
    """A documented handling: an all-zero set encodes to a finite vector, which
    normalises to a finite (possibly zero) row: never a NaN score."""
    sample, _ = data
    zero = np.zeros((6, 1, 20), np.float32)
    for method, cb in (("fv", fit_codebook("fv", sample, 4, 0)),
                       ("vlad", fit_codebook("vlad", sample, 5, 0)), ("bp", None)):
        v = encode(method, zero, cb)
        assert np.isfinite(v).all()
        assert np.isfinite(normalize_rows(v[None])).all()


def test_nan_descriptors_are_refused(data):
    sample, one = data
    bad = as_set(one)
    bad[2, 0, 5] = np.nan
    for method, cb in (("fv", fit_codebook("fv", sample, 4, 0)), ("bp", None)):
        with pytest.raises(ValueError, match="NaN or Inf"):
            encode(method, bad, cb)


def test_pca_reduces_descriptors_before_bp(data):
    from fvvae.baselines import fit_pca
    sample, one = data
    mean, comps = fit_pca(sample, 3)
    assert comps.shape == (3, 6)
    np.testing.assert_allclose(comps @ comps.T, np.eye(3), atol=1e-5)   # orthonormal
    cb = {"pca_mean": mean, "pca_components": comps}
    d = (one - mean) @ comps.T
    np.testing.assert_allclose(encode("bp", as_set(one), cb), (d.T @ d).ravel(), rtol=1e-4,
                               atol=1e-4)
