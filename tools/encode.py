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
    import numpy as np
    from tqdm import tqdm
    from fvvae.data import representations
    from fvvae.data.descriptor_store import DescriptorStore
    from fvvae.baselines import encode
    from fvvae.model.fisher import groups_of
    from fvvae.data.image_list import read_list

    os.makedirs(args.out, exist_ok=True)
    from fvvae.run.toollog import log_to
    log = log_to(os.path.join(args.out, "encode.log"), "encode")
    try:
        stores, opened = {}, {}
        for split in splits:
            path = getattr(args, split)
            if not os.path.isdir(path):
                raise FileNotFoundError("%s (--%s): no such LMDB folder" % (path, split))
            key = os.path.realpath(path)       # one handle per LMDB (it allows no second)
            store = opened.setdefault(key, None) or DescriptorStore(path, readonly=True)
            opened[key] = store
            lst = getattr(args, split + "_list")
            items = read_list(lst, args.root, check_files=False) if lst else None
            stores[split] = (store, groups_of(sorted(store.done_indices()), items))
            if not stores[split][1]:
                raise ValueError("%s (--%s) is empty" % (path, split))
        shapes = {s: stores[s][0].read(next(iter(stores[s][1].values()))[0])[0].shape
                  for s in stores}
        if len(shapes) == 2 and shapes["train"] != shapes["test"]:
            raise ValueError("train items are %s, test items %s: not the same trunk / mode"
                             % (shapes["train"], shapes["test"]))
        kind = BY_KEY[args.method].store
        first = splits[0]
        t = int(np.prod(shapes[first][1:]))
        if kind == "sets" and t < 2 or kind == "global" and t != 1:
            raise ValueError("%s reads %s, but the items of %s are %s" % (
                args.method, {"sets": "descriptor sets", "global": "global activations",
                              "maps": "maps"}[kind], getattr(args, first), shapes[first]))
    except (OSError, ValueError) as e:
        ap.exit(2, "encode: %s\n" % e)

    codebook = None
    if args.pca and kind != "sets":
        ap.exit(2, "encode: --pca applies to descriptor sets (fv, vlad, bp)\n")
    if args.method in DEFAULT_SIZE or args.pca:
        size = args.size or DEFAULT_SIZE.get(args.method, 0)
        try:
            codebook = codebook_for(args.method, args.out, size, args.pca or 0, args.seed,
                                    args.sample, args.train, stores.get("train", (None,))[0],
                                    fit=args.only != "test")
        except ValueError as e:
            ap.exit(2, "encode: %s\n" % e)

    for split in splits:
        store, groups = stores[split]
        first = encode(args.method, store.read(next(iter(groups.values()))[0])[0], codebook)
        path = (getattr(args, split + "_out")
                or os.path.join(args.out, "%s_%s.h5" % (args.method, split)))
        offset = args.row_offset
        try:
            h5 = representations.create(path, args.rows_total or offset + len(groups), first.size,
                                 compact=args.compact, symmetric=args.method == "bp")
            skip = representations.rows_to_skip(h5, path, offset, len(groups))
        except (OSError, ValueError) as e:
            ap.exit(2, "encode: %s\n" % e)
        with h5:
            for row, (key, indices) in enumerate(
                    tqdm(list(groups.items())[skip:], initial=skip, total=len(groups),
                         desc="%s %s" % (args.method, split)), start=offset + skip):
                # the video's row: the mean of its frames' (crops') rows, summed as
                # they come (BP at C = 2048 is 16 MB a frame, 250 crops a video)
                total, label = np.zeros(first.size, np.float64), None
                for i in indices:
                    x, label = store.read(i)
                    try:
                        total += encode(args.method, x, codebook)
                    except ValueError as e:
                        ap.exit(2, "encode: %s item %d: %s\n" % (store.path, i, e))
                representations.write_row(h5, row, key, label,
                                   (total / len(indices)).astype(np.float32))
        log.info("%s %s: %d rows of %d dims in %s", args.method, split, len(groups),
                 first.size, path)
        print("%s %s: %d x %d -> %s" % (args.method, split, len(groups), first.size, path))


if __name__ == "__main__":
    main()
