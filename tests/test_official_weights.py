"""The authors' released weights import into a Caffe head that agrees with
their extraction formula (the steps 2 to 5 of their README), evaluated here directly in NumPy
from the .mat file. The weights come from a clone of fv-vae/fv-vae
($FVVAE_OFFICIAL_DIR, fvvae.model.release_files); without one these tests skip with the
reason, unless FVVAE_REQUIRE_OFFICIAL=1 (.ci/run) makes that a failure."""
import os
import subprocess
from pathlib import Path
import sys

import numpy as np
import pytest
import scipy.io

from conftest import ROOT
from fvvae.model.release_files import OfficialMissing, official_dir, official_example_images, official_weights

OFFICIAL = Path(official_dir())


def release_or_skip():
    """The three .mat files (checksums verified), or a skip naming the
    variable; with FVVAE_REQUIRE_OFFICIAL=1 a missing release fails."""
    try:
        return [Path(official_weights(i)) for i in (1, 2, 3)]
    except OfficialMissing as e:
        if os.environ.get("FVVAE_REQUIRE_OFFICIAL") == "1":
            pytest.fail("FVVAE_REQUIRE_OFFICIAL=1 and %s" % e)
        pytest.skip(str(e))


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
    out = {}
    for i, mat in enumerate(release_or_skip(), 1):
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
    assert res.returncode == 2     # not one of the release's files
    assert str(bad) in res.stderr and "none of the release's" in res.stderr
    res = subprocess.run([sys.executable, str(ROOT / "tools/import_official_weights.py"),
                          "--mat", str(bad), "--any-mat", "--out", str(tmp_path / "o")],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert str(bad) in res.stderr and "caffe_vae_weights" in res.stderr
    res = subprocess.run([sys.executable, str(ROOT / "tools/import_official_weights.py"),
                          "--mat", str(tmp_path / "missing.mat"), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "missing.mat: no such file" in res.stderr


def test_release_is_read_in_its_clone_layout(tmp_path, monkeypatch):
    """vae_models/ and example_images/ of a clone; a damaged .mat is refused by
    its checksum, a missing clone named with the variable."""
    mats = release_or_skip()
    images = official_example_images()
    assert len(images) == 10 and all(p.endswith(".jpg") for p in images)
    from fvvae.data.preprocess import load_image
    assert load_image(images[0], (240, 320), 224, (104.0, 117.0, 123.0)).shape == (3, 224, 224)
    clone = tmp_path / "fv-vae"
    (clone / "vae_models").mkdir(parents=True)
    data = mats[0].read_bytes()
    (clone / "vae_models" / mats[0].name).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    monkeypatch.setenv("FVVAE_OFFICIAL_DIR", str(clone))
    with pytest.raises(ValueError, match="sha256"):
        official_weights(1)
    with pytest.raises(OfficialMissing, match="FVVAE_OFFICIAL_DIR"):
        official_weights(2)
    assert official_example_images() == []
