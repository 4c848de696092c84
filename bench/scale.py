#!/usr/bin/env python
"""Disk, memory and time of the protocol per frame, per video and per method,
measured on the real chain and projected to the paper's data sets.

    .venv/bin/python bench/scale.py [--videos-per-class 3] [--frames 3] [--workdir DIR]

Runs scripts/ucf101.sh (RGB stream, 10-crop testing, all eight methods of
Table 2 at the paper's sizes: FV-VAE K = 255, FV 128, VLAD 256, BP on the full
descriptors) with the embedded trunk on a fabricated UCF101 tree made from
opencv-doc's real clips, then measures from what the run left on disk:
bytes per stored float in each descriptor store (LMDB of Datum.float_data),
bytes per training frame and per test crop of each store, bytes per video
row of each method's representation file, JPEG bytes per extracted frame,
the peak RSS of the run's processes and the seconds per frame of the trunk
stage. The projection applies those measured unit costs to each data set's
counts and its trunk's shapes (floats per frame: descriptor set C x T, map
C x H x W, GA; representation dimensions of the eight methods):

    disk = frames_train x (sets + maps + GA) + crops_test x (sets + maps + GA)
           + videos x sum over methods (dimension x 4 bytes x files) + frames x JPEG

The current chain keeps every store to the end, so its peak disk is its final
disk. RAM: the largest process of this run, and the SVM stage at the data
set's shape from bench/results/svm_memory.csv (measured at UCF101's), scaled
by the training rows squared (its kernel matrix). Writes
bench/results/scale.{csv,md}; the targets of the issue (UCF101 <= 60 GB,
ActivityNet <= 250 GB) are compared, not assumed.
"""
import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

GB = 1e9
# (C, T, map H x W, GA dims) of the paper's trunks
SHAPES = {"vgg19_pool5": (512, 50, 49, 4096), "resnet152_res5c": (2048, 50, 49, 2048),
          "vgg19_conv5_4": (512, 784, 784, 4096), "open_nsfw": (1024, 50, 49, 1024)}
# (name, trunk, train videos, frames each, test videos, crops each, classes, target GB)
DATASETS = [("UCF101 split 1 (10-crop)", "vgg19_pool5", 9537, 25, 3783, 25 * 10, 101, 60),
            ("ActivityNet v1.3 (res5c)", "resnet152_res5c", 10024, 25, 4926, 25 * 10, 200, 250),
            ("CUB-200-2011", "vgg19_conv5_4", 5994, 1, 5794, 1, 200, None)]


def method_dims(C, T, hw, ga):
    """The representation dimensions of Table 2's eight methods."""
    return {"GA": ga, "Concatenation": C * hw, "AVE": C, "FV": 2 * 128 * C, "VLAD": 256 * C,
            "BP": C * C, "FV-VAE⁻": C * 256, "FV-VAE": C * 256}


def du(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    return total if os.path.isdir(path) else os.path.getsize(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos-per-class", type=int, default=3)
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/fvvae_scale_bench")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = ap.parse_args(argv)
    from dataset_trees import ucf101_tree
    from fvvae.image_list import read_list
    work = os.path.abspath(args.workdir)
    os.makedirs(work, exist_ok=True)
    tree = os.path.join(work, "ucf")
    if not os.path.isdir(os.path.join(tree, "UCF-101")):
        ucf101_tree(tree, clips_per_class=args.videos_per_class, frames=12)
    run = os.path.join(work, "run")
    start = time.time()
    res = subprocess.run(["bash", os.path.join(ROOT, "scripts", "ucf101.sh"), "--root", tree,
                          "--trunk", "open_nsfw", "--frames", str(args.frames), "--out", run,
                          "--", "--iterations", "20", "--batch", "8", "--bp-pca", "0",
                          "--sample", "5000"], capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("scripts/ucf101.sh failed:\n" + res.stderr[-3000:])
    seconds = time.time() - start
    # the largest process of the run that computed the stages (a rerun that
    # reuses them keeps the peak of the one that did not)
    rss_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / GB
    peak_file = os.path.join(run, "bench_peak_rss_gb.json")
    if os.path.exists(peak_file):
        rss_gb = max(rss_gb, json.load(open(peak_file)))
    with open(peak_file, "w") as f:
        json.dump(rss_gb, f)
    rgb, prep = os.path.join(run, "rgb"), os.path.join(run, "prep")
    train = read_list(os.path.join(prep, "split1_rgb_train.txt"), check_files=False)
    test = read_list(os.path.join(prep, "split1_rgb_test_10crop.txt"), check_files=False)
    n_train, n_test = len(train), len(test)
    videos = len({i.group for i in train}) + len({i.group for i in test})
    C, T, hw, ga = SHAPES["open_nsfw"]
    floats = {"sets": C * T, "maps": C * hw, "global": ga}
    # measured unit costs
    per_float, per_frame = {}, {}
    for kind, n in floats.items():
        size = sum(du(os.path.join(rgb, "activations", "%s_%s.lmdb" % (kind, sp)))
                   for sp in ("train", "test"))
        per_float[kind] = size / float((n_train + n_test) * n)
        per_frame[kind] = size / float(n_train + n_test)
    frames_dir = os.path.join(prep, "frames")
    jpeg = du(frames_dir) / float(sum(len(f) for _, _, f in os.walk(frames_dir)))
    reps = {}
    folders = {"GA": "encodings/ga", "Concatenation": "encodings/concat", "AVE": "encodings/ave",
               "FV": "encodings/fv128", "VLAD": "encodings/vlad256", "BP": "encodings/bp",
               "FV-VAE⁻": "fvvae_minus_k255", "FV-VAE": "fvvae_full_k255"}
    dims = method_dims(C, T, hw, ga)
    for name, folder in folders.items():
        files = [os.path.join(rgb, folder, f) for f in os.listdir(os.path.join(rgb, folder))
                 if f.endswith(".h5")]
        reps[name] = sum(du(f) for f in files) / float(videos * dims[name])  # bytes a value
    measured_total = du(run)
    stamps = {}
    for f in os.listdir(os.path.join(rgb, "stages")):
        with open(os.path.join(rgb, "stages", f)) as fh:
            stamps[f[:-5]] = json.load(fh).get("seconds", 0.0)
    trunk_s = stamps.get("descriptors", 0.0) / (n_train + n_test)
    svm = list(csv.DictReader(open(os.path.join(ROOT, "bench", "results", "svm_memory.csv"))))
    svm_gb, svm_rows = float(svm[0]["peak_rss_gb"]), int(svm[0]["train_rows"])

    rows = []
    for name, trunk, tv, tf, sv, sc, classes, target in DATASETS:
        C2, T2, hw2, ga2 = SHAPES[trunk]
        fl = {"sets": C2 * T2, "maps": C2 * hw2, "global": ga2}
        frames_train, crops_test, vids = tv * tf, sv * sc, tv + sv
        stores = sum((frames_train + crops_test) * fl[k] * per_float[k] for k in fl)
        representations = sum(vids * d * reps[m] for m, d in method_dims(C2, T2, hw2, ga2).items())
        frames_jpeg = (tv + sv) * tf * jpeg if tf > 1 else 0.0   # CUB: the user's own images
        disk = (stores + representations + frames_jpeg) / GB
        ram = max(rss_gb, svm_gb * (tv / float(svm_rows)) ** 2)
        rows.append({"dataset": name, "trunk": trunk, "frames": frames_train + crops_test,
                     "disk_peak_gb": round(disk, 1), "disk_final_gb": round(disk, 1),
                     "ram_peak_gb": round(ram, 2), "stores_gb": round(stores / GB, 1),
                     "representations_gb": round(representations / GB, 1),
                     "frames_jpeg_gb": round(frames_jpeg / GB, 1),
                     "target_disk_gb": target or "", "met": "" if target is None else
                     ("yes" if disk <= target else "no")})
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "scale.csv.tmp"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    os.replace(os.path.join(args.out, "scale.csv.tmp"), os.path.join(args.out, "scale.csv"))
    md = ["# Scale: measured unit costs and the paper's data sets", "",
          "Measured %s: scripts/ucf101.sh, embedded trunk (C = 1024), %d training frames, %d "
          "test crops (10-crop), %d videos, all eight methods at the paper's sizes; its stages "
          "took %.0f s, "
          "%.2f GB on disk, largest process %.2f GB." % (
              time.strftime("%Y-%m-%d"), n_train, n_test, videos, sum(stamps.values()),
              measured_total / GB, rss_gb), "",
          "| unit | measured |", "| --- | --- |"]
    md += ["| bytes per stored float, %s store | %.3f |" % (k, v) for k, v in per_float.items()]
    md += ["| bytes per frame, %s store (C = 1024) | %d |" % (k, v) for k, v in per_frame.items()]
    md += ["| bytes per extracted JPEG frame (320 x 240) | %d |" % jpeg]
    md += ["| bytes per value, %s representation files | %.2f |" % (k, v) for k, v in reps.items()]
    for name, sec in sorted(stamps.items()):
        if name.startswith("train_"):
            md.append("| stage %s: seconds for its 20 iterations at batch 8 (not per video) "
                      "| %.1f |" % (name, sec))
        else:
            unit = "frame or crop" if name == "descriptors" else "video"
            md.append("| stage %s, seconds per %s | %.3f |" % (
                name, unit, sec / float((n_train + n_test) if name == "descriptors" else videos)))
    md += ["| trunk stage, seconds per frame or crop (embedded trunk, this CPU) | %.3f |" % trunk_s,
           "", "| dataset | trunk | frames | disk peak (GB) | disk final (GB) | RAM peak (GB) "
           "| stores | representations | frames | target | met |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    md += ["| %(dataset)s | %(trunk)s | %(frames)d | %(disk_peak_gb)s | %(disk_final_gb)s | "
           "%(ram_peak_gb)s | %(stores_gb)s | %(representations_gb)s | %(frames_jpeg_gb)s | "
           "%(target_disk_gb)s | %(met)s |" % r for r in rows]
    with open(os.path.join(args.out, "scale.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
