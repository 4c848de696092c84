#!/usr/bin/env python
"""Trains one-vs-all linear SVMs (C = 100) on each representation's training
file, scores its test file, and writes the paper's metrics as a table.

    .venv/bin/python tools/evaluate.py --out runs/x/eval \
        --run GA runs/x/enc/ga_train.h5 runs/x/enc/ga_test.h5 \
        --run FV-VAE runs/x/fv_train.h5 runs/x/fv_test.h5 \
        --fuse "RGB+Flow=FV-VAE-rgb+FV-VAE-flow@0.5"

Writes OUT/results.md and OUT/results.csv (method, dimension, top-1, top-3,
mAP, SVM time) and, per method, scores, per-class accuracy and the confusion
matrix. --fuse NAME=A+B@W adds the late fusion W*A + (1-W)*B of two runs'
scores (two streams, or any external score file of the same test rows given
as --scores NAME FILE.npz).
"""
import argparse
import os



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", nargs=3, action="append", default=[],
                    metavar=("NAME", "TRAIN_H5", "TEST_H5"))
    ap.add_argument("--scores", nargs=2, action="append", default=[], metavar=("NAME", "NPZ"),
                    help="external per-class scores (npz: scores, labels) to fuse")
    ap.add_argument("--fuse", action="append", default=[], metavar="NAME=A+B@W")
    ap.add_argument("--classes", type=int, help="number of classes (default: from the labels)")
    ap.add_argument("--svm", choices=("auto", "linear", "kernel"), default="auto",
                    help="liblinear on the features or on the kernel map (same objective)")
    ap.add_argument("--class-names", help="classes.txt (`LABEL NAME` lines): names in the "
                    "per-class and confusion files")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    import numpy as np
    from fvvae.evaluation import metrics
    from fvvae.evaluation.classify import classify, write_details, write_results

    if not args.run and not args.scores:
        ap.error("give at least one --run or --scores")
    names = None
    if args.class_names:        # read (and the count checked) before any SVM trains
        from fvvae.data.input_check import InputError, read_class_names
        try:
            names = read_class_names(args.class_names)
        except InputError as e:
            ap.exit(2, "evaluate: %s\n" % e)
        if args.classes is not None and args.classes != len(names):
            ap.exit(2, "evaluate: %s names %d classes, --classes is %d\n"
                    % (args.class_names, len(names), args.classes))
        args.classes = len(names)
    os.makedirs(args.out, exist_ok=True)
    from fvvae.run.toollog import log_to
    log = log_to(os.path.join(args.out, "evaluate.log"), "evaluate")
    results, scored, trained = [], {}, {}
    for name, train, test in args.run:
        try:
            scores, labels, info = classify(train, test, args.classes, args.svm)
        except (OSError, ValueError) as e:
            ap.exit(2, "evaluate: %s: %s%s\n" % (name, e, " (%s names %d classes)" % (
                args.class_names, len(names)) if names else ""))
        scored[name] = (scores, labels, info["ids"])
        trained[name] = (info, train)
        results.append(dict(method=name, dimension=info["dim"], solver=info["solver"],
                            svm_seconds=info["svm_seconds"], **metrics.summary(scores, labels)))
        log.info("%s: %s", name, results[-1])
        print("%-14s dim %8d  top-1 %.2f%%  top-3 %.2f%%  mAP %.2f%%  (%s, %.1f s)" % (
            name, info["dim"], 100 * results[-1]["top1"], 100 * results[-1]["top3"],
            100 * results[-1]["map"], info["solver"], info["svm_seconds"]))
    for name, path in args.scores:
        try:
            z = np.load(path)
            scored[name] = (z["scores"], z["labels"], list(z["ids"]) if "ids" in z else None)
        except (OSError, ValueError, KeyError) as e:
            ap.exit(2, "evaluate: --scores %s %s: not a score file with 'scores' and "
                    "'labels' (%s)\n" % (name, path, e))
        results.append(dict(method=name, dimension=0, solver="scores file", svm_seconds=0.0,
                            **metrics.summary(scored[name][0], scored[name][1])))
    for spec in args.fuse:
        try:
            name, rest = spec.split("=", 1)
            pair, weight = rest.rsplit("@", 1)
            a, b = pair.rsplit("+", 1)
            (sa, la, _), (sb, lb, _) = scored[a], scored[b]
        except (ValueError, KeyError):
            ap.exit(2, "evaluate: --fuse %r: expected NAME=A+B@W over runs or scores given\n" % spec)
        if not np.array_equal(la, lb):
            ap.exit(2, "evaluate: --fuse %s: %s and %s score different test rows\n" % (name, a, b))
        fused = metrics.late_fusion(sa, sb, float(weight))
        scored[name] = (fused, la, scored[a][2])
        results.append(dict(method=name, dimension=0, solver="late fusion", svm_seconds=0.0,
                            **metrics.summary(fused, la)))
    if names:
        classes = {scores.shape[1] for scores, _, _ in scored.values()}
        if classes != {len(names)}:
            ap.exit(2, "evaluate: %s names %d classes, the scores have %s\n" % (
                args.class_names, len(names), " / ".join(str(c) for c in sorted(classes))))
    from fvvae.evaluation import classifier
    for name, (scores, labels, ids) in scored.items():
        write_details(args.out, name.replace("/", "_"), scores, labels,
                      ids if ids is not None else [], scores.shape[1], names)
        if name in trained:     # the SVMs to take away (tools/predict.py)
            info, train = trained[name]
            classifier.save(os.path.join(args.out, name.replace("/", "_") + "_svm.npz"),
                            *info["svm"], info, name, names, train)
    write_results(args.out, results)
    print("wrote %s" % os.path.join(args.out, "results.md"))


if __name__ == "__main__":
    main()
