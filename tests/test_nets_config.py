"""The net generator and its config: the paper's defaults, FV-VAE- (lambda3 = 0),
bad configs named, the descriptor-set layers against NumPy."""
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, input_layers, net_from_text


pytestmark = pytest.mark.quick     # scripts/test.sh --quick


def test_paper_defaults_in_generated_solver_and_nets(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "tools/make_nets.py"), "--config",
                          str(ROOT / "prototxt/configs/ucf101_vgg19_pool5.yaml"),
                          "--out", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    solver = (tmp_path / "solver.prototxt").read_text()
    for line in ('type: "AdaDelta"', "base_lr: 1", "max_iter: 5000"):
        assert line in solver
    train = (tmp_path / "train.prototxt").read_text()
    assert "batch_size: 128" in train and "dropout_ratio: 0.5" in train
    for t in ("GaussianSample", "GaussianReconstructionLoss", "SoftmaxWithLoss", "Deconvolution"):
        assert 'type: "%s"' % t in train
    assert "K = 255, raw FV dimension C*(K+1) = 131072" in res.stdout


def test_extract_net_shares_sigma_and_gives_fv_dim(caffe, tmp_path):
    from fvvae.model.config import FVVAEConfig
    from fvvae.model.nets import extract_net
    cfg = FVVAEConfig(channels=16, descriptors=6, encoder=[16, 5])
    net = net_from_text(caffe, str(extract_net(caffe, cfg)))
    assert net.blobs["fv"].data.shape == (1, 16 * 6)
    # one log sigma_x blob, shared by the loss and the FisherVector layer
    net.params["loss_rec"][0].data[...] = 0.3
    assert np.all(net.params["fv"][0].data == np.float32(0.3))


def test_fv_vae_minus_has_no_classifier(caffe):
    from fvvae.model.config import FVVAEConfig
    from fvvae.model.nets import train_net
    text = str(train_net(caffe, FVVAEConfig(lambda3=0, source="x")))
    assert "SoftmaxWithLoss" not in text and "Silence" in text


@pytest.mark.parametrize("override, message", [
    ("bogus=1", "unknown keys ['bogus']"),
    ("backend=LEVELDB", "backend must be LMDB or HDF5"),
    ("encoder=[]", "encoder must list positive layer widths"),
])
def test_bad_config_is_named(tmp_path, override, message):
    res = subprocess.run([sys.executable, str(ROOT / "tools/make_nets.py"), "--set", override,
                          "--out", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 2 and message in res.stderr, res.stderr


def numpy_spp(fmap):
    """fmap: C x 7 x 7 -> 50 x C, windows 2/1, 3/2, 4/3, whole (section 4)."""
    out = []
    for k, s in ((2, 1), (3, 2), (4, 3), (7, 7)):
        for i in range(0, 7 - k + 1, s):
            for j in range(0, 7 - k + 1, s):
                out.append(fmap[:, i:i + k, j:j + k].max(axis=(1, 2)))
    return np.array(out)


def test_frame_descriptor_set_is_normalised_spp(caffe):
    from fvvae.trunks.descriptors import frame_descriptor_count, frame_descriptor_set
    assert frame_descriptor_count(7) == 50
    n = caffe.NetSpec()
    n.pool5 = caffe.layers.Input(shape=dict(dim=[2, 8, 7, 7]))
    n.x = frame_descriptor_set(caffe, n, n.pool5, 7, 158.0)
    net = net_from_text(caffe, str(n.to_proto()))
    rng = np.random.default_rng(0)
    fmap = np.maximum(rng.standard_normal((2, 8, 7, 7)), 0).astype(np.float32)
    net.blobs["pool5"].data[...] = fmap
    x = net.forward()["x"]
    assert x.shape == (2, 8, 1, 50)
    for i in range(2):
        a = fmap[i] / np.linalg.norm(fmap[i]) * 158
        np.testing.assert_allclose(x[i, :, 0, :].T, numpy_spp(a), rtol=1e-5, atol=1e-4)


def test_image_descriptor_set_normalises_each_position(caffe):
    from fvvae.trunks.descriptors import image_descriptor_set
    n = caffe.NetSpec()
    n.conv = caffe.layers.Input(shape=dict(dim=[1, 4, 3, 3]))
    n.flat, n.x = image_descriptor_set(caffe, n.conv)
    net = net_from_text(caffe, str(n.to_proto()))
    m = np.random.default_rng(1).uniform(0.1, 1, (1, 4, 3, 3)).astype(np.float32)
    net.blobs["conv"].data[...] = m
    x = net.forward()["x"]
    assert x.shape == (1, 4, 1, 9)
    d = m.reshape(4, 9)
    np.testing.assert_allclose(x[0, :, 0, :], d / np.linalg.norm(d, axis=0), rtol=1e-5)
