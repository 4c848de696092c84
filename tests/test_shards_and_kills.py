"""Scale and fault tolerance of the extraction tools: sharded runs merged
equal an unsharded run, and runs killed with SIGKILL at random points then
resumed end with exactly what an uninterrupted run writes."""
import os
import random
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from conftest import ROOT
from test_pipeline_real import FRAMES, tool

PY = sys.executable


@pytest.fixture(scope="module")
def work(tmp_path_factory, caffe):
    frames = sorted(FRAMES.glob("*.jpg"))
    assert len(frames) == 10
    d = tmp_path_factory.mktemp("shards")
    # 40 items: the ten real frames four times over, 8 "videos" of 5 frames
    lines = ["%s %d clip%d" % (frames[i % 10], (i // 5) % 2, i // 5) for i in range(40)]
    (d / "list.txt").write_text("\n".join(lines) + "\n")
    began = time.time()
    tool("extract_descriptors.py", "--trunk", "open_nsfw", "--list", d / "list.txt",
         "--out", d / "full.lmdb", "--batch", 4)
    # the kills below land at fractions of this (the host's own speed)
    (d / "extraction_seconds").write_text("%f" % (time.time() - began))
    # an extract net with (untrained) weights: sharding must not change its FVs
    tool("make_nets.py", "--out", d / "nets", "--set", "channels=1024", "--set",
         "encoder=[1024, 7]", "--set", "classes=2", "--set", "descriptors=50")
    net = caffe.Net(str(d / "nets" / "extract.prototxt"), caffe.TEST)
    net.save(str(d / "fv.caffemodel"))
    return d


def store_items(path):
    from fvvae.data.descriptor_store import DescriptorStore
    s = DescriptorStore(str(path), readonly=True)
    out = {i: (x, label) for i, x, label in s.items()}
    s.close()
    return out


def same_store(a, b):
    a, b = store_items(a), store_items(b)
    assert sorted(a) == sorted(b) == list(range(40))
    for i in a:
        np.testing.assert_allclose(a[i][0], b[i][0], rtol=1e-5, atol=1e-6)
        assert a[i][1] == b[i][1]


def test_sharded_descriptor_extraction_merges_to_the_unsharded_store(work):
    for i in range(3):
        tool("extract_descriptors.py", "--trunk", "open_nsfw", "--list", work / "list.txt",
             "--out", work / "sharded.lmdb", "--batch", 3, "--shard", "%d/3" % i)
    assert len(store_items(str(work / "sharded.lmdb") + ".shard-1-of-3")) == 13
    res = tool("merge_shards.py", "--kind", "lmdb", "--out", work / "sharded.lmdb",
               "--shards", 3, "--list", work / "list.txt")
    assert "40 items from 3 shards" in res.stdout
    same_store(work / "full.lmdb", work / "sharded.lmdb")


def test_merge_names_a_missing_or_incomplete_shard(work):
    tool("extract_descriptors.py", "--trunk", "open_nsfw", "--list", work / "list.txt",
         "--out", work / "part.lmdb", "--shard", "0/2")
    res = tool("merge_shards.py", "--kind", "lmdb", "--out", work / "part.lmdb", "--shards", 2,
               ok=False)
    assert res.returncode == 2 and "part.lmdb.shard-1-of-2" in res.stderr
    res = tool("extract_descriptors.py", "--trunk", "open_nsfw", "--list", work / "list.txt",
               "--out", work / "x.lmdb", "--shard", "3/2", ok=False)
    assert res.returncode == 2 and "need 0 <= i < N" in res.stderr


def fv_rows(path):
    with h5py.File(path, "r") as f:
        return f["features"][:], f["labels"][:], list(f["ids"].asstr()[:])


def test_sharded_fv_extraction_merges_to_the_unsharded_rows(work):
    common = ["--net", work / "nets" / "extract.prototxt", "--weights", work / "fv.caffemodel",
              "--source", work / "full.lmdb", "--list", work / "list.txt"]
    tool("extract_fv.py", *common, "--out", work / "fv_full.h5")
    for i in range(3):
        tool("extract_fv.py", *common, "--out", work / "fv_sharded.h5", "--shard", "%d/3" % i)
    tool("merge_shards.py", "--kind", "h5", "--out", work / "fv_sharded.h5", "--shards", 3)
    a, b = fv_rows(work / "fv_full.h5"), fv_rows(work / "fv_sharded.h5")
    assert a[2] == b[2] == ["clip%d" % i for i in range(8)]
    assert np.array_equal(a[1], b[1])
    np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-7)


def kill_and_resume(cmd, done, seed, span, attempts=3):
    """Starts cmd, SIGKILLs it after a random delay (a fraction of `span`
    seconds, what an uninterrupted run of it takes on this host), `attempts`
    times (each resuming the last), then lets it finish; returns how many
    kills landed before `done()` was true."""
    rng = random.Random(seed)
    landed = 0
    for _ in range(attempts):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(rng.uniform(0.2, 0.9) * span)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            landed += 1
        proc.wait()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stderr[-2000:]
    assert done()
    return landed


def test_killed_descriptor_extraction_resumes_to_the_same_store(work):
    out = work / "killed.lmdb"
    cmd = [PY, str(ROOT / "tools/extract_descriptors.py"), "--trunk", "open_nsfw", "--list",
           str(work / "list.txt"), "--out", str(out), "--batch", 2]
    landed = kill_and_resume([str(c) for c in cmd], lambda: len(store_items(out)) == 40, seed=1,
                             span=float((work / "extraction_seconds").read_text()))
    assert landed >= 1, "no kill landed while the extraction ran"
    same_store(work / "full.lmdb", out)


def test_killed_fv_extraction_resumes_to_the_same_rows(work):
    out = work / "fv_killed.h5"
    cmd = [PY, str(ROOT / "tools/extract_fv.py"), "--net", work / "nets" / "extract.prototxt",
           "--weights", work / "fv.caffemodel", "--source", work / "full.lmdb",
           "--out", out, "--batch", 1]
    kill_and_resume([str(c) for c in cmd], lambda: out.exists(), seed=2,
                    span=float((work / "extraction_seconds").read_text()))
    tool("extract_fv.py", "--net", work / "nets" / "extract.prototxt", "--weights",
         work / "fv.caffemodel", "--source", work / "full.lmdb", "--out",
         work / "fv_items.h5", "--batch", 1)
    a, b = fv_rows(work / "fv_items.h5"), fv_rows(out)
    assert a[2] == b[2] and len(a[2]) == 40            # no row lost or repeated
    np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-7)
