#!/usr/bin/env python
"""Prepares a data set in its official layout for tools/run_protocol.py:
checks what it reads, samples frames (and optical flow) or crops images,
and writes the lists (`PATH LABEL GROUP`).

    .venv/bin/python tools/prepare_data.py ucf101 --root $UCF101_ROOT --split 1 --flow --out P
    .venv/bin/python tools/prepare_data.py activitynet --annotations A.json --videos V/ --out P
    .venv/bin/python tools/prepare_data.py cub --root $CUB_ROOT [--boxes] --out P
    .venv/bin/python tools/prepare_data.py folder --root DIR [--videos [--flow]] \
        [--test-fraction 0.3 --seed 0 | --split-dir D] --out P     (your own data)

Resumable (finished videos are kept); videos that cannot be decoded (and, for
ActivityNet, videos missing from the folder) are listed in OUT/problems.csv
and skipped. Progress on the terminal, log in OUT/prepare.log.
"""
import argparse
import logging
import os
import sys



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="dataset", required=True)
    u = sub.add_parser("ucf101", help="UCF-101/ and ucfTrainTestlist/")
    u.add_argument("--root", default=os.environ.get("UCF101_ROOT"),
                   help="folder holding UCF-101/ and ucfTrainTestlist/ (or $UCF101_ROOT)")
    u.add_argument("--split", type=int, default=1, choices=(1, 2, 3))
    u.add_argument("--flow", action="store_true", help="also optical flow (the flow stream)")
    a = sub.add_parser("activitynet", help="activity_net.v1-3.min.json and a video folder")
    a.add_argument("--annotations", default=os.environ.get("ACTIVITYNET_JSON"),
                   help="activity_net.v1-3.min.json (or $ACTIVITYNET_JSON)")
    a.add_argument("--videos", default=os.environ.get("ACTIVITYNET_VIDEOS"),
                   help="folder of the videos, named by id (or $ACTIVITYNET_VIDEOS)")
    c = sub.add_parser("cub", help="CUB_200_2011/")
    c.add_argument("--root", default=os.environ.get("CUB_ROOT"),
                   help="folder holding CUB_200_2011/ (or $CUB_ROOT)")
    c.add_argument("--boxes", action="store_true", help="crop every image to its bounding box")
    fo = sub.add_parser("folder", help="your own data: DIR/<class>/<images or videos>")
    fo.add_argument("--root", required=True, help="a folder of class folders")
    fo.add_argument("--videos", action="store_true", help="the files are videos (frames sampled "
                    "as for UCF101); default images")
    fo.add_argument("--flow", action="store_true", help="videos: also optical flow")
    fo.add_argument("--test-fraction", type=float, default=0.3,
                    help="the seeded, stratified share of each class tested (default 0.3)")
    fo.add_argument("--seed", type=int, default=0)
    fo.add_argument("--split-dir", help="your own split instead: a folder with train.txt and "
                    "test.txt, one file relative to --root a line")
    for p in (u, a, c, fo):
        p.add_argument("--out", required=True)
    for p in (u, a, fo):
        p.add_argument("--frames", type=int, default=25, help="frames per video (the paper: 25)")
        p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)

    os.makedirs(args.out, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        handlers=[logging.FileHandler(os.path.join(args.out, "prepare.log")),
                                  logging.StreamHandler()])
    log = logging.getLogger("fvvae.prepare_data")
    try:
        if args.dataset == "ucf101":
            from data_prep import ucf101
            if not args.root:
                raise FileNotFoundError("UCF101: pass --root or set UCF101_ROOT to the folder "
                                        "holding UCF-101/ and ucfTrainTestlist/")
            lists, report = ucf101.prepare(args.root, args.split, args.out, args.frames,
                                           args.flow, workers=args.workers)
        elif args.dataset == "activitynet":
            from data_prep import activitynet
            if not args.annotations or not args.videos:
                raise FileNotFoundError("ActivityNet: pass --annotations and --videos (or set "
                                        "ACTIVITYNET_JSON and ACTIVITYNET_VIDEOS)")
            lists, report = activitynet.prepare(args.annotations, args.videos, args.out,
                                                args.frames, workers=args.workers)
        elif args.dataset == "folder":
            from data_prep import folder
            lists, report = folder.prepare(args.root, args.out, args.videos, args.test_fraction,
                                           args.split_dir, args.seed, args.frames, args.flow,
                                           workers=args.workers)
        else:
            from data_prep import cub
            if not args.root:
                raise FileNotFoundError("CUB-200-2011: pass --root or set CUB_ROOT to the folder "
                                        "holding CUB_200_2011/")
            lists, report = cub.prepare(args.root, args.out, args.boxes), None
    except (OSError, ValueError) as e:
        log.error("prepare_data %s: %s", args.dataset, e)
        sys.exit(2)
    for name, path in sorted(lists.items()):
        print("%s %s" % (name, path))
    if report is not None and len(report):
        log.warning("%d item(s) skipped: see %s", len(report), report.path)


if __name__ == "__main__":
    main()
