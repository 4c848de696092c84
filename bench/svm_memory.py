#!/usr/bin/env python
"""Peak memory (and time) of the SVM stage at UCF101 shape: 9.5K training and
3.7K test vectors of 131,584 dimensions (FV-VAE's raw FV), 101 classes.

    .venv/bin/python bench/svm_memory.py [--workdir /tmp/fvvae_svm_bench]

Random non-negative features are written to two representation files (5.0 GB
and 1.9 GB of float32) and classified by fvvae.evaluation.classify.classify with the
kernel-map solver, exactly as tools/evaluate.py does. The named baseline is
liblinear on the features themselves: its nodes alone take 16 bytes a value
(16 N D), which the run reports beside the measured peak. The classes are
trained one after another (each keeps N + 1 weights), so memory does not grow
with them. The labels are random: the accuracy is chance, only memory and
time are the point. Writes bench/results/svm_memory.{md,csv}.
"""
import argparse
import os
import resource
import time



def make_file(path, rows, dims, classes, seed, block=256):
    import numpy as np
    from fvvae.data import representations
    rng = np.random.default_rng(seed)
    labels = np.arange(rows) % classes
    with representations.create(path, rows, dims) as f:
        for start in range(0, rows, block):
            stop = min(rows, start + block)
            f["features"][start:stop] = rng.random((stop - start, dims), dtype=np.float32) ** 4
        f["labels"][:] = labels
        f["ids"][:] = ["r%d" % i for i in range(rows)]
        f.attrs["done"] = rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train-rows", type=int, default=9500)
    ap.add_argument("--test-rows", type=int, default=3700)
    ap.add_argument("--dims", type=int, default=131584)
    ap.add_argument("--classes", type=int, default=101)
    ap.add_argument("--workdir", default="/tmp/fvvae_svm_bench")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "results"))
    args = ap.parse_args(argv)
    import numpy as np
    from fvvae.evaluation import classify
    from fvvae.evaluation import metrics
    os.makedirs(args.workdir, exist_ok=True)
    train, test = (os.path.join(args.workdir, n) for n in ("train.h5", "test.h5"))
    t0 = time.time()
    for path, rows, seed in ((train, args.train_rows, 0), (test, args.test_rows, 1)):
        if not os.path.exists(path):
            make_file(path, rows, args.dims, args.classes, seed)
    gen = time.time() - t0
    t0 = time.time()
    scores, labels, info = classify.classify(train, test, args.classes, "kernel")
    seconds = time.time() - t0
    top1 = metrics.top_k_accuracy(scores, labels, 1)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    baseline_gb = 16.0 * args.train_rows * args.dims / 1e9
    row = dict(train_rows=args.train_rows, test_rows=args.test_rows, dims=args.dims,
               classes=args.classes,
               peak_rss_gb=peak_gb, liblinear_nodes_gb=baseline_gb,
               ratio=peak_gb / baseline_gb, svm_seconds=seconds, data_seconds=gen,
               block_rows=info["block"], top1_random_labels=top1)
    os.makedirs(args.out, exist_ok=True)
    keys = list(row)
    with open(os.path.join(args.out, "svm_memory.csv"), "w") as f:
        f.write(",".join(keys) + "\n" + ",".join(
            "%.4g" % row[k] if isinstance(row[k], float) else str(row[k]) for k in keys) + "\n")
    md = ("| train x dims | test | classes | peak RSS | liblinear's nodes (baseline) "
          "| ratio | SVM stage time |\n| --- | --- | --- | --- | --- | --- | --- |\n"
          "| %d x %d | %d | %d | %.2f GB | %.1f GB | %.3f | %.0f s |\n" % (
              args.train_rows, args.dims, args.test_rows, args.classes,
              peak_gb, baseline_gb, row["ratio"], seconds))
    with open(os.path.join(args.out, "svm_memory.md"), "w") as f:
        f.write(md)
    print(md)



if __name__ == "__main__":
    main()
