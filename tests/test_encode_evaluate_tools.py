"""tools/encode.py and tools/evaluate.py end to end on small stores made here:
every baseline encodes, the table comes out, accuracy is above chance, and
bad inputs are named."""
import subprocess
import sys

import h5py
import numpy as np
import pytest

from conftest import ROOT
from fvvae.data.descriptor_store import DescriptorStore

CLASSES, C, FRAMES = 3, 8, 2


def tool(name, *args):
    return subprocess.run([sys.executable, str(ROOT / "tools" / name)] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """Per split: sets (C x 1 x 12), maps (C x 1 x 49), global (C x 1 x 1) of
    videos of 2 frames; class k lifts channels 2k and 2k+1."""
    d = tmp_path_factory.mktemp("stores")
    rng = np.random.default_rng(0)
    for split, videos in (("train", 24), ("test", 18)):
        labels = np.repeat(np.arange(videos) % CLASSES, FRAMES)
        lift = np.zeros((len(labels), C))
        lift[np.arange(len(labels)), 2 * labels] = 1.5
        lift[np.arange(len(labels)), 2 * labels + 1] = 1.0
        maps = rng.gamma(1.0, 0.5, (len(labels), C, 49)) + lift[:, :, None] * rng.random((len(labels), 1, 49))
        sets = np.stack([np.stack([m[:, i:i + 4].max(1) for i in range(0, 48, 4)], 1) for m in maps])
        for kind, arr in (("sets", sets), ("maps", maps), ("global", maps.mean(2, keepdims=True))):
            s = DescriptorStore(str(d / ("%s_%s.lmdb" % (kind, split))))
            s.put_batch(range(len(labels)), arr[:, :, None, :].reshape(len(labels), C, 1, -1), labels)
            s.close()
        (d / ("%s.txt" % split)).write_text("".join(
            "f%d.jpg %d v%d\n" % (i, labels[i], i // FRAMES) for i in range(len(labels))))
    return d


def test_every_baseline_encodes_and_evaluates(stores, tmp_path):
    d = stores
    runs = []
    for method, kind in (("ga", "global"), ("concat", "maps"), ("ave", "maps"),
                         ("fv", "sets"), ("vlad", "sets"), ("bp", "sets")):
        res = tool("encode.py", "--method", method, "--train", d / ("%s_train.lmdb" % kind),
                   "--test", d / ("%s_test.lmdb" % kind), "--train-list", d / "train.txt",
                   "--test-list", d / "test.txt", "--out", tmp_path / "enc", "--size", 4,
                   "--sample", 500)
        assert res.returncode == 0, res.stderr[-2000:]
        with h5py.File(tmp_path / "enc" / ("%s_train.h5" % method)) as f:
            assert f["features"].shape[0] == 24          # one row per video
            assert np.isfinite(f["features"][:]).all()
        runs += ["--run", method, tmp_path / "enc" / ("%s_train.h5" % method),
                 tmp_path / "enc" / ("%s_test.h5" % method)]
    res = tool("evaluate.py", "--out", tmp_path / "eval", *runs, "--fuse", "fv+vlad=fv+vlad@0.5")
    assert res.returncode == 0, res.stderr[-2000:]
    csv = (tmp_path / "eval" / "results.csv").read_text().splitlines()
    assert csv[0].startswith("method,dimension,top1,top3,map")
    rows = {r.split(",")[0]: r.split(",") for r in csv[1:]}
    assert set(rows) == {"ga", "concat", "ave", "fv", "vlad", "bp", "fv+vlad"}
    dims = {k: int(v[1]) for k, v in rows.items()}
    assert dims["concat"] == C * 49 and dims["ave"] == C and dims["bp"] == C * C
    assert dims["fv"] == 2 * 4 * C and dims["vlad"] == 4 * C
    for name, r in rows.items():
        top1, top3, mAP = float(r[2]), float(r[3]), float(r[4])
        assert top1 > 1.5 / CLASSES, (name, top1)    # well above chance
        assert top3 == 1.0 and 0 < mAP <= 1
    md = (tmp_path / "eval" / "results.md").read_text()
    assert "| bp | 64 |" in md and "| fv+vlad | - |" in md
    assert (tmp_path / "eval" / "fv_confusion.csv").exists()


def test_evaluate_names_bad_inputs(stores, tmp_path):
    def write(path, x, labels):
        with h5py.File(path, "w") as f:
            f["features"] = x
            f["labels"] = labels
            f["ids"] = np.array(["r%d" % i for i in range(len(labels))], dtype=object).astype("S")
    rng = np.random.default_rng(0)
    write(tmp_path / "a.h5", rng.random((6, 5)), np.array([0, 1, 2, 0, 1, 2]))
    write(tmp_path / "b.h5", rng.random((4, 7)), np.array([0, 1, 2, 0]))
    res = tool("evaluate.py", "--out", tmp_path / "o", "--run", "x", tmp_path / "a.h5", tmp_path / "b.h5")
    assert res.returncode == 2 and "has 5 dimensions" in res.stderr and "has 7" in res.stderr
    write(tmp_path / "c.h5", rng.random((4, 5)), np.array([0, 1, 0, 1]))
    res = tool("evaluate.py", "--out", tmp_path / "o", "--run", "x", tmp_path / "c.h5", tmp_path / "a.h5")
    assert res.returncode == 2 and "classes [2] have no training example" in res.stderr
    bad = rng.random((6, 5))
    bad[3, 1] = np.inf
    write(tmp_path / "d.h5", bad, np.array([0, 1, 2, 0, 1, 2]))
    res = tool("evaluate.py", "--out", tmp_path / "o", "--run", "x", tmp_path / "d.h5", tmp_path / "a.h5")
    assert res.returncode == 2 and "NaN or Inf" in res.stderr and "d.h5" in res.stderr
    # a classes.txt of the wrong count: refused in one line, before any SVM
    names = tmp_path / "classes.txt"
    names.write_text("0 cat\n1 dog\n")
    res = tool("evaluate.py", "--out", tmp_path / "o", "--run", "x", tmp_path / "a.h5",
               tmp_path / "a.h5", "--class-names", names)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "classes.txt" in res.stderr and "2 classes" in res.stderr
    names.write_text("0 cat\n1 dog\n2 bird\n")
    res = tool("evaluate.py", "--out", tmp_path / "o", "--run", "x", tmp_path / "a.h5",
               tmp_path / "a.h5", "--class-names", names)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "bird" in (tmp_path / "o" / "x_confusion.csv").read_text()


def test_encode_refuses_wrong_store_kind(stores, tmp_path):
    d = stores
    res = tool("encode.py", "--method", "fv", "--train", d / "global_train.lmdb",
               "--test", d / "global_test.lmdb", "--out", tmp_path)
    assert res.returncode == 2 and "fv reads descriptor sets" in res.stderr


def test_table2_one_command(stores, tmp_path):
    d = stores
    res = tool("table2.py", "--activations", d, "--train-list", d / "train.txt",
               "--test-list", d / "test.txt", "--out", tmp_path / "t2", "--fv-size", 4,
               "--vlad-size", 4, "--sample", 500, "--bp-pca", 4)
    assert res.returncode == 0, res.stderr[-2000:]
    rows = (tmp_path / "t2" / "results.csv").read_text().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["GA", "Concatenation", "AVE", "FV", "VLAD", "BP"]
    assert rows[5].split(",")[1] == "16"             # BP on 4 PCA dimensions: 4^2
