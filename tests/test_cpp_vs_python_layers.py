"""The C++ layers and their NumPy Python twins (python_layers/) agree on
random inputs: tops, bottom gradients and parameter gradients."""
import numpy as np
import pytest

from conftest import descriptor_sets
from layer_pairs import assert_close, run_layer


pytestmark = pytest.mark.quick     # scripts/test.sh --quick


def both(caffe, layer_type, *args, **kwargs):
    return (run_layer(caffe, layer_type, False, *args, **kwargs),
            run_layer(caffe, layer_type, True, *args, **kwargs))


def compare(cpp, py, label):
    for part, a, b in zip(("top", "bottom diff", "param diff"), cpp, py):
        if isinstance(a, dict):
            for k in a:
                assert_close(a[k], b[k], "%s %s %s" % (label, part, k))
        else:
            for i, (pa, pb) in enumerate(zip(a, b)):
                assert_close(pa, pb, "%s %s %d" % (label, part, i))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fisher_vector_agrees(caffe, seed):
    rng = np.random.default_rng(seed)
    n, c, k, t = 3, 6, 4, 7
    x, mu = descriptor_sets(rng, n, c, t, positive_mu=True)
    z = rng.uniform(-1, 1, (n, k, 1, t)).astype(np.float32)
    params = [rng.uniform(-0.4, 0.4, c).astype(np.float32),
              rng.uniform(0.5, 1.5, c * (k + 1)).astype(np.float32)]
    top_diff = rng.standard_normal((n, c * (k + 1))).astype(np.float32)
    cpp, py = both(caffe, "FisherVector", {"x": x, "mu_x": mu, "z": z}, params,
                   {"out": top_diff}, caffe.TEST)
    assert np.abs(cpp[0]["out"]).max() > 0.1  # a real, non-trivial output
    compare(cpp, py, "FisherVector")


@pytest.mark.parametrize("normalization", ["BATCH_SIZE", "VALID", "NONE"])
def test_reconstruction_loss_agrees(caffe, normalization):
    rng = np.random.default_rng(7)
    n, c, t = 4, 5, 6
    x = descriptor_sets(rng, n, c, t)
    mu = descriptor_sets(rng, n, c, t)
    params = [rng.uniform(-0.5, 0.5, c).astype(np.float32)]
    cpp = run_layer(caffe, "GaussianReconstructionLoss", False, {"x": x, "mu_x": mu},
                    params, {}, caffe.TRAIN, loss_weights=(2.0,),
                    extra="loss_param { normalization: %s }" % normalization)
    py = run_layer(caffe, "GaussianReconstructionLoss", True, {"x": x, "mu_x": mu},
                   params, {}, caffe.TRAIN, loss_weights=(2.0,),
                   param_str='{"normalization": "%s"}' % normalization)
    compare(cpp, py, "GaussianReconstructionLoss")


def test_gaussian_sample_agrees_in_test_phase(caffe):
    rng = np.random.default_rng(3)
    n, k, t = 3, 5, 8
    mu = rng.uniform(-1, 1, (n, k, 1, t)).astype(np.float32)
    params = [rng.uniform(-0.5, 0.5, k).astype(np.float32)]
    top_diff = rng.standard_normal(mu.shape).astype(np.float32)
    cpp, py = both(caffe, "GaussianSample", {"mu": mu}, params, {"out": top_diff},
                   caffe.TEST, loss_weights=(0, 1.5), tops=("out", "loss"))
    np.testing.assert_array_equal(cpp[0]["out"], mu)  # no sampling at test
    compare(cpp, py, "GaussianSample/TEST")


def test_gaussian_sample_train_phase(caffe):
    """In TRAIN the noise differs (Caffe's RNG vs NumPy's), so compare what
    does not depend on it, and check the C++ noise-dependent gradient against
    NumPy using the noise recovered from the C++ output: eps = (z - mu) / sigma."""
    rng = np.random.default_rng(4)
    n, k, t = 8, 4, 50
    mu = rng.uniform(-1, 1, (n, k, 1, t)).astype(np.float32)
    log_sigma = rng.uniform(-0.5, 0.5, k).astype(np.float32)
    top_diff = rng.standard_normal(mu.shape).astype(np.float32)
    cpp, py = both(caffe, "GaussianSample", {"mu": mu}, [log_sigma], {"out": top_diff},
                   caffe.TRAIN, loss_weights=(0, 1.0), tops=("out", "loss"))
    assert_close(cpp[0]["loss"], py[0]["loss"], "L_reg")
    assert_close(cpp[1]["mu"], py[1]["mu"], "d mu")
    sigma = np.exp(log_sigma.astype(np.float64)).reshape(1, k, 1, 1)
    for z in (cpp[0]["out"], py[0]["out"]):
        eps = (z - mu) / sigma
        assert abs(eps.mean()) < 0.1 and abs(eps.std() - 1) < 0.1
    eps = (cpp[0]["out"].astype(np.float64) - mu) / sigma
    expected = (np.sum(top_diff * eps * sigma, axis=(0, 2, 3))
                + 1.0 / n * n * t * (sigma.ravel() ** 2 - 1))
    assert_close(cpp[2][0], expected, "d log sigma_z (TRAIN)", rtol=1e-3)
