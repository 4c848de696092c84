#!/usr/bin/env python
"""Where the SVM stage's time goes, and what holding the training rows in
memory saves (fvvae.evaluation.classify.classify, kernel path), at the evidence's shape:
N training and test rows of D dimensions, compact (float16, normalised) as
the protocol writes them.

    .venv/bin/python bench/svm_kernel.py [--rows 2000] [--dim 262144]

The named baseline is the streamed float64 path (both sides read from disk
block by block, the training side once for every test block: the path every
run took before); the new path reads each file once and multiplies in
float32. Both in one run, on the same files; the decisions of the two are
compared (they must agree). The bare GEMM rate of this machine (float32 and
float64, numpy's BLAS) is measured beside. Writes
bench/results/svm_kernel.{md,csv}.
"""
import argparse
import os
import tempfile
import time



def make_file(path, rows, dim, classes, seed, block=200):
    import numpy as np
    from fvvae.data import representations
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).random((classes, dim)).astype(np.float32)
    labels = np.arange(rows) % classes
    with representations.create(path, rows, dim, compact=True) as f:
        for r in range(rows):
            v = centres[labels[r]] + 2.0 * rng.random(dim, dtype=np.float32)
            representations.write_row(f, r, "item%d" % r, labels[r], v)


def gemm_rate(dtype, n=2000, k=16384):
    import numpy as np
    a = np.random.default_rng(0).random((n, k)).astype(dtype)
    a @ a[:200].T
    start = time.time()
    a @ a.T
    return 2.0 * n * n * k / (time.time() - start) / 1e9


def main():
    import numpy as np
    from fvvae.evaluation.classify import classify
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--dim", type=int, default=262144)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--workdir", default=tempfile.gettempdir())
    a = ap.parse_args()
    train = os.path.join(a.workdir, "svm_kernel_train.h5")
    test = os.path.join(a.workdir, "svm_kernel_test.h5")
    for path, seed in ((train, 1), (test, 2)):
        if os.path.exists(path):
            os.remove(path)
        make_file(path, a.rows, a.dim, a.classes, seed)
    rates = {"float32": gemm_rate(np.float32), "float64": gemm_rate(np.float64)}
    flop = 2.0 * a.rows * a.rows * a.dim * 1.5        # train (half, symmetric) + test
    got = {}
    for name, memory in (("streamed float64 (baseline)", 0), ("rows in memory, float32", 1 << 40)):
        start = time.time()
        scores, labels, info = classify(train, test, a.classes, "kernel", memory=memory)
        got[name] = (time.time() - start, np.argmax(scores, axis=1))
    base = got["streamed float64 (baseline)"]
    rows = []
    for name, (sec, pred) in got.items():
        rows.append((name, sec, flop / sec / 1e9, sec / base[0], float(np.mean(pred == base[1]))))
    os.makedirs(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"),
                exist_ok=True)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "svm_kernel")
    with open(out + ".csv", "w") as f:
        f.write("path,rows,dim,seconds,gflop_per_s,ratio_to_baseline,same_decisions\n")
        for r in rows:
            f.write("%s,%d,%d,%.1f,%.1f,%.3f,%.4f\n" % (r[0], a.rows, a.dim, *r[1:]))
    md = ["| path (%d train + %d test rows of %d dims, compact) | seconds | GFLOP/s of the "
          "kernels | time / baseline | same decisions as baseline |" % (a.rows, a.rows, a.dim),
          "| --- | --- | --- | --- | --- |"]
    md += ["| %s | %.1f | %.1f | %.3f | %.2f%% |" % (r[0], r[1], r[2], r[3], 100 * r[4])
           for r in rows]
    md += ["", "Bare GEMM on this machine (numpy's BLAS, 2000 x 16384 times its transpose): "
           "float32 %.1f GFLOP/s, float64 %.1f GFLOP/s." % (rates["float32"], rates["float64"])]
    with open(out + ".md", "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    for path in (train, test):
        os.remove(path)


if __name__ == "__main__":
    main()
