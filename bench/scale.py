#!/usr/bin/env python
"""Disk, memory and time of the streamed protocol per frame, per video and
per method, measured on the real chain and projected to the paper's data sets.

    .venv/bin/python bench/scale.py [--videos-per-class 3] [--frames 3] [--chunk 2]

Runs scripts/ucf101.sh (RGB stream, 10-crop testing, all eight methods of
Table 2 at the paper's sizes: FV-VAE K = 255, FV 128, VLAD 256, BP on the full
descriptors) with the embedded trunk on a fabricated UCF101 tree made from
opencv-doc's real clips, streamed (fvvae.run.streaming, --chunk videos at a time,
compact representation files), while a thread samples the run's disk use
(allocated blocks) every 50 ms. Then it measures: bytes per stored float of
the kept training sets (LMDB of packed Datum.float_data), bytes per stored
float of a chunk's stores at their peak, bytes per stored value of each
method's compact representation file, JPEG bytes per extracted frame, the
peak RSS of the run's processes, and the seconds per frame, per chunk and per
video of each stage. The projection applies those unit costs to each data
set's counts and its trunk's shapes (floats per frame: descriptor set C x T,
map C x H x W, GA; representation values stored: the eight methods'
dimensions, BP folded to C(C+1)/2):

    final = frames_train x sets x b_sets + videos x sum_m stored_m x b_m + JPEG
    peak  = final + chunk videos x crops a video x (sets + maps + GA) x b_chunk

RAM: the largest process of this run, and the SVM stage at the data set's
shape from bench/results/svm_memory.csv (measured at UCF101's), scaled by the
training rows squared (its kernel matrix). Writes bench/results/scale.{csv,md};
the targets of the issue (UCF101 <= 60 GB, ActivityNet <= 250 GB) are
compared, not assumed.
"""
import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GB = 1e9
# (C, T, map H x W, GA dims) of the paper's trunks
SHAPES = {"vgg19_pool5": (512, 50, 49, 4096), "resnet152_res5c": (2048, 50, 49, 2048),
          "vgg19_conv5_4": (512, 784, 784, 4096), "open_nsfw": (1024, 50, 49, 1024)}
# (name, trunk, train videos, frames each, test videos, crops each, classes,
#  target GB, chunk: videos / images a chunk in the scripts)
DATASETS = [("UCF101 split 1 (10-crop)", "vgg19_pool5", 9537, 25, 3783, 25 * 10, 101, 60, 20),
            ("ActivityNet v1.3 (res5c)", "resnet152_res5c", 10024, 25, 4926, 25 * 10, 200, 250,
             20),
            ("CUB-200-2011", "vgg19_conv5_4", 5994, 1, 5794, 1, 200, None, 500)]


def method_dims(C, T, hw, ga):
    """The representation dimensions of Table 2's eight methods."""
    return {"GA": ga, "Concatenation": C * hw, "AVE": C, "FV": 2 * 128 * C, "VLAD": 256 * C,
            "BP": C * C, "FV-VAE⁻": C * 256, "FV-VAE": C * 256}


def stored_values(C, T, hw, ga):
    """The values a compact file stores per row (BP's symmetric matrix folded)."""
    dims = method_dims(C, T, hw, ga)
    dims["BP"] = C * (C + 1) // 2
    return dims


def du(path):
    """Allocated bytes of a file or folder (what the disk holds)."""
    total = 0
    if os.path.isfile(path):
        return os.stat(path).st_blocks * 512
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(dirpath, f)).st_blocks * 512
            except FileNotFoundError:     # a chunk store deleted while counted
                pass
    return total


class DiskWatch(threading.Thread):
    """Samples the allocated bytes of a folder (and of its chunk stores) while
    a run goes."""

    def __init__(self, folder, chunks):
        super().__init__(daemon=True)
        self.folder, self.chunks, self.stop = folder, chunks, threading.Event()
        self.peak = self.chunk_peak = 0

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, du(self.folder))
            if os.path.isdir(self.chunks):
                for name in os.listdir(self.chunks):
                    if os.path.isdir(os.path.join(self.chunks, name)):
                        self.chunk_peak = max(self.chunk_peak,
                                              du(os.path.join(self.chunks, name)))
            time.sleep(0.05)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos-per-class", type=int, default=3)
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=2, help="test videos a chunk")
    ap.add_argument("--workdir", default="/tmp/fvvae_scale_bench")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = ap.parse_args(argv)
    from fvvae.testing.dataset_trees import ucf101_tree
    from fvvae.data.image_list import read_list
    work = os.path.abspath(args.workdir)
    os.makedirs(work, exist_ok=True)
    tree = os.path.join(work, "ucf")
    if not os.path.isdir(os.path.join(tree, "UCF-101")):
        ucf101_tree(tree, clips_per_class=args.videos_per_class, frames=12)
    run = os.path.join(work, "run_streamed")
    if os.path.exists(run):            # the peaks are those of a run that computes everything
        shutil.rmtree(run)
    watch = DiskWatch(run, os.path.join(run, "rgb", "stream"))
    watch.start()
    start = time.time()
    res = subprocess.run(["bash", os.path.join(ROOT, "scripts", "ucf101.sh"), "--root", tree,
                          "--trunk", "open_nsfw", "--frames", str(args.frames), "--out", run,
                          "--", "--iterations", "20", "--batch", "8", "--bp-pca", "0",
                          "--sample", "5000", "--chunk", str(args.chunk),
                          # the paper's codebook sizes, measured on the tree's few frames
                          "--exact-codebooks"],
                         capture_output=True, text=True)
    watch.stop.set()
    watch.join()
    if res.returncode != 0:
        sys.exit("scripts/ucf101.sh failed:\n" + res.stderr[-3000:])
    seconds = time.time() - start
    rss_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / GB
    rgb, prep = os.path.join(run, "rgb"), os.path.join(run, "prep")
    train = read_list(os.path.join(prep, "split1_rgb_train.txt"), check_files=False)
    test = read_list(os.path.join(prep, "split1_rgb_test_10crop.txt"), check_files=False)
    n_train, n_test = len(train), len(test)
    train_videos, test_videos = len({i.group for i in train}), len({i.group for i in test})
    videos = train_videos + test_videos
    C, T, hw, ga = SHAPES["open_nsfw"]
    floats = {"sets": C * T, "maps": C * hw, "global": ga}
    # measured unit costs: the kept training sets, a chunk's stores at their peak
    # (the largest chunk: --chunk test videos x their crops), the compact files
    b_sets = du(os.path.join(rgb, "activations", "sets_train.lmdb")) / float(n_train * floats["sets"])
    chunk_crops = args.chunk * n_test // test_videos
    b_chunk = watch.chunk_peak / float(chunk_crops * sum(floats.values()))
    frames_dir = os.path.join(prep, "frames")
    jpeg = du(frames_dir) / float(sum(len(f) for _, _, f in os.walk(frames_dir)))
    reps = {}
    folders = {"GA": "encodings/ga", "Concatenation": "encodings/concat", "AVE": "encodings/ave",
               "FV": "encodings/fv128", "VLAD": "encodings/vlad256", "BP": "encodings/bp",
               "FV-VAE⁻": "fvvae_minus_k255", "FV-VAE": "fvvae_full_k255"}
    stored = stored_values(C, T, hw, ga)
    for name, folder in folders.items():
        files = [os.path.join(rgb, folder, f) for f in os.listdir(os.path.join(rgb, folder))
                 if f.endswith(".h5")]
        reps[name] = sum(du(f) for f in files) / float(videos * stored[name])  # bytes a value
    measured_final = du(run)
    stamps = {}
    for f in os.listdir(os.path.join(rgb, "stages")):
        with open(os.path.join(rgb, "stages", f)) as fh:
            stamps[f[:-5]] = json.load(fh).get("seconds", 0.0)
    svm = list(csv.DictReader(open(os.path.join(ROOT, "bench", "results", "svm_memory.csv"))))
    svm_gb, svm_rows = float(svm[0]["peak_rss_gb"]), int(svm[0]["train_rows"])

    rows = []
    for name, trunk, tv, tf, sv, sc, classes, target, chunk in DATASETS:
        C2, T2, hw2, ga2 = SHAPES[trunk]
        fl = {"sets": C2 * T2, "maps": C2 * hw2, "global": ga2}
        frames_train, crops_test, vids = tv * tf, sv * sc, tv + sv
        kept = frames_train * fl["sets"] * b_sets
        representations = sum(vids * d * reps[m] for m, d in stored_values(C2, T2, hw2, ga2).items())
        frames_jpeg = (tv + sv) * tf * jpeg if tf > 1 else 0.0   # CUB: the user's own images
        chunk_bytes = chunk * sc * sum(fl.values()) * b_chunk
        final = (kept + representations + frames_jpeg) / GB
        peak = final + chunk_bytes / GB
        ram = max(rss_gb, svm_gb * (tv / float(svm_rows)) ** 2)
        rows.append({"dataset": name, "trunk": trunk, "frames": frames_train + crops_test,
                     "disk_peak_gb": round(peak, 1), "disk_final_gb": round(final, 1),
                     "ram_peak_gb": round(ram, 2), "stores_gb": round(kept / GB, 1),
                     "chunk_stores_gb": round(chunk_bytes / GB, 2), "chunk": chunk,
                     "representations_gb": round(representations / GB, 1),
                     "frames_jpeg_gb": round(frames_jpeg / GB, 1),
                     "target_disk_gb": target or "", "met": "" if target is None else
                     ("yes" if peak <= target else "no")})
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "scale.csv.tmp"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    os.replace(os.path.join(args.out, "scale.csv.tmp"), os.path.join(args.out, "scale.csv"))
    md = ["# Scale: measured unit costs and the paper's data sets", "",
          "Measured %s: scripts/ucf101.sh streamed (--chunk %d), compact representation files, "
          "embedded trunk (C = 1024), %d training frames (%d videos), %d test crops (10-crop, %d "
          "videos), all eight methods at the paper's sizes; %.0f s in all, disk %.3f GB at the "
          "peak (sampled every 50 ms), %.3f GB at the end, a chunk's stores %.3f GB at their "
          "peak, largest process %.2f GB." % (
              time.strftime("%Y-%m-%d"), args.chunk, n_train, train_videos, n_test, test_videos,
              seconds, watch.peak / GB, measured_final / GB, watch.chunk_peak / GB, rss_gb), "",
          "| unit | measured |", "| --- | --- |",
          "| bytes per stored float, kept training sets (LMDB, packed Datum) | %.3f |" % b_sets,
          "| bytes per stored float, a chunk's sets + maps + GA stores at their peak | %.3f |"
          % b_chunk,
          "| bytes per extracted JPEG frame (320 x 240) | %d |" % jpeg]
    md += ["| bytes per stored value, %s representation files (compact) | %.2f |" % (k, v)
           for k, v in reps.items()]
    for name, sec in sorted(stamps.items()):
        if name.startswith("train_fvvae"):
            md.append("| stage %s: seconds for its 20 iterations at batch 8 (not per video) "
                      "| %.1f |" % (name, sec))
        elif name == "train_stream":
            md.append("| stage train_stream (trunk, kept sets, GA/Concat/AVE rows), seconds per "
                      "training frame | %.3f |" % (sec / n_train))
        elif name == "test_stream":
            chunks = -(-test_videos // args.chunk)
            md.append("| stage test_stream (trunk and every method's rows), seconds per test crop "
                      "| %.3f |" % (sec / n_test))
            md.append("| stage test_stream, seconds per chunk (%d chunks) | %.1f |"
                      % (chunks, sec / chunks))
        elif name != "data":
            md.append("| stage %s, seconds per training video | %.3f |"
                      % (name, sec / float(train_videos)))
    md += ["", "| dataset | trunk | frames | disk peak (GB) | disk final (GB) | RAM peak (GB) "
           "| kept sets | a chunk's stores | representations | frames | target | met |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    md += ["| %(dataset)s | %(trunk)s | %(frames)d | %(disk_peak_gb)s | %(disk_final_gb)s | "
           "%(ram_peak_gb)s | %(stores_gb)s | %(chunk_stores_gb)s (%(chunk)s) | "
           "%(representations_gb)s | %(frames_jpeg_gb)s | %(target_disk_gb)s | %(met)s |" % r
           for r in rows]
    with open(os.path.join(args.out, "scale.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
