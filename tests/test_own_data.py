"""A user's own data (issue 25): a folder of class folders of images, and one
of videos, through scripts/folder.sh on the embedded trunk; every bad input
stopped before any work, with a message naming it (tools/run_protocol.py's
check, data_prep/folder.py)."""
import csv
import os
import shutil
import subprocess
import sys

import cv2
import pytest

from conftest import ROOT
from fvvae.testing.dataset_trees import OPENCV_DATA, SOURCES, make_clip, require_sample_videos

QUICK = ["--methods", "GA,FV,FV-VAE", "--iterations", "20", "--batch", "8", "--latent", "15",
         "--fv-size", "4", "--vlad-size", "8", "--bp-pca", "32", "--sample", "2000"]
PHOTOS = {"baboon face": "baboon.jpg", "fruits": "fruits.jpg", "building": "building.jpg"}


def image_tree(root, per_class=5):
    """ROOT/<class>/crop_N.jpg: crops of one real photo (opencv-doc) a class;
    a class and a file name with a space in them."""
    for cls, src in PHOTOS.items():
        img = cv2.imread(os.path.join(OPENCV_DATA, src))
        assert img is not None, src
        os.makedirs(os.path.join(root, cls), exist_ok=True)
        h, w = img.shape[:2]
        for k in range(per_class):
            y, x = (k * 37) % (h // 3), (k * 53) % (w // 3)
            crop = img[y:y + 2 * h // 3, x:x + 2 * w // 3]
            name = "crop %d.jpg" % k if k == 0 else "crop_%d.jpg" % k
            cv2.imwrite(os.path.join(root, cls, name), crop)
    return root


def script(*args):
    return subprocess.run(["bash", str(ROOT / "scripts" / "folder.sh")] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=1800)


def run_protocol(*args):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "run_protocol.py")]
                          + [str(a) for a in args], capture_output=True, text=True, timeout=600)


@pytest.mark.quick
def test_image_folder_in_one_command(tmp_path):
    data = image_tree(str(tmp_path / "my photos"))
    out = tmp_path / "run"
    res = script(data, "--test-fraction", "0.4", "--out", out, "--", *QUICK)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert (out / "prep" / "classes.txt").read_text().splitlines() == [
        "0 baboon face", "1 building", "2 fruits"]
    train = (out / "prep" / "folder_train.txt").read_text().splitlines()
    test = (out / "prep" / "folder_test.txt").read_text().splitlines()
    assert len(train) == 9 and len(test) == 6          # 5 a class, 2 of them tested
    assert all(len(line.split()) == 3 for line in train + test)   # spaces linked away
    report = (out / "open_nsfw" / "REPORT.md").read_text()
    assert report.startswith("# my photos (images, open_nsfw)")
    assert "0 baboon face, 1 building, 2 fruits" in report
    assert "Table 2" not in report and "83.45" not in report      # no paper columns
    with open(out / "open_nsfw" / "eval" / "FV-VAE_per_class.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["baboon face", "building", "fruits"]
    assert [int(r["test_examples"]) for r in rows] == [2, 2, 2]
    with open(out / "open_nsfw" / "eval" / "FV-VAE_confusion.csv") as f:
        cm = list(csv.reader(f))
    assert cm[0][1:] == ["baboon face", "building", "fruits"] and cm[1][0] == "baboon face"
    assert sum(int(v) for row in cm[1:] for v in row[1:]) == 6


def test_video_folder_in_one_command(tmp_path):
    require_sample_videos()
    data = tmp_path / "clips"
    for cls, src in SOURCES.items():
        os.makedirs(data / cls)
        for k in range(3):
            make_clip(os.path.join(OPENCV_DATA, src), str(data / cls / ("c%d.avi" % k)),
                      start=10 * k, frames=10)
    out = tmp_path / "run"
    res = script(data, "--videos", "--frames", "3", "--test-fraction", "0.34", "--out", out,
                 "--", *QUICK)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    test = (out / "prep" / "folder_rgb_test.txt").read_text().splitlines()
    assert len(test) == 3 * 3 and len({line.split()[2] for line in test}) == 3
    report = (out / "open_nsfw" / "REPORT.md").read_text()
    assert report.startswith("# clips (videos, open_nsfw)")
    assert "0 Megamind, 1 Tree, 2 Walking" in report


def lists(tmp_path, train, test, names=None):
    """Writes list files of (image, label) rows; returns run_protocol's
    arguments for them (and classes.txt)."""
    paths = []
    for side, rows in (("train", train), ("test", test)):
        p = tmp_path / ("%s.txt" % side)
        p.write_text("".join("%s %d\n" % r for r in rows))
        paths.append(p)
    args = ["--train-list", paths[0], "--test-list", paths[1], "--trunk", "open_nsfw",
            "--per-item", "--out", tmp_path / "run"]
    if names is not None:
        (tmp_path / "classes.txt").write_text("".join("%d %s\n" % (i, n)
                                                      for i, n in enumerate(names)))
        args += ["--class-names", tmp_path / "classes.txt"]
    return args


@pytest.fixture
def images(tmp_path):
    root = image_tree(str(tmp_path / "data"), per_class=2)
    out = []
    for k, c in enumerate(sorted(PHOTOS)):
        out.append(str(tmp_path / ("image%d.jpg" % k)))
        os.link(os.path.join(root, c, "crop_1.jpg"), out[-1])
    return out


@pytest.mark.quick
@pytest.mark.parametrize("case,message", [
    ("label out of range", "has label 3, outside 0 .. 2 (3 classes)"),
    ("negative label", "has label -1, outside 0 .. 2"),
    ("class without training items", "no training item of class(es) 2 (fruits)"),
    ("test label unknown to training", "has label 1, which no training item has"),
    ("classes.txt count", "classes.txt names 2 classes, the run has 3"),
    ("truncated jpeg", "does not decode completely"),
    ("path with a space", "holds white space, at which list lines are split"),
])
def test_bad_inputs_stop_before_any_work(tmp_path, images, case, message):
    a, b, c = images
    names = ["baboon face", "building", "fruits"]
    train, test = [(a, 0), (b, 1), (c, 2)], [(a, 0), (b, 1)]
    extra = ["--classes", 3]
    if case == "label out of range":
        test = [(a, 3)]
    elif case == "negative label":
        train = train + [(a, -1)]
    elif case == "class without training items":
        train = [(a, 0), (b, 1)]
    elif case == "test label unknown to training":
        train, test = [(a, 0), (c, 2)], [(b, 1)]
    elif case == "classes.txt count":
        names = names[:2]
    elif case == "path with a space":
        spaced = os.path.join(os.path.dirname(a), "my image.jpg")
        os.link(a, spaced)
        train = train + [(spaced, 0)]
    else:
        data = open(c, "rb").read()
        open(c, "wb").write(data[:len(data) // 2])
        # a run told not to decode leaves no record that the lists decoded:
        # the next run checks them (it did not, and missed the truncation)
        run_protocol(*lists(tmp_path, train, test, names), *extra, *QUICK,
                     "--no-decode-check", "--until", "models")
        assert not (tmp_path / "run" / "inputs_checked.json").exists()
        for leftover in ("activations", "stream"):
            shutil.rmtree(tmp_path / "run" / leftover, ignore_errors=True)
    res = run_protocol(*lists(tmp_path, train, test, names), *extra, *QUICK)
    assert res.returncode == 2, res.stderr[-2000:]
    assert message in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "run" / "activations").exists()
    assert not (tmp_path / "run" / "stream").exists()


def test_folder_problems_are_named(tmp_path):
    root = image_tree(str(tmp_path / "data"), per_class=2)
    os.makedirs(os.path.join(root, "empty class"))
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "prepare_data.py"), "folder",
                          "--root", root, "--out", str(tmp_path / "p")],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "class folder 'empty class' holds no images" in res.stderr
    os.rmdir(os.path.join(root, "empty class"))
    split = tmp_path / "split"
    split.mkdir()
    (split / "train.txt").write_text("fruits/crop_1.jpg\nbuilding/crop_1.jpg\n"
                                     "baboon face/crop 0.jpg\n")
    (split / "test.txt").write_text("fruits/crop_9.jpg\n")
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "prepare_data.py"), "folder",
                          "--root", root, "--split-dir", str(split), "--out", str(tmp_path / "p")],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "test.txt:1: " in res.stderr
    assert "crop_9.jpg does not exist" in res.stderr
    (split / "test.txt").write_text("fruits/crop_1.jpg\n")
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "prepare_data.py"), "folder",
                          "--root", root, "--split-dir", str(split), "--out", str(tmp_path / "p")],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "fruits/crop_1.jpg is also" in res.stderr


def test_changed_settings_rerun_what_they_change(tmp_path):
    """--bp-pca changes BP's codebook (its own folder, bp_pca16) and nothing
    else; relabelled lists (same paths) re-run the descriptors and every
    training, where a key of paths alone reused them."""
    root = image_tree(str(tmp_path / "data"), per_class=3)

    def flat(c, k):         # a path without the class folder's space
        dst = str(tmp_path / ("%s_%d.jpg" % (c.replace(" ", "_"), k)))
        if not os.path.exists(dst):
            os.link(os.path.join(root, c, "crop_%d.jpg" % k), dst)
        return dst
    rows = [(flat(c, k), i) for i, c in enumerate(sorted(PHOTOS)) for k in (1, 2)]
    test = [(flat(c, 1), i) for i, c in enumerate(sorted(PHOTOS))]
    args = lists(tmp_path, rows, test)
    quick = [q for q in QUICK if q != "GA,FV,FV-VAE"]
    quick[quick.index("--methods") + 1:quick.index("--methods") + 1] = ["BP,FV-VAE"]
    res = run_protocol(*args, *quick, "--chunk", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    log = tmp_path / "run" / "run.log"
    before = len(log.read_text())
    res = run_protocol(*args, *[q if q != "32" else "16" for q in quick], "--chunk", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    second = log.read_text()[before:]
    assert "stage encode_bp_pca16: running" in second
    assert "stage train_fvvae_full_k15: reused" in second
    assert (tmp_path / "run" / "encodings" / "bp_pca32").is_dir()
    # the same paths, other labels: descriptors and training run again
    swapped = [(p, (label + 1) % 3) for p, label in rows]
    args = lists(tmp_path, swapped, [(p, (label + 1) % 3) for p, label in test])
    before = len(log.read_text())
    res = run_protocol(*args, *quick, "--chunk", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    third = log.read_text()[before:]
    assert "stage descriptors: running" in third
    assert "stage train_fvvae_full_k15: running" in third
    # trained from the start on the new sets: never resumed from the old labels' snapshots
    assert "resuming training" not in third


@pytest.mark.quick
def test_budget_and_bp_fit_the_data():
    """FV-VAE's iterations capped at 200 epochs of the training sets (never
    at the paper's scale); BP's PCA to 512 on trunks of more channels when
    --bp-pca is not given, none on 512, what is given kept."""
    from fvvae.data.input_check import fit_bp, fit_budget
    assert fit_budget(5000, 128, 60) == (94, [
        "FV-VAE: 5000 iterations reduced to 94: 60 training descriptor sets at batch 128, "
        "at most 200 epochs"])                                  # 200 * 60 / 128 = 93.75
    assert fit_budget(5000, 128, 238000) == (5000, [])         # UCF101: 2.7 epochs
    assert fit_budget(5000, 128, 5994) == (5000, [])           # CUB: 107 epochs
    pca, notes = fit_bp(None, 1024)
    assert pca == 512 and "1,048,576" in notes[0] and "262,144" in notes[0]
    assert fit_bp(None, 512) == (0, []) and fit_bp(0, 2048) == (0, [])
    assert fit_bp(64, 1024) == (64, [])


def test_codebooks_fit_the_descriptors_there_are():
    from fvvae.data.input_check import fit_codebooks
    assert fit_codebooks(128, 256, 100000) == (128, 256, [])
    fv, vlad, notes = fit_codebooks(128, 256, 2200)
    assert (fv, vlad) == (32, 32) and len(notes) == 2
    assert "FV: 128 Gaussians reduced to 32: 2200 training descriptors" in notes[0]
    assert fit_codebooks(4, 8, 10)[:2] == (1, 1)


def test_vectors_and_classifiers_to_take_away(tmp_path):
    """A finished run's vectors of new items (tools/encode_items.py) are its
    own vectors when the items are its test items, its saved SVMs score them
    as the evaluation did (the kernel path's SVMs folded into one weight
    vector a class), and a folder of unlabelled images gets predictions."""
    import json
    import h5py
    import numpy as np
    data = image_tree(str(tmp_path / "photos"))
    out = tmp_path / "run"
    res = script(data, "--test-fraction", "0.4", "--out", out, "--", *QUICK)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    run = out / "open_nsfw"
    manifest = json.loads((run / "run.json").read_text())
    new = tmp_path / "new"
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "encode_items.py"), "--run",
                          str(run), "--items", str(out / "prep" / "folder_test.txt"), "--out",
                          str(new)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    for name in ("GA", "FV", "FV-VAE"):
        with h5py.File(manifest["runs"][name]["test"], "r") as a, \
                h5py.File(new / ("%s.h5" % name), "r") as b:
            np.testing.assert_array_equal(b["features"][:], a["features"][:])
            assert list(b["ids"].asstr()[:]) == list(a["ids"].asstr()[:])
        with np.load(run / "eval" / ("%s_scores.npz" % name)) as z:
            want = z["scores"]
        from fvvae.evaluation.classifier import Classifier
        got, _, _ = Classifier(str(run / "eval" / ("%s_svm.npz" % name))).score_file(
            str(new / ("%s.h5" % name)))
        np.testing.assert_allclose(got, want, atol=1e-5 * np.abs(want).max())
        rows = list(csv.DictReader(open(new / ("%s_predictions.csv" % name))))
        assert len(rows) == 6 and rows[0]["class_1"] in PHOTOS
    with h5py.File(new / "vectors.h5", "r") as v:
        assert set(v) == {"GA", "FV", "FV-VAE"} and v["FV-VAE"].attrs["compact"]
    # the same --out with six other items: their vectors, not the six before
    six = tmp_path / "six.txt"
    six.write_text("\n".join((out / "prep" / "folder_train.txt").read_text().splitlines()[:6]))
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "encode_items.py"), "--run",
                          str(run), "--items", str(six), "--out", str(new)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    for name in ("GA", "FV-VAE"):
        with h5py.File(manifest["runs"][name]["train"], "r") as a, \
                h5py.File(new / ("%s.h5" % name), "r") as b:
            np.testing.assert_array_equal(b["features"][:], a["features"][:6])
    # unlabelled images in a folder
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "encode_items.py"), "--run",
                          str(run), "--items", os.path.join(data, "fruits"), "--out",
                          str(tmp_path / "new2"), "--methods", "FV-VAE"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "new2" / "FV-VAE_predictions.csv")))
    assert len(rows) == 5 and all(r["label"] == "-1" for r in rows)


def test_a_result_below_chance_is_flagged(tmp_path):
    """Test labels shifted by one class: GA, right on every crop, is then
    wrong on all nine; the report says so with the chance level."""
    root = image_tree(str(tmp_path / "data"), per_class=5)
    flat = {}
    for i, c in enumerate(sorted(PHOTOS)):
        for k in range(5):
            dst = str(tmp_path / ("%d_%d.jpg" % (i, k)))
            src = os.path.join(root, c, "crop %d.jpg" % k if k == 0 else "crop_%d.jpg" % k)
            os.link(src, dst)
            flat[i, k] = dst
    train = [(flat[i, k], i) for i in range(3) for k in (1, 2)]
    test = [(flat[i, k], (i + 1) % 3) for i in range(3) for k in (0, 3, 4)]
    res = run_protocol(*lists(tmp_path, train, test), "--methods", "GA", "--chunk", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    report = (tmp_path / "run" / "REPORT.md").read_text()
    assert "below chance" in report and "GA 0.0%" in report and "(33.3%)" in report


def test_videos_of_one_stem_stay_two_videos(tmp_path):
    """CLASS/a.avi and CLASS/a.mp4 are two videos: two frame folders, two
    groups (they were one, the second's frames over the first's)."""
    require_sample_videos()
    from data_prep.folder import prepare
    data = tmp_path / "clips"
    for cls, src in SOURCES.items():
        os.makedirs(data / cls)
        make_clip(os.path.join(OPENCV_DATA, src), str(data / cls / "a.avi"), start=0, frames=6)
        shutil.copy(data / cls / "a.avi", data / cls / "a.mp4")
        make_clip(os.path.join(OPENCV_DATA, src), str(data / cls / "b.avi"), start=20, frames=6)
    lists, _ = prepare(str(data), str(tmp_path / "prep"), videos=True, test_fraction=0.34,
                       frames=2)
    rows = [line.split() for side in ("rgb_train", "rgb_test")
            for line in open(lists[side]).read().splitlines()]
    groups = {r[2] for r in rows}
    assert len(groups) == 3 * len(SOURCES), groups
    assert len({os.path.dirname(r[0]) for r in rows}) == 3 * len(SOURCES)
    assert len(rows) == 2 * 3 * len(SOURCES)


def test_default_output_of_a_folder_with_spaces(tmp_path):
    """scripts/folder.sh without --out names its folder after the data's,
    white space made '_' (the lists cannot name files under a space)."""
    body = open(ROOT / "scripts" / "folder.sh").read().splitlines()
    lines = [l for l in body if l.startswith(("name=", "out=${out:-"))]
    assert len(lines) == 2
    res = subprocess.run(["bash", "-c", 'ROOT=/r\ndata="/x/my  photos"\n%s\necho "$out"'
                          % "\n".join(lines)], capture_output=True, text=True)
    assert res.stdout.strip() == "/r/runs/folder_my__photos"
