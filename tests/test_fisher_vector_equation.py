"""FisherVector against a direct NumPy evaluation of the paper's eq. 11,
written here from the paper (not from the layer's code), and the FIM scale of
eq. 13 as a diagonal factor."""
import numpy as np

import pytest

from conftest import input_layers, net_from_text


pytestmark = pytest.mark.quick     # scripts/test.sh --quick


def eq11_fisher_vector(x, mu_x, z, sigma_x, scale):
    """x, mu_x: (T, C) for one set; z: (T, K); sigma_x: (C,); scale: (C, K+1).
    Returns flatten{ sum_t ((mu_x - x) / sigma^2 * (mu_x > 0)) [z_t', 1] } * scale."""
    fv = np.zeros((x.shape[1], z.shape[1] + 1))
    for t in range(x.shape[0]):
        d_rec_d_mu = (mu_x[t] - x[t]) / sigma_x ** 2 * (mu_x[t] > 0)
        fv += np.outer(d_rec_d_mu, np.append(z[t], 1.0))
    return (fv * scale).ravel()


def test_fisher_vector_matches_equation_11(caffe):
    rng = np.random.default_rng(11)
    n, c, k, t = 4, 16, 8, 50   # frame mode: 50 descriptors per set
    x = np.abs(rng.standard_normal((n, c, 1, t))).astype(np.float32)
    mu = rng.standard_normal((n, c, 1, t)).astype(np.float32)
    z = rng.standard_normal((n, k, 1, t)).astype(np.float32)
    sigma = rng.uniform(0.7, 4.2, c)                 # the released sigma_x range
    scale = rng.uniform(0.01, 2.0, (c, k + 1))
    net = net_from_text(caffe, input_layers(x=x.shape, mu_x=mu.shape, z=z.shape)
                        + 'layer { name: "fv" type: "FisherVector" bottom: "x" '
                          'bottom: "mu_x" bottom: "z" top: "fv" }')
    net.params["fv"][0].data[...] = np.log(sigma)
    net.params["fv"][1].data[...] = scale.ravel()
    net.blobs["x"].data[...] = x
    net.blobs["mu_x"].data[...] = mu
    net.blobs["z"].data[...] = z
    fv = net.forward()["fv"]
    assert fv.shape == (n, c * (k + 1))
    for i in range(n):
        expected = eq11_fisher_vector(x[i, :, 0, :].T.astype(np.float64),
                                      mu[i, :, 0, :].T.astype(np.float64),
                                      z[i, :, 0, :].T.astype(np.float64), sigma, scale)
        np.testing.assert_allclose(fv[i], expected, rtol=1e-4,
                                   atol=1e-5 * np.abs(expected).max())


def test_fisher_vector_is_linear_additive_over_descriptors(caffe):
    """Eq. 13 sums over descriptors: the FV of a set is the sum of the FVs of
    its parts (what makes a video's FV the mean of its frames' FVs)."""
    rng = np.random.default_rng(5)
    c, k, t = 6, 3, 10
    x = rng.standard_normal((1, c, 1, t)).astype(np.float32)
    mu = rng.standard_normal((1, c, 1, t)).astype(np.float32)
    z = rng.standard_normal((1, k, 1, t)).astype(np.float32)

    def fv_of(xs, ms, zs):
        net = net_from_text(caffe, input_layers(x=xs.shape, mu_x=ms.shape, z=zs.shape)
                            + 'layer { name: "fv" type: "FisherVector" bottom: "x" '
                              'bottom: "mu_x" bottom: "z" top: "fv" }')
        net.blobs["x"].data[...] = xs
        net.blobs["mu_x"].data[...] = ms
        net.blobs["z"].data[...] = zs
        return net.forward()["fv"][0].copy()

    whole = fv_of(x, mu, z)
    parts = fv_of(x[..., :4], mu[..., :4], z[..., :4]) + fv_of(x[..., 4:], mu[..., 4:], z[..., 4:])
    np.testing.assert_allclose(whole, parts, rtol=1e-5, atol=1e-5)
    assert np.abs(whole).max() > 0.1
