"""The paper's own trunks (VGG_19 pool5 and conv5_4, the VGG_19 flow net,
ResNet_152 res5c) through the scripts that use them, with random weights of
the public models' shapes (tools/random_weights.py, cached between runs in
$FVVAE_CACHE_DIR/random_weights) on small fabricated trees of real frames
(opencv-doc's clips) and generated images."""
import math
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, caffemodel_blobs
from conftest import read_results as results
from fvvae.testing.dataset_trees import activitynet_tree, cub_tree, ucf101_tree
from test_datasets import QUICK, script, table_rows


@pytest.fixture(scope="module")
def weights(caffe):
    from fvvae.trunks.random_weights import cached
    return {t: cached(caffe, t) for t in ("vgg19_pool5", "vgg19_flow_pool5", "resnet152_res5c")}


# ---- the random models ------------------------------------------------------

def test_random_models_have_the_public_layers_and_keep_the_scale(caffe, weights, tmp_path):
    from fvvae.trunks.random_weights import model_definition
    from fvvae.trunks.zoo import check_weights, trunk_definition
    vgg, resnet = caffemodel_blobs(weights["vgg19_pool5"]), caffemodel_blobs(weights["resnet152_res5c"])
    # VGG_19: 16 convolutions and fc6/fc7 with the public file's shapes
    assert sum(1 for n in vgg if n.startswith("conv")) == 16
    assert vgg["conv1_1"][0].shape == (64, 3, 3, 3) and vgg["conv5_4"][0].shape == (512, 512, 3, 3)
    assert vgg["fc6"][0].shape == (4096, 25088) and vgg["fc7"][0].shape == (4096, 4096)
    assert caffemodel_blobs(weights["vgg19_flow_pool5"])["conv1_1"][0].shape == (64, 20, 3, 3)
    # ResNet_152: 155 convolutions (1 + 50 blocks x 3 + 4 projections), each with
    # BatchNorm (mean, variance, factor) and Scale (gamma, beta)
    convs = [n for n in resnet if n == "conv1" or (n.startswith("res") and "branch" in n)]
    assert len(convs) == 155
    for c in convs:
        bn, sc = ("bn_conv1", "scale_conv1") if c == "conv1" else (
            "bn" + c[3:], "scale" + c[3:])
        assert [b.shape for b in resnet[bn]] == [(resnet[c][0].shape[0],)] * 2 + [(1,)]
        assert np.all(resnet[bn][1] > 0) and len(resnet[sc]) == 2
    # He init where BatchNorm follows (ResNet): weight std sqrt(2 / fan_in)
    w = resnet["res4b7_branch2b"][0]
    assert abs(w.std() / math.sqrt(2.0 / (256 * 9)) - 1) < 0.02
    # the cut activations of a pixel-like input stay within a factor 10 of
    # their input's scale through 16 (VGG) and 152 (ResNet) layers
    rng = np.random.default_rng(1)
    for trunk, blob in (("vgg19_conv5_4", "conv5_4"), ("resnet152_res5c", "res5c")):
        proto = tmp_path / (trunk + ".prototxt")
        proto.write_text(trunk_definition(caffe, trunk))
        key = "resnet152_res5c" if trunk.startswith("resnet") else "vgg19_pool5"
        assert check_weights(caffe, str(proto), weights[key])
        net = caffe.Net(str(proto), caffe.TEST, weights=weights[key])
        size = 224
        net.blobs["data"].reshape(1, 3, size, size)
        x = rng.uniform(-100, 100, (1, 3, size, size)).astype(np.float32)
        net.blobs["data"].data[...] = x
        net.forward()
        a = net.blobs[blob].data
        assert np.isfinite(a).all() and a.max() > 0
        ratio = float(np.sqrt((a ** 2).mean()) / np.sqrt((x ** 2).mean()))
        assert 0.003 < ratio < 10, (trunk, ratio)
    assert "fc7" in model_definition(caffe, "vgg19")


def test_random_weights_tool_writes_a_loadable_model(tmp_path):
    out = tmp_path / "r.caffemodel"
    res = subprocess.run([sys.executable, str(ROOT / "tools/random_weights.py"), "--trunk",
                          "resnet152_res5c", "--out", str(out), "--seed", "3"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().endswith(str(out)) and out.stat().st_size > 200e6
    assert not list(tmp_path.glob("*.partial"))


# ---- the scripts ------------------------------------------------------------

def test_ucf101_vgg19_rgb_and_flow_streams(weights, tmp_path):
    root = ucf101_tree(str(tmp_path / "ucf"), clips_per_class=2, frames=12)
    out = tmp_path / "run"
    res = script("ucf101.sh", "--root", root, "--stream", "both", "--frames", 2,
                 "--no-ten-crop", "--out", out, "--", "--methods", "GA,AVE,FV-VAE", *QUICK,
                 env={"FVVAE_VGG19_WEIGHTS": weights["vgg19_pool5"],
                      "FVVAE_VGG19_FLOW_WEIGHTS": weights["vgg19_flow_pool5"]})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    for stream in ("rgb", "flow"):
        r = results(out / stream)
        assert list(r) == ["GA", "AVE", "FV-VAE"]
        assert r["GA"]["dimension"] == "4096"          # VGG_19's fc7
        assert r["FV-VAE"]["dimension"] == str(512 * 16)
        assert all(math.isfinite(float(v["top1"])) for v in r.values())
    assert "FV-VAE-(rgb+flow)" in (out / "fusion" / "results.md").read_text()
    assert "vgg19_flow_pool5" in (out / "flow" / "REPORT.md").read_text()


def test_ucf101_and_activitynet_with_resnet152_res5c(weights, tmp_path):
    root = ucf101_tree(str(tmp_path / "ucf"), clips_per_class=2, frames=12)
    out = tmp_path / "ucf_run"
    env = {"FVVAE_RESNET152_WEIGHTS": weights["resnet152_res5c"]}
    res = script("ucf101.sh", "--root", root, "--trunk", "resnet152_res5c", "--frames", 2,
                 "--no-ten-crop", "--out", out, "--", "--methods", "GA,FV-VAE", *QUICK, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    r = results(out / "rgb")
    assert r["GA"]["dimension"] == "2048" and r["FV-VAE"]["dimension"] == str(2048 * 16)
    assert table_rows((out / "rgb" / "REPORT.md").read_text())["FV-VAE"][-2].strip() == "86.33%"
    path, videos = activitynet_tree(str(tmp_path / "anet"), frames=12)
    out = tmp_path / "anet_run"
    res = script("activitynet.sh", "--annotations", path, "--videos", videos, "--trunk",
                 "resnet152_res5c", "--frames", 2, "--no-ten-crop", "--out", out,
                 "--", "--methods", "GA,FV-VAE", *QUICK, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    r = results(out / "resnet152_res5c")
    assert list(r) == ["GA", "FV-VAE"] and r["FV-VAE"]["dimension"] == str(2048 * 16)
    assert "78.55%" in (out / "resnet152_res5c" / "REPORT.md").read_text()


def test_cub200_defaults_vgg19_conv5_4_at_448_with_and_without_boxes(weights, tmp_path):
    """scripts/cub200.sh as it comes: VGG_19 conv5_4 at 448 (784 descriptors),
    GA = fc7 from a second pass at 224, every row of Table 6."""
    root = cub_tree(str(tmp_path / "cub"), per_class=3, test_per_class=1)
    out = tmp_path / "run"
    res = script("cub200.sh", "--root", root, "--out", out, "--", "--methods",
                 "GA,FV,VLAD,BP,FV-VAE", *QUICK,
                 env={"FVVAE_VGG19_WEIGHTS": weights["vgg19_pool5"]})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    for tag, paper_fv_vae in (("", "79.30%"), ("_box", "79.50%")):
        folder = out / ("vgg19_conv5_4" + tag)
        r = results(folder)
        assert list(r) == ["GA", "FV", "VLAD", "BP", "FV-VAE"]
        assert r["GA"]["dimension"] == "4096"
        rows = table_rows((folder / "REPORT.md").read_text())
        assert rows["FV-VAE"][-2].strip() == paper_fv_vae and rows["GA"][-3].strip() == "4096"
        assert all(math.isfinite(float(v["top1"])) for v in r.values())
    from fvvae.data.descriptor_store import DescriptorStore
    # (streamed: the test stores are deleted chunk by chunk, the training sets kept)
    x, _ = DescriptorStore(str(out / "vgg19_conv5_4" / "activations" / "sets_train.lmdb"),
                           readonly=True).read(0)
    assert x.shape == (512, 1, 784)
    # each of the 784 descriptors L2-normalised on its own (section 5.2)
    norms = np.linalg.norm(x[:, 0, :], axis=0)
    np.testing.assert_allclose(norms[norms > 0], 1, rtol=1e-4)


def test_cub200_finetuned_vgg19(caffe, weights, tmp_path):
    """--finetune fine-tunes VGG_19 at 224 through fc6/fc7 and runs the 448
    conv5_4 chain on the tuned convolutions (Table 6's w/ ft)."""
    root = cub_tree(str(tmp_path / "cub"), per_class=3, test_per_class=1)
    out = tmp_path / "run"
    res = script("cub200.sh", "--root", root, "--boxes", "yes", "--finetune", 2,
                 "--finetune-batch", 4, "--out", out,
                 "--", "--methods", "GA,FV-VAE", *QUICK,
                 env={"FVVAE_VGG19_WEIGHTS": weights["vgg19_pool5"]})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    r = results(out / "vgg19_conv5_4_box_ft")
    assert list(r) == ["GA", "FV-VAE"]
    assert "83.60%" in (out / "vgg19_conv5_4_box_ft" / "REPORT.md").read_text()
    tuned = sorted((out / "finetune_box" / "snapshots").glob("*.caffemodel"))[-1]
    before, after = caffemodel_blobs(weights["vgg19_pool5"]), caffemodel_blobs(str(tuned))
    assert not np.allclose(before["conv1_1"][0], after["conv1_1"][0])
    assert after["fc_ft"][0].shape == (3, 4096)
