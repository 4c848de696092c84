"""Trunk definitions and weight checks."""
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, input_layers


@pytest.mark.parametrize("name, blob, shape", [
    ("vgg19_pool5", "pool5", (1, 512, 7, 7)),
    ("vgg19_conv5_4", "conv5_4", (1, 512, 28, 28)),
    ("vgg19_flow_pool5", "pool5", (1, 512, 7, 7)),
    ("resnet152_res5c", "res5c", (1, 2048, 7, 7)),
])
def test_committed_trunk_definitions_are_current(caffe, name, blob, shape):
    from fvvae.trunks.zoo import trunk_definition
    path = ROOT / "prototxt" / "trunks" / (name + ".prototxt")
    body = path.read_text().split("\n", 1)[1]
    assert body == trunk_definition(caffe, name), "run tools/make_trunks.py"
    net = caffe.Net(str(path), caffe.TEST)
    assert net.blobs[blob].data.shape == shape


def test_resnet152_has_the_public_model_layer_names(caffe):
    net = caffe.Net(str(ROOT / "prototxt/trunks/resnet152_res5c.prototxt"), caffe.TEST)
    names = set(net.params)
    for n in ("conv1", "bn_conv1", "scale_conv1", "res2a_branch1", "res3b7_branch2c",
              "res4b35_branch2b", "bn4b35_branch2b", "res5c_branch2c", "scale5c_branch2c"):
        assert n in names, n
    convs = [k for k in names if k.startswith("res") and "branch" in k]
    assert len(convs) == 3 * (3 + 8 + 36 + 3) + 4   # three per block + four projections


def test_check_weights_names_file_layer_and_shapes(caffe, tmp_path):
    from fvvae.trunks.zoo import check_weights
    small = tmp_path / "a.prototxt"
    small.write_text(input_layers(data=(1, 3, 8, 8))
                     + 'layer { name: "conv1" type: "Convolution" bottom: "data" top: "c" '
                       'convolution_param { num_output: 4 kernel_size: 3 } }\n')
    other = tmp_path / "b.prototxt"
    other.write_text(small.read_text().replace("num_output: 4", "num_output: 5"))
    model = tmp_path / "b.caffemodel"
    caffe.Net(str(other), caffe.TEST).save(str(model))
    with pytest.raises(ValueError) as e:
        check_weights(caffe, str(small), str(model))
    msg = str(e.value)
    assert str(model) in msg and "'conv1'" in msg and "(5, 3, 3, 3)" in msg and "(4, 3, 3, 3)" in msg
    good = tmp_path / "a.caffemodel"
    caffe.Net(str(small), caffe.TEST).save(str(good))
    assert check_weights(caffe, str(small), str(good))


def test_missing_user_weights_are_explained(monkeypatch):
    from fvvae.trunks.zoo import trunk_weights
    monkeypatch.delenv("FVVAE_VGG19_WEIGHTS", raising=False)
    with pytest.raises(FileNotFoundError) as e:
        trunk_weights("vgg19_pool5")
    assert "FVVAE_VGG19_WEIGHTS" in str(e.value)
    monkeypatch.setenv("FVVAE_RESNET152_WEIGHTS", "/nonexistent/ResNet-152-model.caffemodel")
    with pytest.raises(FileNotFoundError) as e:
        trunk_weights("resnet152_res5c")
    assert "/nonexistent/ResNet-152-model.caffemodel" in str(e.value)
