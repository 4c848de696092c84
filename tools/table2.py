#!/usr/bin/env python
"""One command from cached activations of a train and a test split to the
paper's Table 2: encodes GA, Concatenation, AVE, FV, VLAD and BP
(tools/encode.py), then classifies them with FV-VAE (and FV-VAE-, from
tools/extract_fv.py) by one-vs-all liblinear SVMs (tools/evaluate.py).

    .venv/bin/python tools/table2.py --activations runs/x/activations \
        --fv-vae runs/x/fv_train.h5 runs/x/fv_test.h5 \
        --train-list train.txt --test-list test.txt --out runs/x/table2

--activations holds what tools/extract_descriptors.py wrote for both splits:
sets_{train,test}.lmdb (descriptor sets), maps_{train,test}.lmdb (--maps) and
global_{train,test}.lmdb (--global); a method whose store is missing is left
out with a note. Writes OUT/results.md and OUT/results.csv.
"""
import argparse
import os
import subprocess
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--activations", required=True)
    ap.add_argument("--fv-vae", nargs=2, metavar=("TRAIN_H5", "TEST_H5"))
    ap.add_argument("--fv-vae-minus", nargs=2, metavar=("TRAIN_H5", "TEST_H5"))
    ap.add_argument("--train-list", help="per-video rows: the lists with GROUP columns")
    ap.add_argument("--test-list")
    ap.add_argument("--out", required=True)
    ap.add_argument("--fv-size", type=int, default=128)
    ap.add_argument("--vlad-size", type=int, default=256)
    ap.add_argument("--bp-pca", type=int, default=0, help="PCA of descriptors before BP (0: none)")
    ap.add_argument("--sample", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--classes", type=int)
    args = ap.parse_args(argv)

    def run(tool, *a):
        res = subprocess.run([sys.executable, os.path.join(TOOLS, tool)] + [str(x) for x in a])
        if res.returncode:
            ap.exit(res.returncode, "table2: %s failed\n" % tool)

    runs = []
    from fvvae.methods import BASELINE_METHODS
    for m in BASELINE_METHODS:
        name, method, kind = m.name, m.key, m.store
        train, test = (os.path.join(args.activations, "%s_%s.lmdb" % (kind, s))
                       for s in ("train", "test"))
        if not (os.path.isdir(train) and os.path.isdir(test)):
            print("table2: %s left out: no %s and %s" % (name, train, test))
            continue
        extra = {"fv": ["--size", args.fv_size], "vlad": ["--size", args.vlad_size],
                 "bp": ["--pca", args.bp_pca] if args.bp_pca else []}.get(method, [])
        lists = (["--train-list", args.train_list] if args.train_list else []) + \
                (["--test-list", args.test_list] if args.test_list else [])
        folder = os.path.join(args.out, "encodings")
        run("encode.py", "--method", method, "--train", train, "--test", test, "--out", folder,
            "--sample", args.sample, "--seed", args.seed, *(extra + lists))
        runs += ["--run", name] + [os.path.join(folder, "%s_%s.h5" % (method, s))
                                   for s in ("train", "test")]
    for name, files in (("FV-VAE⁻", args.fv_vae_minus), ("FV-VAE", args.fv_vae)):
        if files:
            runs += ["--run", name] + list(files)
    if not runs:
        ap.exit(2, "table2: nothing to evaluate in %s\n" % args.activations)
    run("evaluate.py", "--out", args.out, *(runs + (["--classes", args.classes]
                                                    if args.classes else [])))


if __name__ == "__main__":
    main()
