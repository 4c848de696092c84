"""A full disk (ENOSPC) on a small tmpfs that the test mounts (CI runs as
root): the tool stops with one line naming the path and the space needed,
keeps every completed item, and a rerun after space is freed writes what an
uninterrupted run writes."""
import subprocess

import numpy as np
import pytest

from conftest import ROOT

PY = str(ROOT / ".venv" / "bin" / "python")


@pytest.fixture
def tmpfs(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    assert res.returncode == 0, "mounting a tmpfs needs root: %s" % res.stderr

    def resize(mb):
        subprocess.run(["mount", "-o", "remount,size=%dm" % mb, str(mnt)], check=True)
    yield mnt, resize
    subprocess.run(["umount", str(mnt)], check=True)


def photo_list(folder, count=20):
    import cv2
    import skimage.data as sd
    photos = [sd.astronaut(), sd.coffee(), sd.chelsea(), sd.rocket()]
    lines = []
    for k in range(count):
        path = folder / ("i%02d.jpg" % k)
        img = np.ascontiguousarray(photos[k % 4][k * 3:, k * 2:])
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        lines.append("%s %d\n" % (path, k % 3))
    (folder / "list.txt").write_text("".join(lines))
    return folder / "list.txt"


def extract(lst, out):
    return subprocess.run([PY, str(ROOT / "tools/extract_descriptors.py"), "--list", str(lst),
                           "--out", str(out / "sets.lmdb"), "--maps", str(out / "maps.lmdb"),
                           "--batch", "4", "--shuffle", "0"],
                          capture_output=True, text=True, timeout=900)


def test_extraction_stops_on_a_full_disk_and_resumes(tmp_path, tmpfs):
    from fvvae.data.descriptor_store import DescriptorStore
    mnt, resize = tmpfs
    lst = photo_list(tmp_path)
    whole = tmp_path / "whole"
    whole.mkdir()
    assert extract(lst, whole).returncode == 0
    res = extract(lst, mnt)
    assert res.returncode == 1
    line = [l for l in res.stderr.replace("\r", "\n").splitlines() if "disk full" in l]
    assert len(line) == 1 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert str(mnt) in line[0] and "more" in line[0] and "MB" in line[0]
    saved = int(line[0].split("(")[1].split(" of ")[0])
    assert 0 < saved < 20
    s = DescriptorStore(str(mnt / "sets.lmdb"), readonly=True)
    kept = s.done_indices()
    s.close()
    assert len(kept) >= saved                       # every committed batch kept
    resize(64)                                      # space freed
    res = extract(lst, mnt)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "%d already done" % saved in (mnt / "sets.lmdb.log").read_text()
    for name in ("sets.lmdb", "maps.lmdb"):
        a = DescriptorStore(str(whole / name), readonly=True)
        b = DescriptorStore(str(mnt / name), readonly=True)
        assert a.done_indices() == b.done_indices() == set(range(20))
        for i in range(20):
            (xa, la), (xb, lb) = a.read(i), b.read(i)
            assert la == lb
            np.testing.assert_allclose(xa, xb, rtol=1e-5, atol=1e-6)
        # the same records in the same (seeded) order as Caffe reads them
        assert [k for k, _, _ in a.items()] == [k for k, _, _ in b.items()]
        a.close(), b.close()


def test_representation_file_reserves_its_space_first(tmpfs):
    import errno
    from fvvae.data import representations
    mnt, resize = tmpfs
    path = mnt / "fv_test.h5"
    with pytest.raises(OSError) as e:
        representations.create(str(path), 100, 131584)    # 52.6 MB on a 3 MB disk
    assert e.value.errno == errno.ENOSPC
    assert str(path) in str(e.value) and "52.6 MB" in str(e.value)
    assert not path.exists()                        # no half-made file left
    resize(64)
    with representations.create(str(path), 100, 131584) as f:
        representations.write_row(f, 0, "v0", 1, np.ones(131584, np.float32))
    import h5py
    assert path.stat().st_size > 52e6               # all of it on disk at once
    with h5py.File(str(path), "r") as f:
        assert int(f.attrs["done"]) == 1 and np.all(f["features"][0] == 1)
