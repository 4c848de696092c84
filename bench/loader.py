#!/usr/bin/env python
"""Reading the trunk's input: fvvae.data.loader against the baseline, loading item
by item (fvvae.data.preprocess.load_image / load_flow_stack, the loop before).

    .venv/bin/python bench/loader.py [--frames 64] [--stacks 32] [--repeat 3] [--out bench/results]

On real frames (opencv-doc's clips at the authors' 240 x 320) in the paper's
four cases of one UCF101 stream: the training side (one centre crop a frame)
and the test side (ten crops a frame, ten consecutive lines of a 10-crop
list), RGB (resize 240 x 320, crop 224) and flow (stacks of 10 x / y images
from 256 x 340, started every 7 frames, as 25 stacks of a 186-frame video
are). Each way is timed in the same run on the same items, the blobs
checked equal to the baseline's. Milliseconds an item, images decoded an item,
the ratio to the baseline; projected to UCF101 split 1 (238,425 training
frames, 945,750 test crops a stream) as hours of reading at these threads. Writes
bench/results/loader.{csv,md}.
"""
import argparse
import csv
import os
import shutil
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEAN = (104.0, 117.0, 123.0)
UCF101 = {"train": 238425, "test": 945750}      # items a stream (25 frames x 10 crops a test video)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=64, help="RGB frames (test side: x 10 crops)")
    ap.add_argument("--stacks", type=int, default=32, help="flow stacks (test side: x 10 crops)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3, help="the best of this many timings")
    ap.add_argument("--workdir", default="/tmp/fvvae_loader_bench")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = ap.parse_args(argv)
    from fvvae.data.image_list import Item
    from fvvae.data.loader import flow_loader, image_loader
    from fvvae.data.preprocess import CROPS, load_flow_stack, load_image

    from fvvae.testing.dataset_trees import example_frames, flow_images
    shutil.rmtree(args.workdir, ignore_errors=True)
    frames = example_frames(os.path.join(args.workdir, "rgb"), -(-args.frames // 2), step=1)
    first = flow_images(os.path.join(args.workdir, "flow"), 7 * (args.stacks - 1) + 10,
                        size=(340, 256))
    stacks = [first % (1 + 7 * s) for s in range(args.stacks)]
    cases = {
        ("rgb", "train"): [Item(p, 0, None, "c") for p in frames],
        ("rgb", "test"): [Item(p, 0, "v", c) for p in frames for c in CROPS],
        ("flow", "train"): [Item(p, 0, None, "c") for p in stacks],
        ("flow", "test"): [Item(p, 0, "v", c) for p in stacks for c in CROPS],
    }
    cores = os.cpu_count() or 1
    rows = []
    for (stream, side), items in cases.items():
        batches = [list(range(b, min(b + args.batch, len(items))))
                   for b in range(0, len(items), args.batch)]
        if stream == "rgb":
            def one(it):
                return load_image(it.path, (240, 320), 224, MEAN, it.crop)

            def loader(workers):
                return image_loader(items, batches, [((240, 320), 224)], MEAN, workers)
            per_item = 1
        else:
            def one(it):
                return load_flow_stack(it.path, (256, 340), 224, 128.0, 10, it.crop)

            def loader(workers):
                return flow_loader(items, batches, (256, 340), 224, 128.0, 10, workers)
            per_item = 20

        def baseline():
            return [np.stack([one(items[i]) for i in b]) for b in batches], len(items) * per_item

        def with_loader(workers):
            def run():
                ld = loader(workers)
                return [blobs[0] for _, blobs in ld], ld.decodes
            return run
        ways = [("item by item (baseline)", 1, baseline), ("fvvae.data.loader", 1, with_loader(1)),
                ("fvvae.data.loader", cores, with_loader(cores))]
        reference = None
        base_ms = None
        for name, workers, fn in ways:
            best = None
            for _ in range(args.repeat):
                start = time.perf_counter()
                blobs, decodes = fn()
                took = time.perf_counter() - start
                best = took if best is None else min(best, took)
            if reference is None:
                reference = blobs
            elif not all(np.array_equal(a, b) for a, b in zip(reference, blobs)):
                sys.exit("%s %s: %s gave other blobs than the baseline: the comparison is void"
                         % (stream, side, name))
            ms = 1e3 * best / len(items)
            base_ms = base_ms or ms
            rows.append({"stream": stream, "side": side, "items": len(items), "way": name,
                         "threads": workers, "ms_per_item": "%.3f" % ms,
                         "decodes_per_item": "%.2f" % (decodes / float(len(items))),
                         "ratio_to_baseline": "%.3f" % (ms / base_ms),
                         "ucf101_hours": "%.2f" % (ms * UCF101[side] / 3.6e6)})
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "loader.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    md = ["# Reading the trunk's input (`bench/loader.py`)", "",
          "Real frames at 240 x 320 (RGB: resize 240 x 320, crop 224; flow: stacks of 10 x / y "
          "images at 256 x 340, one every 7 frames), batches of %d, the best of %d timings, "
          "on %d cores; baseline: item by item. UCF101 hours: one stream of split 1 (238,425 "
          "training frames, 945,750 test crops) read this way, wall clock." % (
              args.batch, args.repeat, cores), "",
          "| stream | side | items | way | threads | ms an item | images decoded an item | "
          "ratio to the baseline | UCF101 hours |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    md += ["| %(stream)s | %(side)s | %(items)s | %(way)s | %(threads)s | %(ms_per_item)s | "
           "%(decodes_per_item)s | %(ratio_to_baseline)s | %(ucf101_hours)s |" % r for r in rows]
    with open(os.path.join(args.out, "loader.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
