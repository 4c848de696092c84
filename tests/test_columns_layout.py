"""The columns layout (SetsToColumns / ColumnsToSets, fvvae/model/nets.py): the two
layers against NumPy, and the generated nets against the same nets on the
per-set layout (columns=False: every layer on the N x C x 1 x T sets): equal
FVs, losses and gradients."""
import numpy as np
import pytest

from conftest import input_layers, net_from_text


pytestmark = pytest.mark.quick     # scripts/test.sh --quick


def test_layers_against_numpy(caffe):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4, 2, 5)).astype(np.float32)     # T = 2 x 5 descriptor axes
    text = "force_backward: true\n" + input_layers(x=x.shape) + (
        'layer { name: "cols" type: "SetsToColumns" bottom: "x" top: "cols" }\n'
        'layer { name: "sets" type: "ColumnsToSets" bottom: "cols" bottom: "x" top: "sets" }\n')
    net = net_from_text(caffe, text)
    net.blobs["x"].data[...] = x
    net.forward()
    columns = np.moveaxis(x.reshape(3, 4, 10), 1, 0).reshape(1, 4, 1, 30)
    np.testing.assert_array_equal(net.blobs["cols"].data, columns)
    np.testing.assert_array_equal(net.blobs["sets"].data, x)
    dy = rng.normal(size=x.shape).astype(np.float32)
    net.blobs["sets"].diff[...] = dy
    net.backward()
    np.testing.assert_array_equal(
        net.blobs["cols"].diff, np.moveaxis(dy.reshape(3, 4, 10), 1, 0).reshape(1, 4, 1, 30))
    np.testing.assert_array_equal(net.blobs["x"].diff, dy)


def copy_params(src, dst):
    for name, blobs in src.params.items():
        for a, b in zip(blobs, dst.params[name]):
            b.data[...] = a.data


def test_extract_net_equals_per_set_layout_and_single_sets(caffe):
    from fvvae.model.config import FVVAEConfig
    from fvvae.model.nets import extract_net
    rng = np.random.default_rng(4)
    n, c, t = 4, 12, 6
    cfg = FVVAEConfig(channels=c, descriptors=t, encoder=[10, 5])
    flat = net_from_text(caffe, str(extract_net(caffe, cfg, input_shape=[n, c, 1, t])))
    assert "x_cols" in flat.blobs
    plain = net_from_text(caffe, str(
        extract_net(caffe, cfg, input_shape=[n, c, 1, t], columns=False)))
    assert "x_cols" not in plain.blobs
    single = net_from_text(caffe, str(extract_net(caffe, cfg, input_shape=[1, c, 1, t])))
    for name, blobs in flat.params.items():
        for b in blobs:
            b.data[...] = rng.normal(scale=0.5, size=b.data.shape)
    flat.params["fv"][1].data[...] = rng.uniform(0.5, 2, flat.params["fv"][1].data.shape)
    copy_params(flat, plain)
    copy_params(flat, single)
    x = np.abs(rng.normal(size=(n, c, 1, t))).astype(np.float32)
    for net in (flat, plain):
        net.blobs["data"].data[...] = x
        net.forward()
    np.testing.assert_allclose(flat.blobs["fv"].data, plain.blobs["fv"].data,
                               rtol=1e-5, atol=1e-5)
    assert np.abs(flat.blobs["fv"].data).max() > 1e-3
    for i in range(n):     # no set leaks into another's FV
        single.blobs["data"].data[...] = x[i:i + 1]
        single.forward()
        np.testing.assert_allclose(single.blobs["fv"].data[0], flat.blobs["fv"].data[i],
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("lambda3", [1000.0, 0.0])
def test_train_net_equals_per_set_layout(caffe, lambda3):
    """Losses and every parameter gradient in TRAIN phase, with the same
    GaussianSample noise (same seed; dropout off: its mask order differs)."""
    from fvvae.model.config import FVVAEConfig
    from fvvae.model.nets import train_net_on_inputs
    rng = np.random.default_rng(5)
    n, c, t, classes = 5, 8, 4, 3
    cfg = FVVAEConfig(channels=c, descriptors=t, encoder=[8, 3], batch=n, classes=classes,
                      dropout=0.0, lambda3=lambda3)
    text = "force_backward: true\n" + str(train_net_on_inputs(caffe, cfg))
    flat = net_from_text(caffe, text, caffe.TRAIN)
    plain = net_from_text(caffe, "force_backward: true\n" + str(
        train_net_on_inputs(caffe, cfg, columns=False)), caffe.TRAIN)
    for name, blobs in flat.params.items():
        for b in blobs:
            b.data[...] = rng.normal(scale=0.5, size=b.data.shape)
    copy_params(flat, plain)
    x = np.abs(rng.normal(size=(n, c, 1, t))).astype(np.float32)
    label = rng.integers(0, classes, n).astype(np.float32)
    out = []
    for net in (flat, plain):
        net.blobs["data"].data[...] = x
        net.blobs["label"].data[...] = label
        for blobs in net.params.values():
            for b in blobs:
                b.diff[...] = 0
        caffe.set_random_seed(11)
        losses = {k: float(v) for k, v in net.forward().items()}
        net.backward()
        out.append((losses, {k: [b.diff.copy() for b in v] for k, v in net.params.items()}))
    (lf, gf), (lp, gp) = out
    assert set(lf) == set(lp) and len(lf) == (3 if lambda3 else 2)
    for k in lf:
        np.testing.assert_allclose(lf[k], lp[k], rtol=1e-5, err_msg=k)
    for k in gf:
        for a, b in zip(gf[k], gp[k]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * max(1, np.abs(b).max()),
                                       err_msg=k)
    assert np.abs(gf["enc1"][0]).max() > 0


def test_python_twins_give_the_fvs_of_the_columns_net(caffe, tmp_path):
    """make_nets.py --python-twins: the per-set nets with the NumPy twins of
    python_layers/ in place of our layers give the FVs the committed
    (columns-layout, C++) extract net gives; a columns net is refused."""
    import subprocess
    import sys
    from conftest import ROOT
    from fvvae.model.config import FVVAEConfig
    from fvvae.model.nets import extract_net, with_python_twins
    rng = np.random.default_rng(5)
    n, c, t = 3, 12, 6
    cfg = FVVAEConfig(channels=c, descriptors=t, encoder=[10, 5])
    flat = net_from_text(caffe, str(extract_net(caffe, cfg, input_shape=[n, c, 1, t])))
    twin_text = str(with_python_twins(extract_net(caffe, cfg, input_shape=[n, c, 1, t],
                                                  columns=False)))
    assert 'type: "Python"' in twin_text and "FisherVector" not in twin_text.replace(
        "FisherVectorLayer", "")
    twins = net_from_text(caffe, twin_text)
    for name, blobs in flat.params.items():
        for b in blobs:
            b.data[...] = rng.normal(scale=0.5, size=b.data.shape)
    flat.params["fv"][1].data[...] = rng.uniform(0.5, 2, flat.params["fv"][1].data.shape)
    copy_params(flat, twins)
    x = np.abs(rng.normal(size=(n, c, 1, t))).astype(np.float32)
    for net in (flat, twins):
        net.blobs["data"].data[...] = x
        net.forward()
    np.testing.assert_allclose(twins.blobs["fv"].data, flat.blobs["fv"].data, rtol=1e-4,
                               atol=1e-5 * np.abs(flat.blobs["fv"].data).max())
    with pytest.raises(ValueError, match="no Python twin"):
        with_python_twins(extract_net(caffe, cfg, input_shape=[n, c, 1, t]))
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "make_nets.py"), "--experiment",
                          "ucf101_vgg19_pool5", "--python-twins", "--out", str(tmp_path / "o")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    for f, twin in (("train.prototxt", "gaussian_sample_layer"),
                    ("train.prototxt", "gaussian_reconstruction_loss_layer"),
                    ("extract.prototxt", "fisher_vector_layer")):
        text = (tmp_path / "o" / f).read_text()
        assert "SetsToColumns" not in text and 'module: "%s"' % twin in text, (f, twin)
