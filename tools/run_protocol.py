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
import dataclasses
import logging
import os
import sys
import time

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    from fvvae.methods import ORDER, REPORT_ORDER
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

    from fvvae.evaluation import report
    from fvvae.trunks.device import exit_unless_gpu
    exit_unless_gpu(ap, args.gpu, "run_protocol")
    from fvvae.evaluation.paper import table_for
    from fvvae.run.protocol import Data, Protocol, ProtocolError
    from fvvae.data.input_check import InputError, check_inputs, inputs_stamp
    from fvvae.trunks.zoo import UnknownTrunk, resolve_trunk
    try:
        trunk = resolve_trunk(args.trunk) if args.trunk else None
    except UnknownTrunk as e:
        ap.exit(2, "run_protocol: --trunk: %s\n" % e)
    stamp = os.path.join(args.out, "inputs_checked.json")
    try:
        classes, names = check_inputs(
            args.train_list, args.test_list, args.classes, args.class_names,
            decode=not (args.no_decode_check or shard or inputs_stamp(stamp, args)),
            flow_length=trunk.in_channels // 2 if trunk and trunk.in_channels != 3 else 0)
    except InputError as e:
        ap.exit(2, "run_protocol: %s\n" % e)
    if not shard and not args.no_decode_check:     # a record of lists decoded completely
        inputs_stamp(stamp, args, write=True)
    # the codebooks fitted to the training descriptors there are
    from fvvae.trunks.descriptors import frame_descriptor_count
    from fvvae.data.image_list import read_list
    from fvvae.data.input_check import fit_bp, fit_budget, fit_codebooks
    per_item = frame_descriptor_count(trunk.map_size) if trunk and trunk.map_size == 7 else (
        trunk.map_size ** 2 if trunk else 50)
    train_items = len(read_list(args.train_list, check_files=False))
    n_desc = min(args.sample, per_item * train_items)
    codebook_notes, budget_notes = [], []
    if not args.exact_codebooks:
        args.fv_size, args.vlad_size, codebook_notes = fit_codebooks(
            args.fv_size, args.vlad_size, n_desc)
    args.bp_pca, bp_notes = fit_bp(args.bp_pca, trunk.channels if trunk else 0)
    codebook_notes += bp_notes
    if not args.exact_budget:
        args.iterations, budget_notes = fit_budget(
            args.iterations, args.batch, train_items)
    for note in codebook_notes + budget_notes:
        print("run_protocol: %s" % note, file=sys.stderr)
    s = ProtocolSettings(out=args.out, methods=[m.strip() for m in args.methods.split(",")],
                         sweep=args.sweep, lambda3=args.lambda3, gpu=args.gpu,
                         augment=args.augment, chunk=args.chunk, compact=args.compact,
                         shard=shard, side=args.side or "", shards=args.shards,
                         until=args.until or "",
                         **{k: getattr(args, k) for k in ("iterations", "batch", "latent",
                                                          "fv_size", "vlad_size", "bp_pca",
                                                          "sample", "seed")})
    data = Data(os.path.abspath(args.train_list), os.path.abspath(args.test_list), classes,
                args.trunk, args.weights, tuple(args.resize or ()), args.crop,
                grouped=not args.per_item, preprocess=args.preprocess,
                class_names=os.path.abspath(args.class_names) if args.class_names else "")
    os.makedirs(args.out, exist_ok=True)
    log_name = "run.log"
    if shard:           # the shards of a cluster run start together: each its own log
        log_name = os.path.join("shards", "%s-%d-of-%d.log" % ((args.side,) + shard))
        os.makedirs(os.path.join(args.out, "shards"), exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        handlers=[logging.FileHandler(os.path.join(args.out, log_name)),
                                  logging.StreamHandler()])
    log = logging.getLogger("fvvae.run_protocol")
    log.info("settings: %s; data: %s", dataclasses.asdict(s), dataclasses.asdict(data))
    start = time.time()
    from fvvae.run.stages import StageNotFinished
    try:
        p = Protocol(s, data, log_name=log_name)
        runs, encode_s, training = p.chain()
        if shard or s.until:
            log.info("%s done in %.0f s%s", "%s side, shard %d of %d" % ((s.side,) + shard)
                     if shard else "the training side and the models", time.time() - start,
                     "" if shard else "; the test side next (--shard I/N --side test, or a "
                     "run without --until)")
            return
        results = p.evaluate(runs, p.path("eval"))
        from fvvae.run.takeaway import save_manifest
        save_manifest(p, runs)      # tools/encode_items.py reads it
        sweep = p.sweep() if s.sweep else None
    except (ProtocolError, StageNotFinished, OSError, ValueError) as e:
        log.error("%s", e)
        sys.exit(1)
    paper, caption = table_for(args.dataset, args.trunk, args.variant)
    settings = [("lists", "%s (train), %s (test); %d classes" % (args.train_list, args.test_list,
                                                                classes)),
                ] + ([("classes", ", ".join("%d %s" % (i, n) for i, n in enumerate(names)))]
                     if names else []) + [
                ("trunk", "%s (%s)" % (args.trunk, args.weights or (
                    "embedded weights" if args.trunk.startswith("open_nsfw")
                    else "weights from its environment variable"))),
                ("FV-VAE", "K = %d, lambda3 = %g, %d AdaDelta iterations at batch %d%s"
                 % (s.latent, s.lambda3, s.iterations, s.batch,
                    "".join("; " + n for n in budget_notes))),
                ("FV / VLAD / BP", "%d Gaussians / %d centres / PCA %s, fitted on %d training "
                 "descriptors%s" % (s.fv_size, s.vlad_size, s.bp_pca or "none", n_desc,
                                    "".join("; " + n for n in codebook_notes))),
                ("classifier", "signed sqrt + L2, one-vs-all liblinear -s 3 -B 1 -c 100")]
    below = [(m, float(r["top1"])) for m, r in results.items()
             if float(r.get("top1_high") or r["top1"]) < 1.0 / classes]
    if below:       # flagged, with what is known to cause it (docs/own_data.md)
        settings.append(("below chance", "%s: the 95%% interval lies below chance (%.1f%%); "
                         "with few training items a codebook or an SVM fits the training rows "
                         "rather than the classes (docs/own_data.md): more training items or "
                         "smaller codebooks (--fv-size, --vlad-size) tell which" % (
                             ", ".join("%s %.1f%%" % (m, 100 * t) for m, t in below),
                             100.0 / classes)))
        log.warning("below chance: %s", settings[-1][1])
    md = report.write_report(args.out, args.title or "FV-VAE protocol: %s" % args.out, results,
                             encode_s, training, sweep, settings, paper, REPORT_ORDER,
                             time.time() - start, "The paper's columns: %s." % caption)
    print("\n".join(l for l in md.splitlines() if l.startswith("|")))
    log.info("report: %s", os.path.join(os.path.abspath(args.out), "REPORT.md"))


if __name__ == "__main__":
    main()
