#!/usr/bin/env python
"""Encodes cached descriptor sets, maps or global activations with one of the
paper's baselines (GA, Concatenation, AVE, FV, VLAD, BP) into representation
files for tools/evaluate.py: OUT/METHOD_train.h5 and OUT/METHOD_test.h5.

    .venv/bin/python tools/encode.py --method fv --train runs/x/sets_train.lmdb \
        --test runs/x/sets_test.lmdb --train-list train.txt --test-list test.txt --out runs/x/enc

--train/--test name the store the method reads: descriptor sets (fv, vlad,
bp), maps (concat, ave: extract_descriptors --maps) or global activations (ga:
extract_descriptors --global). With lists (PATH LABEL GROUP), one row per
video: the mean of its frames' representations. FV's GMM and VLAD's centres
are fitted on training descriptors only and saved in OUT/METHOD_codebook.npz.
Resumable: finished rows are kept.

Streaming (fvvae.run.streamed, chunks of whole videos): `--only train` writes the
training rows (and fits the codebook); `--only test --test CHUNK_STORE
--test-out FILE` encodes one chunk's test rows with the saved codebook.
--compact stores rows normalised in float16 (fvvae.data.representations).
"""
import argparse
import os

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    from fvvae.baselines import DEFAULT_SIZE, codebook_for
    from fvvae.methods import BY_KEY
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--method", required=True, choices=list(BY_KEY))
    ap.add_argument("--train", help="training store (LMDB)")
    ap.add_argument("--test", help="test store (LMDB)")
    ap.add_argument("--only", choices=("train", "test"),
                    help="write one split's rows only (test: with OUT's saved codebook)")
    ap.add_argument("--train-out", help="the training rows' file (default OUT/METHOD_train.h5)")
    ap.add_argument("--test-out", help="the test rows' file (default OUT/METHOD_test.h5)")
    ap.add_argument("--row-offset", type=int, default=0,
                    help="streaming: this chunk's rows go from this row of the output file")
    ap.add_argument("--rows-total", type=int,
                    help="streaming: the rows of the whole output file (default this run's)")
    ap.add_argument("--compact", action="store_true",
                    help="rows stored as the classifier reads them, float16 (fvvae.data.representations)")
    ap.add_argument("--train-list", help="image list of --train, for per-video rows")
    ap.add_argument("--test-list", help="image list of --test")
    ap.add_argument("--root", default="")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--size", type=int, help="GMM components (fv, 128) or centres (vlad, 256)")
    ap.add_argument("--sample", type=int, default=100000,
                    help="training descriptors the GMM / k-means are fitted on")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pca", type=int, help="fv, vlad, bp: first reduce the descriptors to this "
                    "many dimensions by PCA fitted on training descriptors (matched dimensions)")
    args = ap.parse_args(argv)
    splits = [args.only] if args.only else ["train", "test"]
    for split in splits:
        if not getattr(args, split):
            ap.error("--%s is required%s" % (split, " with --only %s" % split if args.only else ""))
    from fvvae.baselines import encode_rows, open_stores
    from fvvae.methods import BY_KEY as methods
    os.makedirs(args.out, exist_ok=True)
    from fvvae.run.toollog import log_to
    log = log_to(os.path.join(args.out, "encode.log"), "encode")
    if args.pca and methods[args.method].store != "sets":
        ap.exit(2, "encode: --pca applies to descriptor sets (fv, vlad, bp)\n")
    try:
        stores = open_stores(args.method, {sp: (getattr(args, sp), getattr(args, sp + "_list"))
                                           for sp in splits}, args.root)
        codebook = None
        if args.method in DEFAULT_SIZE or args.pca:
            codebook = codebook_for(args.method, args.out,
                                    args.size or DEFAULT_SIZE.get(args.method, 0),
                                    args.pca or 0, args.seed, args.sample, args.train,
                                    stores.get("train", (None,))[0], fit=args.only != "test")
        for split in splits:
            store, groups = stores[split]
            path = (getattr(args, split + "_out")
                    or os.path.join(args.out, "%s_%s.h5" % (args.method, split)))
            dim = encode_rows(args.method, store, groups, codebook, path, args.row_offset,
                              args.rows_total, args.compact, "%s %s" % (args.method, split))
            log.info("%s %s: %d rows of %d dims in %s", args.method, split, len(groups), dim, path)
            print("%s %s: %d x %d -> %s" % (args.method, split, len(groups), dim, path))
    except (OSError, ValueError) as e:
        ap.exit(2, "encode: %s\n" % e)

if __name__ == "__main__":
    main()
