"""A reduced run of the main job (`scripts/demo.sh --quick`): the report's
structure, finite metrics, accuracy above chance for every method; re-runs
reuse finished stages by content, and a killed run resumes."""
import csv
import math
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import ROOT

METHODS = ["GA", "Concatenation", "AVE", "FV", "VLAD", "BP", "FV-VAE⁻", "FV-VAE"]


def demo(out, *extra, **kw):
    return subprocess.run(["bash", str(ROOT / "scripts/demo.sh"), "--quick", "--out", str(out)]
                          + list(extra), capture_output=True, text=True, timeout=1800, **kw)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    if not os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
        pytest.fail("dataset-fashion-mnist is not installed: scripts/setup.sh installs it")
    out = tmp_path_factory.mktemp("demo")
    res = demo(out)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return out, res


def test_report_has_the_eight_methods_with_finite_metrics_above_chance(run):
    out, _ = run
    report = (out / "REPORT.md").read_text()
    header = ("| method | dimension | top-1 (95% interval) | top-3 | mAP | encode time (s) "
              "| paper: dimension | paper: accuracy |")
    assert header in report
    table = [l for l in report.splitlines() if l.startswith("| ") and not l.startswith("| method")
             and not l.startswith("| ---")]
    assert [l.split("|")[1].strip() for l in table[:8]] == METHODS
    with open(out / "results.csv") as f:
        rows = {r["method"]: r for r in csv.DictReader(f)}
    assert list(rows) == METHODS
    for name, r in rows.items():
        for key in ("top1", "top3", "map", "encode_seconds"):
            assert math.isfinite(float(r[key])), (name, key)
        assert float(r["top1"]) > 0.1 + 0.05, (name, r["top1"])   # 10 classes: chance is 10%
        assert float(r["top1_low"]) <= float(r["top1"]) <= float(r["top1_high"])
        assert int(r["test_items"]) == 40
        assert int(r["dimension"]) > 0
    assert rows["FV-VAE"]["dimension"] == rows["FV-VAE⁻"]["dimension"] == str(1024 * 32)
    assert (out / "losses.png").stat().st_size > 1000
    assert "![losses](losses.png)" in report
    # streamed (fvvae.run.streaming): the test stores are made a chunk at a time and
    # deleted, the training sets kept; compact representation files
    log = (out / "demo.log").read_text()
    assert "stage train_stream: running" in log and "stage test_stream: running" in log
    assert os.listdir(out / "activations") and all(
        n.startswith("sets_train.lmdb") for n in os.listdir(out / "activations"))
    assert not [n for n in os.listdir(out / "stream") if os.path.isdir(out / "stream" / n)]
    import h5py
    with h5py.File(out / "encodings" / "bp_pca64" / "bp_test.h5", "r") as f:
        assert f["features"].dtype == "float16" and f.attrs["compact"]
        assert f["features"].shape == (40, 64 * 65 // 2) and f.attrs["dimension"] == 64 * 64


def test_rerun_reuses_stages_checked_by_content(run):
    out, _ = run
    res = demo(out)
    assert res.returncode == 0, res.stderr[-2000:]
    log = res.stdout + res.stderr
    assert "stage train_stream: reused" in log and "stage train_fvvae_full_k31: reused" in log
    assert "stage test_stream: reused" in log
    # damage one output: only that stage (and those after it) run again
    target = out / "encodings" / "vlad16" / "vlad_test.h5"
    target.write_bytes(target.read_bytes()[:-10] + b"0123456789")
    res = demo(out)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-2000:]
    assert "stage test_stream: running" in log and "vlad_test.h5 differs" in log
    assert "stage encode_fv8: reused" in log
    # only VLAD's test rows were written again: the other methods' files untouched
    assert log.count("encode.py --method vlad") >= 1 and "encode.py --method fv " not in log


def test_killed_run_resumes(tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(["bash", str(ROOT / "scripts/demo.sh"), "--quick", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    stamp = out / "stages" / "train_stream.json"
    deadline = time.time() + 600
    while not stamp.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert stamp.exists()
    res = demo(out)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-2000:]
    assert "stage data: reused" in log and "stage train_stream: reused" in log
    assert (out / "REPORT.md").exists()


def test_augmented_training_and_the_spread_over_seeds(run):
    """--augment trains FV-VAE- and FV-VAE with the trunk in the graph on
    shuffled, randomly cropped, mirrored images (rows '+aug'); --seeds 2 also
    trains them with a second seed and reports the spread. The run's other
    stages are reused."""
    out, _ = run
    res = demo(out, "--augment", "--seeds", "2")
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-3000:]
    assert "stage train_stream: reused" in log and "stage train_fvvae_full_k31: reused" in log
    with open(out / "results.csv") as f:
        rows = {r["method"]: r for r in csv.DictReader(f)}
    assert list(rows) == METHODS + ["FV-VAE⁻ +aug", "FV-VAE +aug"]
    for name in ("FV-VAE⁻ +aug", "FV-VAE +aug"):
        assert math.isfinite(float(rows[name]["top1"]))
    net = (out / "fvvae_full_k31_aug" / "train_with_trunk.prototxt").read_text()
    assert all(k in net for k in ('type: "ImageData"', "shuffle: true", "mirror: true",
                                  "crop_size: 224", "new_height: 240"))
    assert (out / "fvvae_full_k31_aug" / "snapshots" / "fv_vae_with_trunk_iter_20.caffemodel").exists()
    report = (out / "REPORT.md").read_text()
    assert re.search(r"FV-VAE over 2 training seeds \(0\.\.1\)\*\*: top-1 [\d.]+%, [\d.]+%", report)
