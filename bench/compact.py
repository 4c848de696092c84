#!/usr/bin/env python
"""What compact representation files (fvvae.data.representations: rows stored normalised,
in float16, BP's symmetric matrix folded) change in the SVM results, measured
against the float32 files of one run (baseline: the same run's float32 rows).

    .venv/bin/python bench/compact.py [--run runs/demo] [--classes 20]

For each of Table 2's methods in the run, writes a compact copy of its train
and test files, classifies both copies and the originals with the same
one-vs-all SVMs (fvvae.evaluation.classify.classify), and reports top-1 of each, the
share of test items predicted the same, the largest difference of a decision
score, and the bytes on disk of each. Writes bench/results/compact.{csv,md}.
"""
import argparse
import csv
import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# method -> folder of the run holding METHOD_{train,test}.h5 / fv_{train,test}.h5
FOLDERS = [("GA", "encodings/ga", "ga"), ("Concatenation", "encodings/concat", "concat"),
           ("AVE", "encodings/ave", "ave"), ("FV", "encodings/fv128", "fv"),
           ("VLAD", "encodings/vlad256", "vlad"), ("BP", "encodings/bp", "bp"),
           ("FV-VAE⁻", "fvvae_minus_k255", "fv"), ("FV-VAE", "fvvae_full_k255", "fv")]


def compact_copy(src, dst, symmetric, block=64):
    """src's rows into a compact file dst (fvvae.data.representations.create), in blocks."""
    import h5py
    from fvvae.data import representations
    with h5py.File(src, "r") as f:
        rows, dim = f["features"].shape
        labels, ids = f["labels"][:], list(f["ids"].asstr()[:])
        if os.path.exists(dst):
            os.remove(dst)
        with representations.create(dst, rows, dim, compact=True, symmetric=symmetric) as out:
            for start in range(0, rows, block):
                stop = min(rows, start + block)
                x = f["features"][start:stop]
                for r in range(start, stop):
                    representations.write_row(out, r, ids[r], labels[r], x[r - start])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", default=os.path.join(ROOT, "runs", "demo"))
    ap.add_argument("--classes", type=int, default=0)
    ap.add_argument("--work", default="/tmp/fvvae_compact_bench")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = ap.parse_args(argv)
    import numpy as np
    from fvvae.evaluation.classify import classify
    os.makedirs(args.work, exist_ok=True)
    rows = []
    for name, folder, prefix in FOLDERS:
        files = [os.path.join(args.run, folder, "%s_%s.h5" % (prefix, s)) for s in ("train", "test")]
        if not all(os.path.exists(f) for f in files):
            print("%s: no files in %s, left out" % (name, os.path.join(args.run, folder)))
            continue
        compact = [os.path.join(args.work, "%s_%s.h5" % (prefix + folder.replace("/", "_"), s))
                   for s in ("train", "test")]
        t0 = time.time()
        for src, dst in zip(files, compact):
            compact_copy(src, dst, symmetric=name == "BP")
        write_s = time.time() - t0
        full, labels, info = classify(*files, classes=args.classes or None)
        small, labels2, info2 = classify(*compact, classes=args.classes or None)
        assert (labels == labels2).all()
        top1 = float((full.argmax(1) == labels).mean())
        top1c = float((small.argmax(1) == labels).mean())
        size = sum(os.path.getsize(f) for f in files)
        size_c = sum(os.path.getsize(f) for f in compact)
        rows.append({"method": name, "dimension": info["dim"], "stored_dim": info2["stored_dim"],
                     "top1_float32": round(top1, 4), "top1_compact": round(top1c, 4),
                     "same_prediction": round(float((full.argmax(1) == small.argmax(1)).mean()), 4),
                     "max_score_diff": float("%.3g" % np.abs(full - small).max()),
                     "bytes_float32": size, "bytes_compact": size_c,
                     "ratio": round(size_c / float(size), 3), "compact_write_s": round(write_s, 1)})
        print(rows[-1])
        for f in compact:
            os.remove(f)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "compact.csv.tmp"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    os.replace(os.path.join(args.out, "compact.csv.tmp"), os.path.join(args.out, "compact.csv"))
    md = ["# Compact representation files against float32 (%s, %s)" % (
              os.path.relpath(args.run, ROOT), time.strftime("%Y-%m-%d")), "",
          "| method | dimension | stored | top-1 float32 | top-1 compact | same prediction "
          "| max score diff | bytes ratio |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    md += ["| %(method)s | %(dimension)d | %(stored_dim)d | %(top1_float32).4f | %(top1_compact).4f "
           "| %(same_prediction).4f | %(max_score_diff)g | %(ratio).3f |" % r for r in rows]
    with open(os.path.join(args.out, "compact.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
