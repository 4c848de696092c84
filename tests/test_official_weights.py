"""The authors' released weights import into a Caffe head that agrees with
their extraction formula (shared/reference/fv-vae-official/README.md, steps
2 to 5), evaluated here directly in NumPy from the .mat file."""
import subprocess
from pathlib import Path
import sys

import numpy as np
import pytest
import scipy.io

from conftest import ROOT
from fvvae.paths import official_dir

OFFICIAL = Path(official_dir())
SPLITS = [OFFICIAL / ("caffe_vae_weights_ucf101_split%d_vgg19.mat" % i) for i in (1, 2, 3)]


def authors_raw_fv(pool5, mat_path):
    """pool5: (7, 7, 512) one frame. Returns the 512 x 257 raw FV matrix."""
    s = scipy.io.loadmat(str(mat_path), struct_as_record=False)["caffe_vae_weights"][0, 0]
    enc, dec = s.encoder[0, 0], s.decoder[0, 0]
    w_enc = enc.w.reshape(512, 256).astype(np.float64)
    w_dec = dec.w.reshape(512, 256).astype(np.float64)
    sigma = s.decoder_sigma.ravel().astype(np.float64)
    # step 2: whole-map L2 normalisation times norm_scale
    a = pool5 / np.linalg.norm(pool5) * float(s.norm_scale[0, 0])
    # step 3: spatial pyramid max pooling, 2x2/1, 3x3/2, 4x4/3, whole map
    x = []
    for k, st in ((2, 1), (3, 2), (4, 3), (7, 7)):
        for i in range(0, 7 - k + 1, st):
            for j in range(0, 7 - k + 1, st):
                x.append(a[i:i + k, j:j + k].max(axis=(0, 1)))
    x = np.array(x)
    assert x.shape == (50, 512)
    # step 4: encoder (no sampling), decoder with ReLU
    z = x @ w_enc + enc.b.ravel()
    u = np.maximum(z @ w_dec.T + dec.b.ravel(), 0)
    # step 5: ((u - x) / sigma^2 * (u > 0))^T @ [z, 1], summed over the 50 descriptors
    g = (u - x) / sigma ** 2 * (u > 0)
    return g.T @ np.hstack([z, np.ones((50, 1))])


@pytest.fixture(scope="module")
def heads(tmp_path_factory):
    if not all(p.exists() for p in SPLITS):
        pytest.skip("the authors' weights are not beside the clone (%s)" % OFFICIAL)
    out = {}
    for i, mat in enumerate(SPLITS, 1):
        d = tmp_path_factory.mktemp("split%d" % i)
        subprocess.run([sys.executable, str(ROOT / "tools/import_official_weights.py"),
                        "--mat", str(mat), "--out", str(d)], check=True,
                       capture_output=True, text=True)
        out[i] = (mat, d / "deploy.prototxt", d / "weights.caffemodel")
    return out


@pytest.mark.parametrize("split", [1, 2, 3])
def test_head_matches_authors_formula(caffe, heads, split):
    mat, deploy, model = heads[split]
    net = caffe.Net(str(deploy), str(model), caffe.TEST)
    rng = np.random.default_rng(split)
    # non-negative, sparse-ish like ReLU'd pool5 activations
    pool5 = np.maximum(rng.standard_normal((3, 512, 7, 7)), 0).astype(np.float32) * 5
    net.blobs["pool5"].reshape(*pool5.shape)
    net.blobs["pool5"].data[...] = pool5
    fv = net.forward()["fv"]
    assert fv.shape == (3, 512 * 257)
    for n in range(3):
        expected = authors_raw_fv(pool5[n].transpose(1, 2, 0).astype(np.float64), mat)
        got = fv[n].reshape(512, 257)        # element [c, k] at c * 257 + k
        err = np.abs(got - expected).max() / np.abs(expected).max()
        assert err < 1e-4, err
        # relative agreement holds element-wise for all but tiny entries too
        np.testing.assert_allclose(got, expected, rtol=1e-3,
                                   atol=1e-4 * np.abs(expected).max())


def test_import_rejects_a_bad_file(tmp_path):
    bad = tmp_path / "not_weights.mat"
    scipy.io.savemat(str(bad), {"something_else": np.zeros(3)})
    res = subprocess.run([sys.executable, str(ROOT / "tools/import_official_weights.py"),
                          "--mat", str(bad), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert str(bad) in res.stderr and "caffe_vae_weights" in res.stderr
    res = subprocess.run([sys.executable, str(ROOT / "tools/import_official_weights.py"),
                          "--mat", str(tmp_path / "missing.mat"), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "missing.mat: no such file" in res.stderr
