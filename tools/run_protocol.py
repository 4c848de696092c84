#!/usr/bin/env python
"""The paper's protocol on a train and a test list (what scripts/ucf101.sh,
activitynet.sh and cub200.sh run after preparing their data): descriptors
from a trunk, the six baselines, FV-VAE- and FV-VAE (caffe train, FIM, FVs),
one-vs-all liblinear SVMs (C = 100), and OUT/REPORT.md with the paper's
numbers beside; the table is also printed.

    .venv/bin/python tools/run_protocol.py --train-list prep/split1_rgb_train.txt \
        --test-list prep/split1_rgb_test_10crop.txt --trunk vgg19_pool5 \
        --weights VGG_ILSVRC_19_layers.caffemodel --dataset ucf101 --out runs/ucf101_s1_rgb

Lists: `PATH LABEL [GROUP [CROP]]`; with GROUP (videos) every representation
of a video is the mean over its frames (and crops). Re-running reuses the
finished stages; an interrupted run resumes.
"""
import argparse
import os
import sys

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    from fvvae.methods import ORDER
    from fvvae.run.settings import ProtocolSettings, add_settings_options
    d = ProtocolSettings()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train-list", required=True)
    ap.add_argument("--test-list", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--trunk", default="vgg19_pool5")
    ap.add_argument("--weights", default="", help="the trunk's caffemodel (else its env variable)")
    ap.add_argument("--resize", type=int, nargs=2, metavar=("H", "W"))
    ap.add_argument("--crop", type=int, default=0)
    ap.add_argument("--preprocess", default="caffe", choices=("caffe", "authors"),
                    help="caffe (default): OpenCV resize, the trunk's mean (Caffe's ImageData, "
                    "the authors' training); authors: their extraction code's MATLAB imresize "
                    "and mean 104/117/123 (fvvae.data.preprocess)")
    ap.add_argument("--classes", type=int, help="default: --class-names' count, else the largest "
                    "label + 1")
    ap.add_argument("--class-names", help="classes.txt (`LABEL NAME` a line, labels 0 .. N-1): "
                    "the class count and the names in the per-class and confusion files")
    ap.add_argument("--exact-codebooks", action="store_true",
                    help="keep --fv-size and --vlad-size even where the training descriptors "
                    "are too few for them (benchmarks of the paper's sizes on small data); by "
                    "default each is halved until a component has 64 descriptors")
    ap.add_argument("--no-decode-check", action="store_true",
                    help="skip decoding every image before the run (the labels, classes and "
                    "files are still checked; a run whose lists did not change skips it anyway)")
    ap.add_argument("--per-item", action="store_true",
                    help="one row per list item, ignoring GROUP (images)")
    ap.add_argument("--dataset", default="", choices=("", "ucf101", "activitynet", "cub"),
                    help="whose paper table to print beside ours")
    ap.add_argument("--variant", default="", help="paper table variant (cub: 'box'; "
                    "ucf101: 'fine-tuned')")
    ap.add_argument("--title", default="")
    ap.add_argument("--methods", default=",".join(ORDER),
                    help="comma-separated subset of %s" % ", ".join(ORDER))
    from fvvae.data.input_check import BP_PCA, MAX_EPOCHS
    add_settings_options(ap, d, fitted={"bp_pca": "%d when the trunk has more than %d channels, "
                                        "else 0" % (BP_PCA, BP_PCA)})
    ap.add_argument("--exact-budget", action="store_true",
                    help="keep --iterations even where it is more than %d epochs of the training "
                    "descriptor sets (by default it is capped there)" % MAX_EPOCHS)
    ap.add_argument("--augment", action="store_true",
                    help="also FV-VAE- and FV-VAE trained with the trunk in the graph on "
                         "shuffled, randomly cropped, mirrored images (rows '+aug')")
    ap.add_argument("--sweep", action="store_true", help="also Figure 4(a)'s dimension sweep "
                    "(keeps every store)")
    ap.add_argument("--chunk", type=int, default=20,
                    help="stream the stores this many videos (images with --per-item) at a "
                    "time, keeping only the training sets (fvvae.run.streaming); 0 keeps every "
                    "store (default 20)")
    ap.add_argument("--no-compact", dest="compact", action="store_false",
                    help="float32 representation files as the methods give them (default: "
                    "compact, normalised float16, BP folded; fvvae.data.representations)")
    ap.add_argument("--shard", metavar="I/N",
                    help="run only the I-th of N blocks of the streamed chunks of --side, into "
                    "OUT/shards/ (a task of a cluster job array: scripts/slurm_protocol.sh); "
                    "nothing else runs")
    ap.add_argument("--side", choices=("train", "test"), help="which streamed side --shard does")
    ap.add_argument("--shards", type=int, default=0, metavar="N",
                    help="the streamed stages take their rows from N finished shards")
    ap.add_argument("--until", choices=("models",), help="models: stop after the training "
                    "side and the models, before the test side")
    args = ap.parse_args(argv)
    shard = ()
    if args.shard:
        from fvvae.run.shards import parse_shard
        try:
            shard = parse_shard(args.shard)
        except ValueError as e:
            ap.error(str(e))
        if not args.side:
            ap.error("--shard needs --side train or --side test")

    from fvvae.trunks.device import exit_unless_gpu
    exit_unless_gpu(ap, args.gpu, "run_protocol")
    from fvvae.run.protocol_run import RunInputError, run
    try:
        sys.exit(run(args, shard))
    except RunInputError as e:
        ap.exit(2, "run_protocol: %s\n" % e)


if __name__ == "__main__":
    main()
