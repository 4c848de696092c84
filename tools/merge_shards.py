#!/usr/bin/env python
"""Merges the outputs of a sharded run (`--shard i/N` of
tools/extract_descriptors.py or tools/extract_fv.py) into the output an
unsharded run writes, checking that no shard is missing or incomplete.

    .venv/bin/python tools/merge_shards.py --kind lmdb --out runs/x/sets_train.lmdb --shards 4 \
        --list train.txt
    .venv/bin/python tools/merge_shards.py --kind h5 --out runs/x/fv_train.h5 --shards 4
"""
import argparse



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=("lmdb", "h5"), required=True,
                    help="descriptor stores (LMDB) or representation files (HDF5)")
    ap.add_argument("--out", required=True, help="the path the shards were named after")
    ap.add_argument("--shards", type=int, required=True)
    ap.add_argument("--list", help="lmdb: the list extracted, to check every item is there")
    args = ap.parse_args(argv)
    from fvvae.run import shards
    try:
        if args.kind == "lmdb":
            expected = None
            if args.list:
                from fvvae.data.image_list import read_list
                expected = len(read_list(args.list, check_files=False))
            n = shards.merge_stores(args.out, args.shards, expected)
        else:
            n = shards.merge_features(args.out, args.shards)
    except (OSError, ValueError) as e:
        ap.exit(2, "merge_shards: %s\n" % e)
    print("%d items from %d shards in %s" % (n, args.shards, args.out))


if __name__ == "__main__":
    main()
