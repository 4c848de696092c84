"""A per-dataset script (scripts/ucf101.sh on a fabricated UCF101 tree of
real opencv-doc clips) killed with SIGKILL, process group and all, at random
points and once in the middle of FV-VAE training, then run again: its final
outputs equal an uninterrupted run's (every trained weight bit for bit, the
FVs and the result table), with no item lost or repeated.

The kill points do not depend on the host's speed: the random kills fall
before training starts (at a random fraction of the time the uninterrupted
run took to get there), and the kill in the middle of training waits for the
training guard's test-only pause (FVVAE_TEST_PAUSE_AFTER_SNAPSHOT: Caffe
stopped after its first solver state before the last iteration)."""
import glob
import os
import random
import signal
import subprocess
import time

import h5py
import numpy as np

from conftest import ROOT, caffemodel_blobs, read_results
from fvvae.testing.dataset_trees import ucf101_tree

ARGS = ["--split", "1", "--stream", "rgb", "--trunk", "open_nsfw", "--frames", "3",
        "--no-ten-crop", "--", "--methods", "GA,FV,FV-VAE", "--iterations", "40",
        "--batch", "8", "--latent", "15", "--fv-size", "4", "--sample", "2000",
        "--chunk", "2"]    # streamed two videos at a time (fvvae.run.streaming): kills land in chunks


def command(root, out):
    return ["bash", str(ROOT / "scripts" / "ucf101.sh"), "--root", root, "--out", str(out)] + ARGS


def snapshot_iterations(out):
    return sorted(int(p.rsplit("_iter_", 1)[1].split(".")[0])
                  for p in glob.glob(str(out / "**" / "*_iter_*.solverstate"), recursive=True))


def start(cmd, **env):
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=dict(os.environ, **env))


def wait_for(proc, found, limit=900):
    """Polls until found() or the process ended; returns found()."""
    deadline = time.time() + limit
    while time.time() < deadline and proc.poll() is None and not found():
        time.sleep(0.02)
    return found()


def kill(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True
    proc.wait()
    return False


def results(folder):
    # the accuracies; the timing columns differ between any two runs
    return {m: {k: v for k, v in r.items() if "second" not in k and "time" not in k}
            for m, r in read_results(folder).items()}


def fv_rows(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][()] for k in f}


def test_killed_script_resumes_to_the_uninterrupted_outputs(tmp_path):
    root = ucf101_tree(str(tmp_path / "ucf"))
    full, killed = tmp_path / "full", tmp_path / "killed"
    # the uninterrupted run, timed to the start of training (its snapshot folder)
    began = time.time()
    proc = start(command(root, full))
    assert wait_for(proc, lambda: glob.glob(str(full / "**" / "snapshots"), recursive=True))
    to_training = time.time() - began
    assert proc.wait(timeout=1800) == 0

    rng = random.Random(7)
    landed = 0
    for _ in range(2):                    # at random points before training
        proc = start(command(root, killed))
        time.sleep(rng.uniform(0.2, 0.8) * to_training)
        landed += kill(proc)
    # and in the middle of training, after its first snapshot
    proc = start(command(root, killed), FVVAE_TEST_PAUSE_AFTER_SNAPSHOT="1")
    paused = wait_for(proc, lambda: glob.glob(str(killed / "**" / "paused-for-test"),
                                              recursive=True))
    mid_training = snapshot_iterations(killed)
    assert kill(proc) and paused, "the script ended before training could be interrupted"
    assert mid_training and mid_training[-1] < 40, mid_training
    res = subprocess.run(command(root, killed), capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "resuming training from" in (res.stdout + res.stderr + "".join(
        open(p).read() for p in glob.glob(str(killed / "**" / "*.log"), recursive=True)))
    assert landed >= 1

    models = sorted(glob.glob(str(full / "**" / "*_iter_40.caffemodel"), recursive=True))
    assert models
    for a in models:        # (the files differ in the LMDB paths they name)
        wa, wb = caffemodel_blobs(a), caffemodel_blobs(a.replace(str(full), str(killed)))
        assert wa.keys() == wb.keys() and sum(map(len, wa.values())) >= 8
        for k in wa:
            assert all(np.array_equal(u, v) for u, v in zip(wa[k], wb[k])), \
                "trained weights differ: %s %s" % (a, k)
    fvs = sorted(glob.glob(str(full / "**" / "fv_*.h5"), recursive=True))
    assert fvs
    for a in fvs:
        ra, rb = fv_rows(a), fv_rows(a.replace(str(full), str(killed)))
        assert ra.keys() == rb.keys()
        for k in ra:
            if ra[k].dtype.kind == "f":
                np.testing.assert_allclose(ra[k], rb[k], rtol=1e-5, atol=1e-6, err_msg=k)
            else:
                assert np.array_equal(ra[k], rb[k]), k     # names: none lost or repeated
    assert results(full / "rgb") == results(killed / "rgb")
