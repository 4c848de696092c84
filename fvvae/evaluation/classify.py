"""Classifies representation files with one-vs-all linear SVMs (fvvae.evaluation.svm) and
reports the paper's metrics (fvvae.evaluation.metrics) as Markdown and CSV tables."""
import csv
import os
import time

import numpy as np

from fvvae.data.representations import FeatureFile
from fvvae.evaluation import metrics
from fvvae.evaluation.classifier import primal_from_kernel_map
from fvvae.evaluation.svm import (KernelMapOneVsAll, LiblinearOneVsAll, check_classes,
                                  linear_kernel, load_rows)
from fvvae.files import atomic_write

# liblinear's nodes for the features themselves: 16 bytes a value; above this
# the kernel map is used (auto).
LINEAR_BYTES_LIMIT = 2 << 30
# the kernel path holds the training rows in memory as float32 up to 4 GiB
# (the evidence's 4,000 rows of 262,144 dims); above it (UCF101's 9.5K rows of
# 131,584 dims: 5 GB) both sides are streamed from disk, so that the SVM
# stage stays within bench/svm_memory.py's 8 GB
KERNEL_ROWS_BYTES = int(os.environ.get("FVVAE_SVM_ROWS_BYTES", 4 << 30))


def classify(train_path, test_path, classes=None, solver="auto", block=None,
             memory=KERNEL_ROWS_BYTES):
    """Returns (scores n_test x classes, test labels, info dict; info["svm"]
    is (W, b), the SVMs as one linear function of a normalised row,
    fvvae.evaluation.classifier). memory: the
    kernel path holds the training rows in memory (float32) up to this many
    bytes, else streams both sides from disk block by block (float64)."""
    train, test = FeatureFile(train_path), FeatureFile(test_path)
    if train.dim != test.dim:
        raise ValueError("%s has %d dimensions, %s has %d: not the same representation"
                         % (train_path, train.dim, test_path, test.dim))
    classes = classes or int(max(train.labels.max(), test.labels.max())) + 1
    check_classes(train.labels, test.labels, classes)
    if block is None:   # rows per streamed block: about 512 MB of float64
        block = int(max(16, min(1024, (64 << 20) // max(train.dim, 1))))
    if solver == "auto":
        solver = "linear" if 16 * train.rows * train.dim < LINEAR_BYTES_LIMIT else "kernel"
    start = time.time()
    if solver == "linear":
        x = train.all()
        model = LiblinearOneVsAll().fit(x, train.labels, classes)
        scores = model.decision(test.all())
        svm = (model.w[:, :-1], model.w[:, -1])
    elif solver == "kernel":
        # the training rows held in memory as float32 when they fit: each file
        # read once, single-precision products (bench/svm_kernel.py: 0.48x);
        # else both sides streamed from disk block by block in float64.
        # Eigenvalues below 1e-6 of the largest are float32 round-off, not
        # directions of the rows (a rank-300 kernel of 1,500 rows keeps 893 at
        # float64's 1e-10, exactly 300 at 1e-6)
        in_memory = 4 * train.rows * train.dim <= memory
        rows = load_rows(train, block) if in_memory else train
        dtype = np.float32 if in_memory else np.float64
        k_train = linear_kernel(rows, block=1024 if in_memory else block, dtype=dtype)
        model = KernelMapOneVsAll(rel_floor=1e-6 if in_memory else 1e-10).fit(
            k_train, train.labels, classes)
        del k_train
        scores = model.decision(linear_kernel(test, rows, block=block, dtype=dtype))
        # the same SVMs as one linear function of a row (fvvae.evaluation.classifier)
        svm = primal_from_kernel_map(model, rows, block)
        del rows
    else:
        raise ValueError("solver must be auto, linear or kernel, not %r" % solver)
    info = {"dim": train.dimension, "stored_dim": train.dim, "train_rows": train.rows, "test_rows": test.rows,
            "classes": classes, "solver": solver, "svm_seconds": time.time() - start,
            "block": block,
            "ids": test.ids, "svm": svm}
    return scores, test.labels, info


def write_csv(path, rows, fields):
    """The results writer: one row a method, floats to 6 decimals, a missing
    value empty; written atomically. eval/results.csv (write_results) and a
    run's results.csv (fvvae.evaluation.report) both come through it."""
    lines = [",".join(fields)]
    for r in rows:
        lines.append(",".join(str(r.get(k, "")) if not isinstance(r.get(k), float)
                              else "%.6f" % r[k] for k in fields))
    atomic_write(path, "\n".join(lines) + "\n")


def write_results(out_dir, rows, paper=None):
    """rows: dicts with name, dim, top1, top3, map, svm_seconds. Writes
    results.csv and results.md (with the paper's numbers beside ours when
    given: {name: (dimension, accuracy)})."""
    os.makedirs(out_dir, exist_ok=True)
    write_csv(os.path.join(out_dir, "results.csv"), rows,
              ["method", "dimension", "top1", "top3", "map", "svm_seconds", "solver",
               "top1_low", "top1_high", "test_items"])
    head = "| method | dimension | top-1 (95% interval) | top-3 | mAP | SVM time (s) |"
    sep = "| --- | --- | --- | --- | --- | --- |"
    if paper:
        head += " paper: dimension | paper: top-1 |"
        sep += " --- | --- |"
    md = [head, sep]
    for r in rows:
        line = "| %s | %s | %s | %.2f%% | %.2f%% | %.1f |" % (
            r["method"], r["dimension"] or "-",
            metrics.accuracy_cell(r["top1"], r.get("top1_low"), r.get("top1_high")),
            100 * r["top3"], 100 * r["map"], r.get("svm_seconds", 0.0))
        if paper:
            p = paper.get(r["method"])
            line += " %s | %s |" % (p if p else ("", ""))
        md.append(line)
    n = max((r.get("test_items", 0) for r in rows), default=0)
    md += ["", "Top-1 with its 95%% Wilson score interval over the %d test items (a binomial "
           "interval: the spread a test set of this size gives)." % n]
    atomic_write(os.path.join(out_dir, "results.md"), "\n".join(md) + "\n")


def write_details(out_dir, name, scores, labels, ids, classes, names=None):
    """Scores, per-class accuracy and the confusion matrix of one method
    (rows: the true class, columns: the predicted; with `names` both carry
    the class names)."""
    os.makedirs(out_dir, exist_ok=True)
    np.savez(os.path.join(out_dir, name + "_scores.tmp.npz"), scores=scores, labels=labels,
             ids=np.asarray(ids))
    os.replace(os.path.join(out_dir, name + "_scores.tmp.npz"),
               os.path.join(out_dir, name + "_scores.npz"))
    cm = metrics.confusion_matrix(scores, labels, classes)
    acc = metrics.per_class_accuracy(cm)
    label = (lambda c: names[c]) if names else str
    atomic_write(os.path.join(out_dir, name + "_per_class.csv"),
                 "class,%stest_examples,accuracy\n" % ("name," if names else "") + "".join(
                     "%d,%s%d,%s\n" % (c, ('"%s",' % label(c).replace('"', '""')) if names
                                       else "", cm[c].sum(),
                                       "" if np.isnan(acc[c]) else "%.6f" % acc[c])
                     for c in range(classes)))
    with open(os.path.join(out_dir, name + "_confusion.csv.tmp"), "w", newline="") as f:
        w = csv.writer(f)
        if names:
            w.writerow(["true \\ predicted"] + list(names))
            w.writerows([names[c]] + row for c, row in enumerate(cm.tolist()))
        else:
            w.writerows(cm.tolist())
    os.replace(os.path.join(out_dir, name + "_confusion.csv.tmp"),
               os.path.join(out_dir, name + "_confusion.csv"))
