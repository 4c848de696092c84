"""Streaming per video (fvvae.run.streaming) and compact representation files
(fvvae.data.representations): the chunks hold whole videos, a streamed run writes the
rows a run that keeps every store writes (up to float16), deletes each
chunk's stores after it and keeps only the training sets, and the folded
bilinear rows keep the full vectors' dot products."""
import os
import re
import subprocess
import sys
import threading
import time

import h5py
import numpy as np
import pytest

from conftest import ROOT
from fvvae.testing.dataset_trees import example_frames

PY = str(ROOT / ".venv" / "bin" / "python")
QUICK = ["--iterations", "20", "--batch", "8", "--latent", "15", "--fv-size", "4",
         "--vlad-size", "8", "--bp-pca", "16", "--sample", "2000", "--classes", "2"]


class Item:
    def __init__(self, group):
        self.group = group


def test_chunks_hold_whole_videos_with_their_first_rows():
    from fvvae.run.streaming import chunks
    items = [Item(g) for g in "aaabbcddddde"]          # five videos, 12 frames
    spans, rows = chunks(items, 2)
    assert rows == 5
    assert spans == [(0, 5, 0), (5, 11, 2), (11, 12, 4)]
    for start, end, row in spans:                       # no video cut between chunks
        assert start == 0 or items[start - 1].group != items[start].group
    assert chunks(items, 10) == ([(0, 12, 0)], 5)
    assert chunks(items, 5, grouped=False) == ([(0, 5, 0), (5, 10, 5), (10, 12, 10)], 12)
    with pytest.raises(ValueError, match="'a'.*not contiguous.*line 4"):
        chunks([Item(g) for g in "aaba"], 1)


def test_folded_bilinear_rows_keep_dot_products_and_norms():
    """BP's C x C matrix, its upper triangle with off-diagonals x sqrt(2): the
    same dot products as the full C^2 vectors, and so after compact_row (signed
    sqrt + L2 on the full row, then folded) the linear kernel of the SVM."""
    from fvvae.data.representations import compact_row, fold_symmetric
    rng = np.random.default_rng(0)
    mats = []
    for _ in range(4):
        d = rng.standard_normal((30, 6))
        mats.append(d.T @ d)                               # symmetric, like sum x x^T
    full = np.stack([m.ravel() for m in mats])
    folded = fold_symmetric(full)
    assert folded.shape == (4, 21)
    np.testing.assert_allclose(folded @ folded.T, full @ full.T, rtol=1e-12)
    # signed sqrt + L2 of the full row (written out here, not taken from the code)
    p = np.sign(full) * np.sqrt(np.abs(full))
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    rows = np.stack([compact_row(v, symmetric=True) for v in full])
    assert rows.dtype == np.float16
    np.testing.assert_allclose(rows.astype(np.float64) @ rows.T.astype(np.float64), p @ p.T,
                               atol=2e-3)
    with pytest.raises(ValueError, match="not a square"):
        fold_symmetric(np.ones(7))


def test_a_chunk_after_missing_rows_is_refused(tmp_path):
    from fvvae.data import representations
    path = str(tmp_path / "x.h5")
    with representations.create(path, 6, 4) as f:
        representations.write_row(f, 0, "v0", 0, np.ones(4, np.float32))
        assert representations.rows_to_skip(f, path, 0, 3) == 1
        assert representations.rows_to_skip(f, path, 1, 3) == 0
    f = representations.create(path, 6, 4)
    with pytest.raises(ValueError, match=r"x\.h5: rows 3\.\.5 come next, but only its first 1"):
        representations.rows_to_skip(f, path, 3, 3)
    with pytest.raises(ValueError, match="holds .* features, this run makes .*compact"):
        representations.create(path, 6, 4, compact=True)


def lists(folder):
    """Class-sorted training videos of 2 frames (3 a class) and 2 test
    videos of 2 frames x 2 crops (centre, mirrored), from real frames of
    two clips."""
    frames = example_frames(str(folder / "frames"), per_clip=8)
    train, test = [], []
    for cls in range(2):
        clip = frames[8 * cls:8 * cls + 8]
        for v in range(3):
            train += ["%s %d c%dv%d\n" % (f, cls, cls, v) for f in clip[2 * v:2 * v + 2]]
        test += ["%s %d t%d %s\n" % (f, cls, cls, c) for f in clip[6:8]
                 for c in ("c", "cf")]
    (folder / "train.txt").write_text("".join(train))
    (folder / "test.txt").write_text("".join(test))
    return folder / "train.txt", folder / "test.txt"


def disk_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def protocol(train, test, out, *extra):
    cmd = [PY, str(ROOT / "tools" / "run_protocol.py"), "--train-list", train, "--test-list",
           test, "--trunk", "open_nsfw", "--out", out] + QUICK + list(extra)
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream")
    train, test = lists(folder)
    kept = protocol(train, test, folder / "kept", "--chunk", "0", "--no-compact")
    assert kept.returncode == 0, kept.stderr[-3000:]
    peak, stop = [0], threading.Event()

    def watch():                        # the chunk stores' disk use while the run goes
        while not stop.is_set():
            peak[0] = max(peak[0], disk_bytes(folder / "streamed" / "stream"))
            time.sleep(0.05)
    t = threading.Thread(target=watch)
    t.start()
    try:
        streamed = protocol(train, test, folder / "streamed", "--chunk", "1")
    finally:
        stop.set()
        t.join()
    assert streamed.returncode == 0, streamed.stderr[-3000:]
    return folder, peak[0]


def rep_files(run):
    out = {}
    for root, _, files in os.walk(run):
        for name in files:
            if name.endswith(("_train.h5", "_test.h5")) and "eval" not in root:
                out[os.path.relpath(os.path.join(root, name), run)] = os.path.join(root, name)
    return out


def test_streamed_rows_equal_the_rows_of_a_run_that_keeps_every_store(runs):
    from fvvae.data.representations import fold_symmetric
    folder, _ = runs
    kept, streamed = rep_files(folder / "kept"), rep_files(folder / "streamed")
    assert kept.keys() == streamed.keys() and len(kept) == 16   # 8 methods x 2 splits
    for rel, path in kept.items():
        with h5py.File(path, "r") as a, h5py.File(streamed[rel], "r") as b:
            x = a["features"][:].astype(np.float64)
            # the classifier's normalisation, written out: signed sqrt, L2
            x = np.sign(x) * np.sqrt(np.abs(x))
            x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
            if os.path.basename(rel).startswith("bp_"):
                x = fold_symmetric(x)
            assert b["features"].dtype == np.float16 and b.attrs["compact"], rel
            assert b.attrs["dimension"] == a["features"].shape[1], rel
            np.testing.assert_allclose(b["features"][:].astype(np.float64), x, atol=3e-4,
                                       err_msg=rel)
            assert list(a["ids"].asstr()[:]) == list(b["ids"].asstr()[:]), rel
            assert (a["labels"][:] == b["labels"][:]).all(), rel
    # per video: 6 training videos and 2 test videos (2 frames x 2 crops each)
    with h5py.File(streamed["encodings/ga/ga_test.h5"], "r") as f:
        assert list(f["ids"].asstr()[:]) == ["t0", "t1"]


def test_streamed_run_keeps_only_the_training_sets_and_one_chunk_at_a_time(runs):
    folder, peak = runs
    s = folder / "streamed"
    assert sorted(os.listdir(s / "activations")) == [
        "sets_train.lmdb", "sets_train.lmdb.log", "sets_train.lmdb.prototxt"]
    assert not [n for n in os.listdir(s / "stream") if os.path.isdir(s / "stream" / n)]
    log = (s / "run.log").read_text()
    spans = re.findall(r"extract_descriptors\.py .*?--list (\S+) .*?--items (\d+):(\d+)", log)
    test_spans = [(int(a), int(b)) for lst, a, b in spans if lst.endswith("test.txt")]
    train_spans = [(int(a), int(b)) for lst, a, b in spans if lst.endswith("train.txt")]
    assert test_spans == [(0, 4), (4, 8)]               # one video (4 crops) a chunk
    # a training chunk holds as many items as a test chunk: 2 videos of 2 frames
    assert train_spans == [(0, 4), (4, 8), (8, 12)]
    # the kept run's test stores, per crop; the streamed run held one chunk's
    kept = folder / "kept" / "activations"
    per_crop = sum(disk_bytes(kept / n) for n in os.listdir(kept) if "_test" in n) / 8.0
    assert 0 < peak <= 4 * per_crop * 1.5 + (1 << 20), (peak, per_crop)
    assert disk_bytes(s) < disk_bytes(folder / "kept")


def test_streamed_damaged_output_redoes_only_its_rows(runs):
    folder, _ = runs
    s = folder / "streamed"
    target = s / "encodings" / "vlad8" / "vlad_test.h5"
    with h5py.File(target, "r") as f:
        before = f["features"][:]
    with h5py.File(target, "a") as f:
        f["features"][0] = 0
    train, test = folder / "train.txt", folder / "test.txt"
    res = protocol(train, test, s, "--chunk", "1")
    assert res.returncode == 0, res.stderr[-3000:]
    log = res.stdout + res.stderr
    assert "stage train_stream: reused" in log and "vlad_test.h5 differs" in log
    # (a chunk's jobs run in one process: tools/run_tools.py, each logged as "$ TOOL ARGS")
    ran = re.findall(r"\$ (?:\S*/)?(\w+\.py) --method (\w+)", log)
    assert ("encode.py", "vlad") in ran and {m for _, m in ran} == {"vlad"}
    assert "extract_fv.py" not in log
    with h5py.File(target, "r") as f:
        np.testing.assert_array_equal(f["features"][:], before)


def test_sharded_streamed_run_equals_the_single_machine_run(runs):
    """The streamed stages split over machines as a cluster's job arrays run
    them (here by hand; tests/test_slurm.py submits them): the training
    side's two shards at once, the models, the test side's two shards, the
    report. A shard refuses to start before the stages it needs, a merge
    names the shards not done; the rows and the kept training sets equal the
    single machine's, and the shards' folders go after the merge."""
    from fvvae.data.descriptor_store import DescriptorStore
    folder, _ = runs
    train, test = folder / "train.txt", folder / "test.txt"
    out = folder / "sharded"

    def run(*extra):
        return protocol(train, test, out, "--chunk", "1", *extra)
    early = run("--shard", "0/2", "--side", "test")
    assert early.returncode == 1
    assert "stage train_stream is not finished with these settings (never run)" in early.stderr
    procs = [subprocess.Popen([str(c) for c in [
        PY, ROOT / "tools" / "run_protocol.py", "--train-list", train, "--test-list", test,
        "--trunk", "open_nsfw", "--out", out, "--chunk", "1", "--shard", "%d/2" % i,
        "--side", "train"] + QUICK], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True) for i in range(2)]
    for p in procs:
        assert p.wait(timeout=900) == 0, p.stderr.read()[-3000:]
    logs = [(out / "shards" / ("train-%d-of-2.log" % i)).read_text() for i in range(2)]
    # three training chunks of 2 videos: the first shard takes one, the second two
    assert "chunks 0..0 of 3 (rows 0..1)" in logs[0] and "chunks 1..2 of 3 (rows 2..5)" in logs[1]
    assert not (out / "stages").exists()        # a shard runs no stage of its own
    wrong = run("--shards", "3", "--until", "models")
    assert wrong.returncode == 1 and "train side: shards 0, 1, 2 of 3 not done" in wrong.stderr
    models = run("--shards", "2", "--until", "models")
    assert models.returncode == 0, models.stderr[-3000:]
    assert "the training side and the models done" in models.stderr
    assert not (out / "encodings" / "ga" / "ga_test.h5").exists()
    assert run("--shard", "0/2", "--side", "test").returncode == 0
    half = run("--shards", "2")
    assert half.returncode == 1 and "test side: shard 1 of 2 not done" in half.stderr
    assert run("--shard", "1/2", "--side", "test").returncode == 0
    final = run("--shards", "2")
    assert final.returncode == 0, final.stderr[-3000:]
    assert "stage train_stream: reused" in final.stderr
    assert not [n for n in os.listdir(out / "shards") if os.path.isdir(out / "shards" / n)]
    a, b = rep_files(folder / "streamed"), rep_files(out)
    assert a.keys() == b.keys() and len(a) == 16
    for rel in a:
        with h5py.File(a[rel], "r") as x, h5py.File(b[rel], "r") as y:
            np.testing.assert_array_equal(x["features"][:], y["features"][:], err_msg=rel)
            assert list(x["ids"].asstr()[:]) == list(y["ids"].asstr()[:]), rel
            assert (x["labels"][:] == y["labels"][:]).all(), rel
            assert x.attrs["done"] == y.attrs["done"] == x["features"].shape[0], rel
    one = DescriptorStore(str(folder / "streamed" / "activations" / "sets_train.lmdb"), True)
    two = DescriptorStore(str(out / "activations" / "sets_train.lmdb"), True)
    assert one.order == two.order and one.order is not None
    with one.env.begin() as t1, two.env.begin() as t2:   # the same records in the same order
        assert list(t1.cursor()) == list(t2.cursor())


def test_run_tools_runs_jobs_in_one_process_and_stops_at_a_failing_one(tmp_path):
    """tools/run_tools.py (a streamed chunk's jobs): each job's own message
    and exit status, the job named, and the seconds of the jobs that ran."""
    import json

    def plan(*jobs):
        (tmp_path / "work").mkdir(exist_ok=True)
        path = tmp_path / "plan.json"
        path.write_text(json.dumps({"desc": "t", "chunks": [{"work": str(tmp_path / "work"),
                                                             "jobs": list(jobs)}]}))
        return subprocess.run([PY, str(ROOT / "tools" / "run_tools.py"), str(path)],
                              capture_output=True, text=True)
    res = plan(["m", "merge_shards.py", ["--kind", "h5", "--out", str(tmp_path / "none.h5"),
                                          "--shards", "1"]])
    assert res.returncode == 2
    assert "none.h5.shard-0-of-1: shard missing" in res.stderr
    assert "run_tools: merge_shards.py failed (t chunk 1 of 1, job 1 of 1)" in res.stderr
    assert not (tmp_path / "plan.json.seconds").exists()
    from fvvae.data import representations
    part = str(tmp_path / "x.h5.shard-0-of-1")
    with representations.create(part, 2, 3, compact=True) as f:
        for r in range(2):
            representations.write_row(f, r, "v%d" % r, r, np.arange(3.0) + r)
    merge = ["merge_shards.py", ["--kind", "h5", "--out", str(tmp_path / "x.h5"), "--shards", "1"]]
    res = plan(["a"] + merge, ["b"] + merge)
    assert res.returncode == 0, res.stderr
    assert set(json.loads((tmp_path / "plan.json.seconds").read_text())) == {"a", "b"}
    with h5py.File(tmp_path / "x.h5", "r") as f:     # the merge keeps float16 and attributes
        assert f["features"].dtype == np.float16 and f.attrs["compact"]
        assert list(f["ids"].asstr()[:]) == ["v0", "v1"]
    (tmp_path / "plan.json").write_text('[["merge_shards.py", []]]')   # the old list form
    res = subprocess.run([PY, str(ROOT / "tools" / "run_tools.py"), str(tmp_path / "plan.json")],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "not a plan of chunks" in res.stderr


def test_run_tools_plan_runs_chunks_deletes_their_stores_and_finds_open_files(tmp_path):
    """A plan (a streamed side in one process): each chunk's jobs, then its
    folder deleted, one progress line a chunk, seconds by label; a file under
    a deleted chunk that the process still holds is found."""
    import importlib.util
    import json
    from fvvae.data import representations
    chunks = []
    for c in range(2):
        work = tmp_path / ("chunk-%d" % c)
        work.mkdir()
        with representations.create(str(work / "x.h5.shard-0-of-1"), 1, 3) as f:
            representations.write_row(f, 0, "v%d" % c, c, np.arange(3.0) + c)
        chunks.append({"work": str(work), "jobs": [
            ["merge", "merge_shards.py", ["--kind", "h5", "--out", str(work / "x.h5"),
                                          "--shards", "1"]],
            ["copy", "merge_shards.py", ["--kind", "h5", "--out", str(tmp_path / ("c%d.h5" % c)),
                                         "--shards", "1"]]]})
    # the second job of each chunk reads a part outside the chunk: made here
    for c in range(2):
        with representations.create(str(tmp_path / ("c%d.h5.shard-0-of-1" % c)), 1, 3) as f:
            representations.write_row(f, 0, "w%d" % c, c, np.ones(3))
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"desc": "test", "chunks": chunks}))
    res = subprocess.run([PY, str(ROOT / "tools" / "run_tools.py"), str(plan)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert re.findall(r"run_tools: test chunk (\d) of 2 done", res.stderr) == ["1", "2"]
    assert not (tmp_path / "chunk-0").exists() and not (tmp_path / "chunk-1").exists()
    seconds = json.loads((tmp_path / "plan.json.seconds").read_text())
    assert set(seconds) == {"merge", "copy"} and all(v > 0 for v in seconds.values())
    with h5py.File(tmp_path / "c1.h5", "r") as f:
        assert list(f["ids"].asstr()[:]) == ["w1"]
    spec = importlib.util.spec_from_file_location("run_tools", ROOT / "tools" / "run_tools.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    held = tmp_path / "held"
    held.mkdir()
    f = open(held / "a.log", "w")
    try:
        import shutil
        shutil.rmtree(held)
        assert mod.still_open(str(held)) == [str(held / "a.log") + " (deleted)"]
    finally:
        f.close()
    assert mod.still_open(str(held)) == []


def test_netcache_reuses_a_net_until_its_definition_or_weights_change(tmp_path):
    import caffe
    from fvvae.trunks import netcache
    proto = tmp_path / "n.prototxt"
    proto.write_text('input: "data" input_shape { dim: 1 dim: 4 }\n'
                     'layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" '
                     'inner_product_param { num_output: 2 weight_filler { type: "gaussian" } } }\n')
    net = caffe.Net(str(proto), caffe.TEST)
    weights = tmp_path / "w.caffemodel"
    net.save(str(weights))
    netcache.clear()
    a = netcache.net(caffe, str(proto), str(weights))
    assert netcache.net(caffe, str(proto), str(weights)) is a
    np.testing.assert_array_equal(a.params["ip"][0].data, net.params["ip"][0].data)
    time.sleep(0.01)
    net.params["ip"][0].data[...] = 7.0
    net.save(str(weights))                   # new weights: a new net with them
    b = netcache.net(caffe, str(proto), str(weights))
    assert b is not a and (b.params["ip"][0].data == 7.0).all()
    proto.write_text(proto.read_text().replace("num_output: 2", "num_output: 2 bias_term: true"))
    assert netcache.net(caffe, str(proto), str(weights)) is not b
    netcache.clear()
