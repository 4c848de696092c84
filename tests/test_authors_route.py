"""The authors' route from frames to FVs (tools/authors_fv.py, issue 24)
against their MATLAB extraction code transcribed in NumPy
(extract_fv_vae_frame_sequence.m, +utils/matlab_image_convert.m with
MATLAB's imresize, normalize_raw_fv.m), on their ten example frames with
their released weights. The trunk is a random-weight VGG_19 of the public
caffemodel's shapes (the real one is a 548 MB download a user brings); both
sides run it on their own input blobs, so everything before and after the
trunk is compared. The importer's nets with extract_fv.py, and the flatten
order recorded in the HDF5 files."""
import subprocess
import sys

import cv2
import h5py
import numpy as np
import pytest

from conftest import ROOT
from test_official_weights import authors_raw_fv, release_or_skip


# ---- the authors' MATLAB code, transcribed ---------------------------------
def matlab_resize_matrix(n_in, n_out):
    """imresize's 'bilinear' weights as an n_out x n_in matrix, built one
    output pixel and one tap at a time from the documented algorithm."""
    s = n_out / n_in
    width = 2.0 / s if s < 1 else 2.0
    m = np.zeros((n_out, n_in))
    for x in range(1, n_out + 1):
        u = x / s + 0.5 * (1 - 1 / s)
        left = int(np.floor(u - width / 2))
        for j in range(left, left + int(np.ceil(width)) + 2):
            d = u - j
            w = s * max(0.0, 1 - abs(s * d)) if s < 1 else max(0.0, 1 - abs(d))
            k = (j - 1) % (2 * n_in)             # aux = [1:n, n:-1:1]
            m[x - 1, (k if k < n_in else 2 * n_in - 1 - k)] += w
        m[x - 1] /= m[x - 1].sum()
    return m


def matlab_image_convert(path, size=(240, 320), mean=(104.0, 117.0, 123.0)):
    """+utils/matlab_image_convert.m then the centre crop: H x W x 3 RGB uint8
    (imread) -> BGR -> imresize uint8 (each dimension rounded, the smaller
    scale first) -> single -> minus the BGR mean; Caffe's 3 x 224 x 224."""
    rgb = cv2.imread(path)[:, :, ::-1]
    img = rgb[:, :, [2, 1, 0]].astype(np.float64)       # caffe_image(:, :, [3 2 1])
    h, w = img.shape[:2]
    rows, cols = matlab_resize_matrix(h, size[0]), matlab_resize_matrix(w, size[1])

    def rnd(v):     # to uint8: half away from zero, a half in exact arithmetic counted as one
        return np.clip(np.floor(np.round(v, 6) + 0.5), 0, 255)
    if size[1] / w <= size[0] / h:
        img = rnd(np.einsum("oj,ijc->ioc", cols, img))
        img = rnd(np.einsum("oi,ijc->ojc", rows, img))
    else:
        img = rnd(np.einsum("oi,ijc->ojc", rows, img))
        img = rnd(np.einsum("oj,ijc->ioc", cols, img))
    img = img.astype(np.float32) - np.array(mean, np.float32)
    bh, bw = (size[0] - 224) // 2, (size[1] - 224) // 2   # floor((240-224)/2) = 8, 48
    return img[bh:bh + 224, bw:bw + 224].transpose(2, 0, 1)


def normalize_raw_fv(raw, norms=None):
    """normalize_raw_fv.m (rows are samples)."""
    eps = 1e-10
    norms = np.sqrt((raw * raw).sum(axis=0)) if norms is None else norms
    fv = raw / np.maximum(norms, eps)
    fv = np.sign(fv) * np.sqrt(np.abs(fv))
    return fv / np.maximum(np.sqrt((fv * fv).sum(axis=1)), eps)[:, None]


# ---- the route -------------------------------------------------------------
@pytest.fixture(scope="module")
def vgg19(caffe):
    from fvvae.trunks.random_weights import cached
    return cached(caffe, "vgg19_pool5")


@pytest.fixture(scope="module")
def frames():
    from fvvae.model.release_files import official_example_images
    release_or_skip()
    images = official_example_images()
    assert len(images) == 10
    return images


def write_list(path, frames, groups):
    path.write_text("".join("%s 0 %s\n" % (f, g) for f, g in zip(frames, groups)))
    return path


def test_route_equals_the_authors_code_on_their_frames(caffe, vgg19, frames, tmp_path):
    """Two videos (frames 1-5, 6-10) for the FVs; the column norms (FIM)
    from another list: each frame a video of its own."""
    mat = release_or_skip()[0]
    videos = write_list(tmp_path / "frames.txt", frames, ["v1"] * 5 + ["v2"] * 5)
    fim = write_list(tmp_path / "fim.txt", frames, ["f%d" % i for i in range(10)])
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, str(ROOT / "tools/authors_fv.py"), "--mat", str(mat),
                          "--trunk-weights", vgg19, "--list", str(videos), "--fim-list",
                          str(fim), "--out", str(out), "--batch", "3"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]

    # the authors' code: matcaffe's VGG_19 forward on their input blob, then
    # their formula on pool5 (H x W x C as MATLAB holds it)
    from fvvae.trunks.zoo import trunk_definition
    from conftest import net_from_text
    net = net_from_text(caffe, trunk_definition(caffe, "vgg19_pool5"), weights=vgg19)
    per_frame = []
    for f in frames:
        net.blobs["data"].reshape(1, 3, 224, 224)
        net.blobs["data"].data[...] = matlab_image_convert(f)
        pool5 = net.forward(end="pool5")["pool5"][0].astype(np.float64)
        fv_mat = authors_raw_fv(pool5.transpose(1, 2, 0), mat)       # 512 x 257
        per_frame.append(fv_mat.ravel(order="F"))                    # fv_mat(:)
    per_frame = np.array(per_frame)
    raw = np.array([per_frame[:5].mean(axis=0), per_frame[5:].mean(axis=0)])
    expected = normalize_raw_fv(raw, np.sqrt((per_frame ** 2).sum(axis=0)))

    with h5py.File(out / "fv_vae.h5", "r") as h:
        assert h.attrs["flatten_order"] == "k*C+c" and h.attrs["fv_channels"] == 512
        got = h["features"][:]
        assert list(h["ids"].asstr()[:]) == ["v1", "v2"]
    # rows of unit L2 norm (elements up to about 3e-3): within 1e-5 element-wise
    # and as vectors. (Relative to the largest element it is ~4e-4: the column
    # step divides each column by its own norm, so a small column keeps the
    # float32 head's relative error of its raw values.)
    assert np.abs(got - expected).max() < 1e-5
    assert np.linalg.norm(got - expected, axis=1).max() < 1e-5
    with h5py.File(out / "raw_fv.h5", "r") as h:
        assert h.attrs["flatten_order"] == "c*(K+1)+k"
        ours = h["features"][:].astype(np.float64)
    from fvvae.model.fisher import to_authors_order
    err = np.abs(to_authors_order(ours, 512) - raw).max() / np.abs(raw).max()
    assert err < 1e-5, err
    # the project's default preprocessing is measurably not the authors'
    net.blobs["data"].data[...] = matlab_image_convert(frames[0])
    from fvvae.data.preprocess import load_image
    caffe_blob = load_image(frames[0], (240, 320), 224, (103.939, 116.779, 123.68))
    assert np.abs(caffe_blob - net.blobs["data"].data[0]).mean() > 0.5


def test_route_refuses_bad_inputs_before_the_trunk(vgg19, frames, tmp_path):
    mat = release_or_skip()[0]
    videos = write_list(tmp_path / "frames.txt", frames, ["v"] * 10)
    damaged = tmp_path / "damaged.mat"
    data = mat.read_bytes()
    damaged.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))

    def run(*args):
        return subprocess.run([sys.executable, str(ROOT / "tools/authors_fv.py"),
                               "--out", str(tmp_path / "o")] + [str(a) for a in args],
                              capture_output=True, text=True)
    res = run("--mat", damaged, "--trunk-weights", vgg19, "--list", videos)
    assert res.returncode == 2 and "damaged.mat: sha256" in res.stderr
    assert "Traceback" not in res.stderr
    bad_list = tmp_path / "bad.txt"
    bad_list.write_text("%s 0 v\nmissing.jpg 0 v\n" % frames[0])
    res = run("--mat", mat, "--trunk-weights", vgg19, "--list", bad_list)
    assert res.returncode == 2 and "bad.txt:2: missing.jpg does not exist" in res.stderr
    res = run("--mat", mat, "--trunk-weights", tmp_path / "none.caffemodel", "--list", videos)
    assert res.returncode == 2 and "none.caffemodel" in res.stderr
    assert not (tmp_path / "o" / "raw_fv.h5").exists()


def test_importer_nets_with_extract_fv(caffe, tmp_path):
    """extract.prototxt reads descriptor sets and agrees with the pool5 head;
    deploy.prototxt handed to extract_fv.py is refused in one line, with no
    file left behind."""
    mat = release_or_skip()[0]
    head = tmp_path / "head"
    subprocess.run([sys.executable, str(ROOT / "tools/import_official_weights.py"),
                    "--mat", str(mat), "--out", str(head)], check=True, capture_output=True)
    from fvvae.data.descriptor_store import DescriptorStore
    rng = np.random.default_rng(0)
    pool5 = (np.maximum(rng.standard_normal((2, 512, 7, 7)), 0) * 5).astype(np.float32)
    deploy = caffe.Net(str(head / "deploy.prototxt"), str(head / "weights.caffemodel"),
                       caffe.TEST)
    deploy.blobs["pool5"].reshape(*pool5.shape)
    deploy.blobs["pool5"].data[...] = pool5
    want = deploy.forward()["fv"].copy()
    sets = deploy.blobs["x"].data.copy() if "x" in deploy.blobs else None
    assert sets is not None and sets.shape == (2, 512, 1, 50)
    store = DescriptorStore(str(tmp_path / "sets.lmdb"))
    store.put_batch([0, 1], sets, [0, 1])
    store.close()
    out = tmp_path / "fv.h5"
    res = subprocess.run([sys.executable, str(ROOT / "tools/extract_fv.py"), "--net",
                          str(head / "extract.prototxt"), "--weights",
                          str(head / "weights.caffemodel"), "--source", str(tmp_path / "sets.lmdb"),
                          "--out", str(out), "--no-normalize"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    with h5py.File(out, "r") as h:
        np.testing.assert_allclose(h["features"][:], want, rtol=1e-4,
                                   atol=1e-5 * np.abs(want).max())
        assert h.attrs["flatten_order"] == "c*(K+1)+k" and h.attrs["fv_latent_plus_one"] == 257
    bad = tmp_path / "bad.h5"
    res = subprocess.run([sys.executable, str(ROOT / "tools/extract_fv.py"), "--net",
                          str(head / "deploy.prototxt"), "--weights",
                          str(head / "weights.caffemodel"), "--source", str(tmp_path / "sets.lmdb"),
                          "--out", str(bad)], capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "deploy.prototxt: not an extract net on descriptor sets" in res.stderr
    assert "extract.prototxt" in res.stderr and not bad.exists()


def test_to_authors_order_is_matlab_column_major():
    from fvvae.model.fisher import to_authors_order
    m = np.arange(6 * 4).reshape(6, 4)          # C = 6, K + 1 = 4; ours: row-major ravel
    assert to_authors_order(m.ravel()[None], 6)[0].tolist() == m.ravel(order="F").tolist()


def test_extract_descriptors_preprocess_option(caffe, frames, tmp_path):
    """--preprocess authors reaches the trunk: the stored descriptor sets are
    those of the transcribed input blob, and differ from the default's; a
    flow trunk refuses it in one line."""
    from fvvae.data.descriptor_store import DescriptorStore
    from fvvae.trunks.descriptors import descriptor_net_text
    from fvvae.trunks.zoo import TRUNKS, trunk_definition, trunk_weights
    from conftest import net_from_text
    lst = write_list(tmp_path / "l.txt", frames[:2], ["v", "v"])
    got = {}
    for prep in ("authors", "caffe"):
        out = tmp_path / ("%s.lmdb" % prep)
        res = subprocess.run([sys.executable, str(ROOT / "tools/extract_descriptors.py"),
                              "--trunk", "open_nsfw", "--list", str(lst), "--out", str(out),
                              "--resize", "240", "320", "--preprocess", prep],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[-2000:]
        store = DescriptorStore(str(out), readonly=True)
        got[prep] = np.stack([store.read(i)[0] for i in range(2)])
        store.close()
    trunk = TRUNKS["open_nsfw"]
    net = net_from_text(caffe, descriptor_net_text(caffe, trunk_definition(caffe, "open_nsfw"),
                                                   trunk, "frame"),
                        weights=trunk_weights("open_nsfw"))
    net.blobs["data"].reshape(2, 3, 224, 224)
    net.blobs["data"].data[...] = np.stack([matlab_image_convert(f) for f in frames[:2]])
    want = net.forward()["descriptors"]
    np.testing.assert_allclose(got["authors"], want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    assert np.abs(got["caffe"] - want).max() > 1e-2 * np.abs(want).max()
    res = subprocess.run([sys.executable, str(ROOT / "tools/extract_descriptors.py"),
                          "--trunk", "open_nsfw_flow", "--list", str(lst), "--out",
                          str(tmp_path / "flow.lmdb"), "--preprocess", "authors"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "for colour frames" in res.stderr
    assert "Traceback" not in res.stderr


def test_raw_fvs_start_over_when_made_from_other_inputs(tmp_path):
    """raw_fv.h5 resumes an interrupted run of the same inputs and starts
    over (calls the nets again) when the .mat, trunk, preprocessing or list
    changed: a finished file of other inputs is never reused."""
    from types import SimpleNamespace

    from fvvae.data import representations
    from fvvae.model.authors_route import AuthorsRoute
    from fvvae.data.image_list import Item

    class NetsCalled(Exception):
        pass

    def route(prep):
        r = AuthorsRoute.__new__(AuthorsRoute)
        r.weights = SimpleNamespace(channels=2, latent=1)
        r.mat, r.trunk_weights = str(mat), str(trunk)
        r.prep = SimpleNamespace(name=prep)
        r.nets = lambda: (_ for _ in ()).throw(NetsCalled())
        return r

    mat, trunk = tmp_path / "w.mat", tmp_path / "t.caffemodel"
    mat.write_bytes(b"m")
    trunk.write_bytes(b"t")
    items = [Item("a.jpg", 0, "v1"), Item("b.jpg", 1, "v2")]
    path = str(tmp_path / "raw_fv.h5")

    def finish(r, items):      # a finished file, as a completed run leaves it
        h5 = representations.create(path, 2, 4)
        with h5:
            h5.attrs["made_from"] = r.made_from(items)
            for row in range(2):
                representations.write_row(h5, row, "v%d" % row, row, np.ones(4))

    finish(route("authors"), items)
    assert route("authors").raw_fvs(items, path) == path          # reused: no nets
    with h5py.File(path, "r") as f:
        assert f.attrs["done"] == 2
    with pytest.raises(NetsCalled):
        route("caffe").raw_fvs(items, path)                        # preprocessing changed
    finish(route("authors"), items)
    with pytest.raises(NetsCalled):                                # the list changed
        route("authors").raw_fvs([Item("a.jpg", 1, "v1"), items[1]], path)
    finish(route("authors"), items)
    mat.write_bytes(b"another")
    with pytest.raises(NetsCalled):                                # the .mat changed
        route("authors").raw_fvs(items, path)
