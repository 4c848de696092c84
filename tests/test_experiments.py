"""prototxt/NAME/: the committed nets and AdaDelta solvers of every experiment
of the paper (fvvae/model/experiments.py): equal to what the generator writes now,
each net instantiates in pycaffe, and `caffe train -solver` runs a few
iterations of each on a small store laid out as its script lays it out."""
import os
import subprocess
import sys

import cv2
import numpy as np
import yaml

import pytest

from conftest import CAFFE_TOOL, ROOT

from fvvae.model.experiments import EXPERIMENTS

pytestmark = pytest.mark.quick     # scripts/test.sh --quick


NAMES = [e.name for e in EXPERIMENTS]


def make_nets(*args):
    res = subprocess.run([sys.executable, str(ROOT / "tools/make_nets.py")] + [str(a) for a in args],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return res


def test_every_config_has_its_committed_folder():
    configs = sorted(p.stem for p in (ROOT / "prototxt" / "configs").glob("*.yaml"))
    assert configs == sorted(NAMES)
    for name in NAMES:
        assert (ROOT / "prototxt" / name / "solver.prototxt").exists(), name


@pytest.mark.parametrize("name", NAMES)
def test_committed_files_equal_the_generator(caffe, name):
    from fvvae.model.config import load_config
    from fvvae.model.experiments import experiment_files
    folder = ROOT / "prototxt" / name
    cfg = load_config(str(ROOT / "prototxt" / "configs" / (name + ".yaml")), root="runs")
    files = experiment_files(caffe, cfg, str(folder))
    committed = sorted(p.name for p in folder.iterdir() if p.suffix != ".png")
    assert committed == sorted(files), "run tools/make_nets.py --all --draw"
    for fname, text in files.items():
        assert (folder / fname).read_text() == text, "%s/%s is stale: run tools/make_nets.py " \
            "--all --draw" % (name, fname)
    png = (folder / "train.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000
    # the paper's section 5.2 in every solver, the authors' lr_mult in every train net
    solver = files["solver.prototxt"]
    for line in ('type: "AdaDelta"', "base_lr: 1\n", "max_iter: 5000", 'net: "prototxt/%s/' % name):
        assert line in solver
    train = files["train.prototxt"]
    assert "batch_size: 128" in train and "lr_mult: 10" in train and "lr_mult: 2" in train


def test_draw_net_draws_a_training_net(tmp_path):
    from fvvae.model.experiments import draw
    png = tmp_path / "t.png"
    draw(str(ROOT / "prototxt" / "ucf101_vgg19_pool5" / "train.prototxt"), str(png))
    assert png.read_bytes()[:4] == b"\x89PNG"


def fill_store(path, channels, descriptors, classes, count=12, seed=0):
    from fvvae.data.descriptor_store import DescriptorStore
    rng = np.random.default_rng(seed)
    s = DescriptorStore(str(path))
    x = np.abs(rng.standard_normal((count, channels, 1, descriptors))).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    s.put_batch(range(count), x, rng.integers(0, classes, count))
    s.close()


@pytest.mark.parametrize("name", NAMES)
def test_each_experiment_trains_with_caffe_train_solver(caffe, tmp_path, name):
    """Generated with --root at a small tree (the scripts' layout), a few
    iterations at a small batch (overrides: the same layers), then the
    train_with_trunk and extract nets instantiated."""
    cfg = yaml.safe_load((ROOT / "prototxt" / "configs" / (name + ".yaml")).read_text())
    root = tmp_path / "runs"
    source = cfg["source"].replace("{root}", str(root))
    (tmp_path / "runs").mkdir()
    os.makedirs(os.path.dirname(source), exist_ok=True)
    fill_store(source, cfg["channels"], cfg["descriptors"], cfg["classes"])
    out = tmp_path / "nets"
    make_nets("--experiment", name, "--root", root, "--out", out, "--set", "batch=4",
              "--set", "iterations=3", "--set", "snapshot=3")
    res = subprocess.run([str(CAFFE_TOOL), "train", "-solver", str(out / "solver.prototxt")],
                         capture_output=True, text=True, timeout=900,
                         env=dict(os.environ, GLOG_minloglevel="0", GLOG_logtostderr="1"))
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Optimization Done" in res.stderr
    prefix = cfg["snapshot_prefix"].replace("{root}", str(root))
    assert os.path.exists(prefix + "_iter_3.caffemodel")
    # the extraction net gives FVs of C x (K + 1) with the trained weights
    net = caffe.Net(str(out / "extract.prototxt"), caffe.TEST, weights=prefix + "_iter_3.caffemodel")
    assert net.blobs["fv"].data.shape[1] == cfg["channels"] * (cfg["encoder"][-1] + 1)
    if "images" in cfg:
        images = cfg["images"].replace("{root}", str(root))
        jpg = tmp_path / "frame.jpg"
        cv2.imwrite(str(jpg), (np.random.default_rng(1).random((240, 320, 3)) * 255).astype(np.uint8))
        with open(images, "w") as f:
            f.write("%s 0\n%s 1\n" % (jpg, jpg))
        make_nets("--experiment", name, "--root", root, "--out", out, "--set", "batch=1")
        net = caffe.Net(str(out / "train_with_trunk.prototxt"), caffe.TRAIN)
        top = "spp_norm" if cfg["descriptors"] == 50 else "descriptors"
        crop = cfg.get("crop") or 224
        assert net.blobs["data"].data.shape == (1, 3, crop, crop)
        assert top in net.blobs
        # the frozen trunk: lr_mult 0 on its convolutions, the head learns
        text = (out / "train_with_trunk.prototxt").read_text()
        assert "mirror: true" in text and "shuffle: true" in text
    else:
        assert not (out / "train_with_trunk.prototxt").exists()
