"""The trunk's input loader (fvvae.data.loader): the blobs equal an independent
OpenCV/NumPy reading of each item on real frames and flow stacks, whatever
the batch size and threads; each image is decoded once for the crops and
stacks that share it; a bad image stops at its own batch; and the net's
forward pass lets the loader's threads run (patch 0012)."""
import os
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest

from conftest import ROOT, net_from_text

PY = str(ROOT / ".venv" / "bin" / "python")
MEAN = (104.0, 117.0, 123.0)


def reference(path, resize, crop, mean, position, grey=False):
    """One image as the authors' Caffe input, written out here: decode,
    resize (H, W) bilinearly, the crop x crop window at a corner or the centre,
    mirrored for an `f` position, minus the mean, channels first."""
    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    img = cv2.resize(img, (resize[1], resize[0]), interpolation=cv2.INTER_LINEAR)
    img = img.astype(np.float32)
    h, w = resize
    where = position.rstrip("f") or "c"
    y = {"c": (h - crop) // 2, "tl": 0, "tr": 0, "bl": h - crop, "br": h - crop}[where]
    x = {"c": (w - crop) // 2, "tl": 0, "bl": 0, "tr": w - crop, "br": w - crop}[where]
    img = img[y:y + crop, x:x + crop]
    if position.endswith("f"):
        img = img[:, ::-1]
    if grey:
        return img
    return (img - np.float32(mean)).transpose(2, 0, 1)


def ten_crop_items(tmp_path, paths):
    from fvvae.data.image_list import read_list, ten_crop_lines
    lst = tmp_path / "frames.txt"
    lst.write_text("".join("%s %d v%d\n" % (p, k % 3, k // 4) for k, p in enumerate(paths)))
    (tmp_path / "frames10.txt").write_text("".join(ten_crop_lines(str(lst))))
    return read_list(str(tmp_path / "frames10.txt"))


@pytest.mark.parametrize("batch,workers", [(16, 1), (3, 4), (7, 2)])
def test_frames_ten_crops_equal_the_reference_each_decoded_once(tmp_path, batch, workers):
    from fvvae.testing.dataset_trees import example_frames
    from fvvae.data.loader import image_loader
    paths = example_frames(str(tmp_path / "frames"))
    items = ten_crop_items(tmp_path, paths)
    batches = [list(range(s, min(s + batch, len(items)))) for s in range(0, len(items), batch)]
    # two views as in a VGG_19 conv5_4 pass: the 448 input and GA's 224 one
    views = [((240, 320), 224), ((256, 256), 224)]
    loader = image_loader(items, batches, views, MEAN, workers)
    seen = []
    for got_batch, blobs in loader:
        assert [b.shape for b in blobs] == [(len(got_batch), 3, 224, 224)] * 2
        for row, i in enumerate(got_batch):
            for view, (resize, crop) in enumerate(views):
                want = reference(items[i].path, resize, crop, MEAN, items[i].crop)
                assert np.array_equal(blobs[view][row], want), (i, items[i].crop, view)
        seen += got_batch
    assert seen == list(range(len(items)))
    # 10 frames x 10 crops: each frame decoded once a view, not ten times
    assert loader.decodes == len(paths) * len(views)


def test_flow_stacks_equal_the_reference_overlaps_decoded_once(tmp_path):
    from fvvae.data.image_list import Item
    from fvvae.data.loader import flow_loader
    from fvvae.data.preprocess import CROPS
    from fvvae.testing.dataset_trees import flow_images
    folder = str(tmp_path / "flow")
    first = flow_images(folder, 14)
    starts, length = (1, 3, 5), 10                   # overlapping stacks of a video
    items = [Item(first % s, 0, "v", c) for s in starts for c in CROPS]
    batches = [list(range(b, min(b + 4, len(items)))) for b in range(0, len(items), 4)]
    loader = flow_loader(items, batches, (256, 340), 224, 128.0, length, workers=3)
    for got_batch, (blob,) in loader:
        for row, i in enumerate(got_batch):
            s, pos = starts[i // len(CROPS)], items[i].crop
            want = []
            for k in range(s, s + length):
                for axis in "xy":
                    img = reference(os.path.join(folder, "flow_%s_%05d.jpg" % (axis, k)),
                                    (256, 340), 224, 0, pos, grey=True)
                    want.append(255.0 - img if axis == "x" and pos.endswith("f") else img)
            assert np.array_equal(blob[row], np.stack(want) - np.float32(128.0)), (i, pos)
    # planes 1..14 of x and y: 28 images for the 30 stacks' 600 planes
    assert loader.decodes == 2 * (starts[-1] + length - 1)


def test_a_bad_image_stops_at_its_batch_naming_it(tmp_path):
    from fvvae.testing.dataset_trees import example_frames
    from fvvae.data.image_list import Item
    from fvvae.data.loader import image_loader
    paths = example_frames(str(tmp_path / "frames"))
    bad = tmp_path / "broken.jpg"
    bad.write_text("not a jpeg")
    items = [Item(p, 0, None, "c") for p in paths[:5]] + [Item(str(bad), 0, None, "c")] + [
        Item(p, 0, None, "c") for p in paths[5:]]
    batches = [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9, 10]]
    got = []
    with pytest.raises(ValueError, match="broken.jpg: not a readable image"):
        for batch, _ in image_loader(items, batches, [((240, 320), 224)], MEAN, workers=4):
            got.append(batch)
    assert got == [[0, 1], [2, 3]]                   # every batch before it, in order


CONV_NET = """
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 24 dim: 64 dim: 96 dim: 96 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
        convolution_param { num_output: 128 kernel_size: 3 pad: 1
                            weight_filler { type: "gaussian" std: 0.01 } } }
"""


def python_thread_progress(call):
    """How far a Python thread counts while `call` runs in this one."""
    count, stop = [0], threading.Event()

    def counter():
        while not stop.is_set():
            count[0] += 1
    t = threading.Thread(target=counter)
    t.start()
    time.sleep(0.05)
    before = count[0]
    call()
    during = count[0] - before
    stop.set()
    t.join()
    return during


def test_forward_without_gil_lets_python_threads_run(caffe):
    net = net_from_text(caffe, CONV_NET, caffe.TEST)
    net.blobs["data"].data[...] = np.random.default_rng(0).standard_normal(
        net.blobs["data"].data.shape)
    last = len(net.layers) - 1
    net._forward(0, last)
    want = net.blobs["conv"].data.copy()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)        # the thread's share at the call's edges: 1 ms
    try:
        held = python_thread_progress(lambda: net._forward(0, last))
        released = python_thread_progress(lambda: net._forward_nogil(0, last))
    finally:
        sys.setswitchinterval(interval)
    assert np.array_equal(net.blobs["conv"].data, want)
    # held: the thread runs only at the call's edges; released: all along the
    # half second (measured 12-25 thousand against 2.9-3.2 million counts)
    assert released > 20 * held, (held, released)


DOUBLE_LAYER = """
import caffe


class DoubleLayer(caffe.Layer):
    def setup(self, bottom, top):
        pass

    def reshape(self, bottom, top):
        top[0].reshape(*bottom[0].data.shape)

    def forward(self, bottom, top):
        top[0].data[...] = 2 * bottom[0].data

    def backward(self, top, propagate_down, bottom):
        pass
"""


def test_forward_without_gil_keeps_it_for_a_python_layer(tmp_path):
    """A Python layer calls back into Python: _forward_nogil runs it with the
    GIL held (released, the process would crash), same result as _forward."""
    (tmp_path / "double_layer.py").write_text(DOUBLE_LAYER)
    code = r'''
from fvvae.testing.nets import net_from_text
import caffe
caffe.set_mode_cpu()
net = net_from_text(caffe, """
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "x2" type: "Python" bottom: "data" top: "x2"
        python_param { module: "double_layer" layer: "DoubleLayer" } }
""", caffe.TEST)
net.blobs["data"].data[...] = [[4.0, -9.0, 0.25], [1.0, -1.0, 16.0]]
net._forward_nogil(0, len(net.layers) - 1)
print(net.blobs["x2"].data.tolist())
'''
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    res = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().splitlines()[-1] == str([[8.0, -18.0, 0.5], [2.0, -2.0, 32.0]])


def test_extract_descriptors_threads_give_the_same_store(tmp_path):
    """tools/extract_descriptors.py over real frames' ten crops with one and
    with three loader threads: the same descriptor sets, bit for bit."""
    from fvvae.testing.dataset_trees import example_frames
    from fvvae.data.descriptor_store import DescriptorStore
    paths = example_frames(str(tmp_path / "frames"))[:4]
    ten_crop_items(tmp_path, paths)
    out = {}
    for workers in (1, 3):
        dst = str(tmp_path / ("sets_%d.lmdb" % workers))
        res = subprocess.run([PY, str(ROOT / "tools/extract_descriptors.py"), "--trunk",
                              "open_nsfw", "--list", str(tmp_path / "frames10.txt"),
                              "--out", dst, "--batch", "6", "--workers", str(workers)],
                             capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr[-2000:]
        store = DescriptorStore(dst, readonly=True)
        out[workers] = [store.read(i)[0] for i in range(40)]
    assert all(np.array_equal(a, b) for a, b in zip(out[1], out[3]))
    assert not np.array_equal(out[1][0], out[1][5])      # a crop and its mirror differ
