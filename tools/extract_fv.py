#!/usr/bin/env python
"""Extracts one FV per image, or per video (the mean of its frames' FVs), from
cached descriptor sets with a trained FV-VAE extract net, into a
representation file (fvvae/data/representations.py): `features` (rows x C(K+1), as the net
gives them, FIM-scaled), `labels`, `ids`, and unless --no-normalize
`features_normalized` (signed square root, then L2). The attribute
`flatten_order` says where element [c, k] of the C x (K+1) FV lies in a row
(c*(K+1)+k; the authors' MATLAB code's is k*C+c: fvvae.model.fisher.to_authors_order).

    .venv/bin/python tools/extract_fv.py --net OUT/extract.prototxt \
        --weights OUT/fv_vae_fim.caffemodel --source OUT/descriptors_test.lmdb \
        --list test_frames.txt --out OUT/fv_test.h5

Resumable: rows are flushed as they are done and a re-run continues after the
last complete one.
"""
import argparse
import os

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", required=True)
    ap.add_argument("--weights", required=True, help="caffemodel with the FIM scale")
    ap.add_argument("--source", required=True, help="descriptor sets (LMDB)")
    ap.add_argument("--list", help="the image list of --source: one FV per GROUP (video)")
    ap.add_argument("--root", default="")
    ap.add_argument("--out", required=True, help="HDF5 file")
    ap.add_argument("--no-normalize", action="store_true",
                    help="keep only the raw (FIM-scaled) FVs")
    ap.add_argument("--compact", action="store_true",
                    help="store each FV as the classifier reads it: signed sqrt + L2, float16 "
                    "(fvvae.data.representations; half the bytes; implies --no-normalize)")
    ap.add_argument("--row-offset", type=int, default=0,
                    help="streaming: this chunk's rows go from this row of --out")
    ap.add_argument("--rows-total", type=int,
                    help="streaming: the rows of the whole file (default this run's)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--gpu", type=int, help="GPU id (CPU when absent)")
    ap.add_argument("--shard", help="i/N: only the i-th of N contiguous blocks of the rows "
                    "(videos or items), into OUT.shard-i-of-N; tools/merge_shards.py "
                    "combines them")
    args = ap.parse_args(argv)
    import caffe
    from fvvae.trunks.device import exit_unless_gpu
    exit_unless_gpu(ap, args.gpu, "extract_fv")
    import numpy as np
    from tqdm import tqdm
    from fvvae.data import representations
    from fvvae.model.fisher import group_fvs, open_extraction, record_flatten_order

    try:
        net, store, groups = open_extraction(caffe, args.net, args.weights, args.source,
                                             args.list, args.root, args.gpu, "extract_fv")
        if args.shard:
            from collections import OrderedDict
            from fvvae.run.shards import block, parse_shard, shard_path
            shard = parse_shard(args.shard)
            start, end = block(len(groups), *shard)
            groups = OrderedDict(list(groups.items())[start:end])
            args.out = shard_path(args.out, *shard)
    except (OSError, ValueError) as e:
        ap.exit(2, "extract_fv: %s\n" % e)
    from fvvae.run.toollog import log_to
    log = log_to(args.out + ".log", "extract_fv")
    dim = net.params["fv"][1].data.size
    rows, offset = len(groups), args.row_offset
    try:
        h5 = representations.create(args.out, args.rows_total or offset + rows, dim,
                             compact=args.compact,
                             with_normalized=not (args.no_normalize or args.compact))
        skip = representations.rows_to_skip(h5, args.out, offset, rows)
    except (OSError, ValueError) as e:
        ap.exit(2, "extract_fv: %s\n" % e)
    record_flatten_order(h5, net.blobs["data"].data.shape[1], dim)
    with h5:
        log.info("%d rows of %d from row %d, %d already done", rows, dim, offset, skip)
        for row, (key, label, fv) in enumerate(
                tqdm(group_fvs(net, store, groups, args.batch, skip=skip), total=rows,
                     initial=skip, desc="FV", unit="row"), start=offset + skip):
            representations.write_row(h5, row, key, label, fv)
    msg = "%d FVs of dimension %d in %s" % (rows, dim, args.out)
    log.info(msg)
    print(msg)


if __name__ == "__main__":
    main()
