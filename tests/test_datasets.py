"""The data-set readers and per-dataset scripts on fabricated trees in the
official layouts (real clips from opencv-doc's sample videos, generated
images): each script end to end, and the bad inputs each names."""
import csv
import json
import math
import os
import subprocess

import cv2
import numpy as np
import pytest

from conftest import ROOT, caffemodel_blobs
from conftest import read_results as results
from fvvae.testing.dataset_trees import OPENCV_DATA, activitynet_tree, cub_tree, make_clip, ucf101_tree

QUICK = ["--iterations", "20", "--batch", "8", "--latent", "15", "--fv-size", "4",
         "--vlad-size", "8", "--bp-pca", "32", "--sample", "2000"]


def script(name, *args, env=None):
    return subprocess.run(["bash", str(ROOT / "scripts" / name)] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=1800,
                          env=dict(os.environ, **(env or {})))


def table_rows(report):
    return {l.split("|")[1].strip(): l.split("|")[2:] for l in report.splitlines()
            if l.startswith("| ") and not l.startswith("| method") and not l.startswith("| ---")}


# ---- frames, flow, crops ---------------------------------------------------

def test_segment_centres_cover_the_video_uniformly():
    from data_prep.video import segment_centres
    assert segment_centres(100, 25) == [2 + 4 * i for i in range(25)]
    assert segment_centres(3, 5) == [0, 0, 1, 2, 2]   # short videos repeat frames


def test_frames_and_flow_of_a_real_clip(tmp_path):
    from data_prep.video import FLOW_STACK, extract_video, quantise_flow
    clip = make_clip(os.path.join(OPENCV_DATA, "vtest.avi"), str(tmp_path / "c.avi"), 0, 30)
    idx = extract_video(clip, str(tmp_path / "f"), n=5, flow=True)
    assert idx == [3, 9, 15, 21, 27]
    for i in idx:
        img = cv2.imread(str(tmp_path / "f" / ("img_%05d.jpg" % i)))
        assert img.shape == (120, 160, 3)
        for k in range(i, i + FLOW_STACK):     # every stack complete, past the end too
            for axis in "xy":
                assert (tmp_path / "f" / ("flow_%s_%05d.jpg" % (axis, k))).exists()
    fx = cv2.imread(str(tmp_path / "f" / "flow_x_00003.jpg"), cv2.IMREAD_GRAYSCALE)
    assert fx.std() > 0.5                      # people walk: the flow is not constant
    # the two-stream quantisation, against its definition
    q = quantise_flow(np.array([[[-30.0, 0.0], [20.0, 5.0]]], np.float32))
    assert q[0].tolist() == [[0, 255]] and q[1].tolist() == [[128, 159]]
    # resumable: a finished video is not decoded again
    os.remove(clip)
    assert extract_video(clip, str(tmp_path / "f"), n=5, flow=True) == idx


def test_flow_stack_channels_and_mirror(tmp_path):
    from fvvae.data.preprocess import load_flow_stack
    for k in range(1, 4):
        cv2.imwrite(str(tmp_path / ("flow_x_%05d.jpg" % k)), np.full((8, 8), 10 * k, np.uint8))
        cv2.imwrite(str(tmp_path / ("flow_y_%05d.jpg" % k)), np.full((8, 8), 100 + k, np.uint8))
    first = str(tmp_path / "flow_x_00001.jpg")
    s = load_flow_stack(first, (8, 8), 0, 128.0, 3)
    assert s.shape == (6, 8, 8)
    assert np.allclose(s[:, 0, 0], np.array([10, 101, 20, 102, 30, 103]) - 128, atol=1)
    m = load_flow_stack(first, (8, 8), 0, 128.0, 3, position="cf")
    assert np.allclose(m[0::2, 0, 0], 255 - np.array([10, 20, 30]) - 128, atol=1)  # x negated
    assert np.allclose(m[1::2], s[1::2])
    with pytest.raises(ValueError, match="flow_x_00004.jpg|flow_y_00004.jpg"):
        load_flow_stack(str(tmp_path / "flow_x_00002.jpg"), (8, 8), 0, 128.0, 3)


def test_ten_crops_are_the_corners_centre_and_mirrors(tmp_path):
    from fvvae.data.image_list import read_list, ten_crop_lines
    from fvvae.data.preprocess import CROPS, load_image
    img = np.random.default_rng(0).integers(0, 255, (6, 8, 3), np.uint8)
    path = str(tmp_path / "a.png")
    cv2.imwrite(path, img)
    expect = {"tl": img[:4, :4], "tr": img[:4, 4:], "bl": img[2:, :4], "br": img[2:, 4:],
              "c": img[1:5, 2:6]}
    for crop in CROPS:
        got = load_image(path, (6, 8), 4, (0, 0, 0), crop).transpose(1, 2, 0)
        want = expect[crop.rstrip("f")].astype(np.float32)
        assert np.array_equal(got, want[:, ::-1] if crop.endswith("f") else want), crop
    lst = tmp_path / "l.txt"
    lst.write_text("%s 3 vid1\n" % path)
    (tmp_path / "l10.txt").write_text("".join(ten_crop_lines(str(lst))))
    items = read_list(str(tmp_path / "l10.txt"))
    assert [i.crop for i in items] == list(CROPS) and {i.group for i in items} == {"vid1"}
    (tmp_path / "bad.txt").write_text("%s 3 vid1 middle\n" % path)
    with pytest.raises(ValueError, match="bad.txt:1: crop 'middle'"):
        read_list(str(tmp_path / "bad.txt"))


def test_cross_modality_flow_trunk_weights(caffe):
    from fvvae.trunks.zoo import trunk_definition, trunk_weights
    w_rgb = caffemodel_blobs(trunk_weights("open_nsfw"))["conv_1"][0]
    w_flow = caffemodel_blobs(trunk_weights("open_nsfw_flow"))["conv_1"][0]
    assert w_flow.shape[1] == 20 and w_rgb.shape[1] == 3
    assert np.allclose(w_flow, np.repeat(w_rgb.mean(axis=1, keepdims=True), 20, axis=1), atol=1e-6)
    assert "dim: 20" in trunk_definition(caffe, "open_nsfw_flow")


# ---- readers: bad input named ---------------------------------------------

def test_ucf101_reader_names_bad_split_files(tmp_path):
    from data_prep import ucf101
    root = ucf101_tree(str(tmp_path / "u"), clips_per_class=2, frames=12)
    classes, train, test = ucf101.read_split(root, 1)
    assert classes == {"Walking": 0, "Tree": 1, "Megamind": 2}
    assert len(train) == 3 and len(test) == 3 and train[1].label == 1
    lists = os.path.join(root, "ucfTrainTestlist")
    with open(os.path.join(lists, "trainlist01.txt"), "a") as f:
        f.write("Walking/v_Walking_g09_c01.avi 1\n")
    with pytest.raises(FileNotFoundError, match=r"trainlist01.txt:4: .*v_Walking_g09_c01.avi"):
        ucf101.read_split(root, 1)
    with open(os.path.join(lists, "testlist01.txt"), "a") as f:
        f.write("Swimming/v_Swimming_g01_c01.avi\n")
    with pytest.raises(ValueError, match=r"testlist01.txt:4: class 'Swimming' is not in classInd"):
        ucf101.read_split_list(os.path.join(lists, "testlist01.txt"), classes,
                               os.path.join(root, "UCF-101"))
    (tmp_path / "ci.txt").write_text("1 A\n3 B\n")
    with pytest.raises(ValueError, match="ci.txt:2: class index 3 out of order"):
        ucf101.read_class_ind(str(tmp_path / "ci.txt"))


def test_corrupt_truncated_and_empty_videos(tmp_path):
    from data_prep.prepare import PreparationReport, prepare_videos
    from data_prep.video import VideoError, sample_frames
    good = make_clip(os.path.join(OPENCV_DATA, "tree.avi"), str(tmp_path / "good.avi"), 0, 20)
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(os.urandom(5000))
    empty = str(tmp_path / "empty.avi")
    cv2.VideoWriter(empty, cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120)).release()
    truncated = tmp_path / "truncated.avi"
    truncated.write_bytes(open(good, "rb").read()[:len(open(good, "rb").read()) // 2])
    for bad in (str(garbage), empty):
        with pytest.raises(VideoError, match=os.path.basename(bad)):
            sample_frames(bad, 5)
    idx, frames = sample_frames(str(truncated), 5)        # what decodes is sampled
    assert len(idx) == 5 and all(i in frames for i in idx) and max(idx) < 19
    # opencv-doc's tree.avi is a real truncated video: 444 frames in its header, 68 decode
    idx, frames = sample_frames(os.path.join(OPENCV_DATA, "tree.avi"), 25)
    assert idx == [int((i + 0.5) * 68 / 25) for i in range(25)] and len(frames) == 25
    report = PreparationReport(str(tmp_path / "problems.csv"))
    items = [(p, str(tmp_path / ("f%d" % i)), 0, "v%d" % i)
             for i, p in enumerate([good, str(garbage), empty, str(truncated)])]
    lists = prepare_videos(items, str(tmp_path), "t", "train", 5, False, None, 2, report)
    report.write()
    lines = open(lists["rgb_train"]).read().splitlines()
    assert {l.split()[2] for l in lines} == {"v0", "v3"} and len(lines) == 10
    rows = list(csv.DictReader(open(tmp_path / "problems.csv")))
    assert sorted(os.path.basename(r["item"]) for r in rows) == ["empty.avi", "garbage.avi"]


def test_activitynet_reader_names_bad_json(tmp_path):
    from data_prep import activitynet
    path, _ = activitynet_tree(str(tmp_path / "a"), frames=12)
    videos = activitynet.read_annotations(path)
    assert len(videos) == 10 and "test0000001" not in videos      # test subset unlabelled
    assert sorted(activitynet.class_index(videos)) == [
        "Activity Megamind", "Activity Tree", "Activity Walking"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"database": {"x": {"subset": "training",')
    with pytest.raises(ValueError, match=r"bad.json: not valid JSON \(line 1"):
        activitynet.read_annotations(str(bad))
    data = json.load(open(path))
    del data["database"]["walk00XyZ"]["duration"]
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="bad.json: video walk00XyZ: field 'duration' is missing"):
        activitynet.read_annotations(str(bad))
    data = json.load(open(path))
    data["database"]["walk00XyZ"]["annotations"] = [{"label": "Activity Walking"}]
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="walk00XyZ: an annotation lacks 'label' or 'segment'"):
        activitynet.read_annotations(str(bad))


def test_cub_reader_checks_ids_and_reads_grey_and_cmyk(tmp_path):
    from data_prep import cub
    from fvvae.data.preprocess import load_image
    root = cub_tree(str(tmp_path / "c"))
    items, names = cub.read(root)
    assert len(items) == 15 and len(names) == 3
    assert sum(1 for i in items if i[3]) == 9
    for iid, path, *_ in items[:2]:                   # the grey and the CMYK JPEG
        assert load_image(path, (224, 224), 0, (0, 0, 0)).shape == (3, 224, 224)
    base = os.path.join(root, "CUB_200_2011")
    with open(os.path.join(base, "bounding_boxes.txt"), "a") as f:
        f.write("99 1 1 10 10\n")
    with pytest.raises(ValueError, match="bounding_boxes.txt: its image ids differ from "
                                         "images.txt's"):
        cub.read(root)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg at all")
    with pytest.raises(ValueError, match="bad.jpg: not a readable image"):
        cub.crop_box(str(bad), (0, 0, 5, 5), str(tmp_path / "out.jpg"))


# ---- the per-dataset scripts end to end -----------------------------------

def test_scripts_name_what_is_missing(tmp_path):
    res = script("ucf101.sh", env={"UCF101_ROOT": str(tmp_path / "nowhere")})
    assert res.returncode == 2
    assert "UCF101's videos" in res.stderr and str(tmp_path / "nowhere" / "UCF-101") in res.stderr
    root = ucf101_tree(str(tmp_path / "u"), clips_per_class=2, frames=12)
    res = script("ucf101.sh", "--root", root, env={"FVVAE_VGG19_WEIGHTS": ""})
    assert res.returncode == 2 and "FVVAE_VGG19_WEIGHTS" in res.stderr
    res = script("activitynet.sh", env={"ACTIVITYNET_JSON": ""})
    assert res.returncode == 2 and "ACTIVITYNET_JSON" in res.stderr
    res = script("cub200.sh", "--root", str(tmp_path))
    assert res.returncode == 2 and "images.txt" in res.stderr


def test_ucf101_script_two_streams_ten_crops_and_fusion(tmp_path):
    root = ucf101_tree(str(tmp_path / "ucf"))
    out = tmp_path / "run"
    res = script("ucf101.sh", "--root", root, "--split", 1, "--stream", "both",
                 "--trunk", "open_nsfw", "--flow-trunk", "open_nsfw_flow", "--frames", 3,
                 "--out", out, "--", "--methods", "GA,FV,FV-VAE⁻,FV-VAE", *QUICK)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    lines = open(out / "prep" / "split1_rgb_test_10crop.txt").read().splitlines()
    assert len(lines) == 3 * 3 * 10
    rgb = results(out / "rgb")
    assert list(rgb) == ["GA", "FV", "FV-VAE⁻", "FV-VAE"]
    for r in rgb.values():
        assert all(math.isfinite(float(r[k])) for k in ("top1", "top3", "map"))
    report = (out / "rgb" / "REPORT.md").read_text()
    assert "Table 2" in report and table_rows(report)["FV-VAE"][-2].strip() == "83.45%"
    flow = results(out / "flow")
    assert "FV-VAE" in flow
    fused = (out / "fusion" / "results.md").read_text()
    assert "FV-VAE-(rgb+flow)" in fused and "Late fusion" in res.stdout
    z = np.load(out / "rgb" / "eval" / "FV-VAE_scores.npz")
    assert z["scores"].shape == (3, 3)         # one row per test video (10 crops x 3 frames)


def test_activitynet_script_skips_missing_videos(tmp_path):
    path, videos = activitynet_tree(str(tmp_path / "anet"))
    out = tmp_path / "run"
    res = script("activitynet.sh", "--annotations", path, "--videos", videos,
                 "--trunk", "open_nsfw", "--frames", 3, "--no-ten-crop", "--out", out,
                 "--", "--methods", "GA,AVE,FV-VAE", *QUICK)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    problems = list(csv.DictReader(open(out / "prep" / "problems.csv")))
    assert [(p["item"], p["problem"]) for p in problems] == [("gone0000001", "missing video")]
    assert "1 videos skipped" in res.stdout
    r = results(out / "open_nsfw")
    assert list(r) == ["GA", "AVE", "FV-VAE"]
    assert "Table 5" in (out / "open_nsfw" / "REPORT.md").read_text()
    assert all(0 <= float(v["map"]) <= 1 for v in r.values())


def test_cub_script_with_and_without_boxes(tmp_path):
    root = cub_tree(str(tmp_path / "cub"))
    out = tmp_path / "run"
    res = script("cub200.sh", "--root", root, "--trunk", "open_nsfw", "--out", out,
                 "--", "--methods", "GA,FV,FV-VAE", *QUICK)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    for tag, caption in (("", "no box"), ("_box", "box")):
        r = results(out / ("open_nsfw" + tag))
        assert list(r) == ["GA", "FV", "FV-VAE"]
        assert all(math.isfinite(float(v["top1"])) for v in r.values())
        assert "Table 6" in (out / ("open_nsfw" + tag) / "REPORT.md").read_text()
    crops = sorted((out / "prep" / "box_crops").rglob("*.jpg"))
    assert len(crops) == 15 and cv2.imread(str(crops[0])).shape[:2] == (100, 100)


def test_finetune_trunk_changes_the_trunk_and_loads_as_its_weights(caffe, tmp_path):
    from data_prep import cub
    from fvvae.trunks.zoo import check_weights, trunk_definition, trunk_weights
    root = cub_tree(str(tmp_path / "cub"))
    lists = cub.prepare(root, str(tmp_path / "prep"))
    res = subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / "tools/finetune_trunk.py"),
                          "--trunk", "open_nsfw", "--list", lists["train"], "--iterations", "2",
                          "--batch", "4", "--base-lr", "0.01", "--out", str(tmp_path / "ft")],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    tuned = res.stdout.strip().splitlines()[-1]
    before, after = caffemodel_blobs(trunk_weights("open_nsfw")), caffemodel_blobs(tuned)
    assert after["fc_ft"][0].size == 3 * 1024                     # the new classifier
    assert not np.allclose(before["conv_1"][0], after["conv_1"][0])  # the trunk learned
    assert np.array_equal(before["bn_1"][0], after["bn_1"][0])       # BN statistics kept
    proto = tmp_path / "trunk.prototxt"
    proto.write_text(trunk_definition(caffe, "open_nsfw"))
    assert check_weights(caffe, str(proto), tuned)
