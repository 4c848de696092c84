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


@pytest.mark.quick
def test_a_trunk_name_is_resolved_in_one_place_and_unknown_names_are_refused():
    from fvvae.trunks.zoo import TRUNKS, UnknownTrunk, resolve_trunk
    assert resolve_trunk("vgg19_conv5_4").input_size == 448
    assert resolve_trunk(TRUNKS["open_nsfw"]) is TRUNKS["open_nsfw"]   # a Trunk passes through
    with pytest.raises(UnknownTrunk) as e:
        resolve_trunk("vgg16_pool5")
    assert "'vgg16_pool5'" in str(e.value) and "resnet152_res5c" in str(e.value)


@pytest.mark.quick
@pytest.mark.parametrize("args, env, rc, says", [
    (["open_nsfw"], {}, 0, ""),                                        # embedded: nothing to bring
    (["vgg19_conv5_4"], {}, 2, "set FVVAE_VGG19_WEIGHTS"),
    (["vgg19_flow_pool5"], {}, 2, "set FVVAE_VGG19_FLOW_WEIGHTS"),
    (["resnet152_res5c"], {"FVVAE_RESNET152_WEIGHTS": "/no/r.caffemodel"}, 2,
     "the caffemodel /no/r.caffemodel (from FVVAE_RESNET152_WEIGHTS) does not exist"),
    (["vgg19_pool5", "/no/v.caffemodel"], {}, 2, "/no/v.caffemodel (from the flag) does not exist"),
    (["vgg19_pool5", "", ], {"FVVAE_VGG19_WEIGHTS": "/etc/hostname"}, 0, "/etc/hostname"),
    (["alexnet"], {}, 2, "unknown trunk 'alexnet'"),
])
def test_the_scripts_ask_the_zoo_for_weights_before_their_setup(args, env, rc, says):
    # scripts/lib_dataset.sh's need_weights: the system python3, no .venv, no caffe
    import os
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FVVAE_")}
    clean.update(env)
    # the system's python3, as before the setup: no .venv on the PATH
    clean["PATH"] = os.pathsep.join(p for p in clean.get("PATH", "").split(os.pathsep)
                                    if ".venv" not in p) or "/usr/bin:/bin"
    res = subprocess.run(["bash", "-c", 'ROOT="$1"; source "$1/scripts/lib_dataset.sh"; shift; '
                          'need_weights "$@"', "x", str(ROOT)] + args,
                         env=clean, capture_output=True, text=True)
    assert res.returncode == rc, res.stderr
    assert says in (res.stdout if rc == 0 else res.stderr)
    if rc == 0:
        assert res.stdout.strip() == says
