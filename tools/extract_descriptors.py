#!/usr/bin/env python
"""Runs a trunk over an image/frame list and writes the descriptor sets
(N x C x 1 x T Datums) and labels to LMDB, for training on cached descriptors.

    .venv/bin/python tools/extract_descriptors.py --trunk open_nsfw \
        --list frames.txt --root DATA/ --out runs/x/descriptors_train.lmdb

List lines: `PATH LABEL [GROUP [CROP]]` (CROP: tools/ten_crop_list.py); for the
flow trunk PATH is the first flow_x_NNNNN.jpg of a stack. Resumable: items already in OUT are skipped,
and each batch is committed at once. Progress on the terminal, log in OUT.log.
"""
import argparse
import os


os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trunk", default="open_nsfw",
                    help="vgg19_pool5, vgg19_conv5_4, resnet152_res5c or open_nsfw (embedded)")
    ap.add_argument("--weights", help="the trunk's caffemodel (else its environment variable)")
    ap.add_argument("--list", required=True, help="image list: PATH LABEL [GROUP] per line")
    ap.add_argument("--root", default="", help="folder the list's paths are relative to")
    ap.add_argument("--out", required=True, help="output LMDB folder")
    ap.add_argument("--mode", choices=("frame", "image"),
                    help="descriptor sets: frame (SPP, 50) or image (every position); "
                         "default frame for 7x7 maps, image for 28x28")
    ap.add_argument("--resize", type=int, nargs=2, metavar=("H", "W"),
                    help="resize before cropping (default 240 320 at 224 input, else input size)")
    ap.add_argument("--crop", type=int, help="centre crop (default the trunk's input size)")
    ap.add_argument("--preprocess", default="caffe", choices=("caffe", "authors"),
                    help="caffe (default): OpenCV bilinear resize without antialiasing, as "
                    "Caffe's ImageData and the authors' training, and the trunk's mean; "
                    "authors: the authors' extraction code, MATLAB imresize bilinear "
                    "(antialiased) and the mean 104 / 117 / 123 (fvvae.data.preprocess)")
    ap.add_argument("--norm-scale", type=float, default=158.0,
                    help="frame mode: the whole-map L2 norm after normalisation (authors: 158)")
    ap.add_argument("--maps", help="also store the raw activation maps (C x H x W) in this "
                    "LMDB: the Concatenation and AVE baselines")
    ap.add_argument("--global", dest="global_out", help="also store the trunk's global "
                    "activation (VGG_19 fc7; global average pooling otherwise) in this LMDB: GA")
    ap.add_argument("--shuffle", type=int, metavar="SEED",
                    help="write OUT's records in one seeded random order (a training store: "
                         "Caffe's Data layer reads in key order, and lists are sorted by class)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--workers", type=int, help="threads reading and resizing the next "
                    "batches' images while the net runs (fvvae.data.loader; default the cores, "
                    "at most 8)")
    ap.add_argument("--gpu", type=int, help="GPU id (CPU when absent)")
    ap.add_argument("--shard", help="i/N: only the i-th of N contiguous blocks of the list, "
                    "into OUT.shard-i-of-N (and the same for --maps, --global); "
                    "tools/merge_shards.py combines them")
    ap.add_argument("--items", metavar="START:END",
                    help="only the list's items START..END-1, into OUT as named (keys stay "
                    "the list's indices): a chunk of whole videos when streaming "
                    "(fvvae.run.streamed), or a shuffled training store written chunk by chunk")
    args = ap.parse_args(argv)
    if args.items and args.shard:
        ap.error("--items and --shard exclude each other")

    import caffe
    from fvvae.trunks.device import exit_unless_gpu, use
    exit_unless_gpu(ap, args.gpu, "extract_descriptors")
    from fvvae.data.image_list import read_list
    from fvvae.data.preprocess import preprocessing
    from fvvae.trunks.zoo import UnknownTrunk, default_resize, resolve_trunk, trunk_weights

    try:
        trunk = resolve_trunk(args.trunk)
    except UnknownTrunk as e:
        ap.exit(2, "extract_descriptors: %s\n" % e)
    mode = args.mode or ("frame" if trunk.map_size == 7 else "image")
    crop = trunk.input_size if args.crop is None else args.crop
    resize = tuple(args.resize) if args.resize else default_resize(trunk)
    try:
        prep = preprocessing(args.preprocess, trunk)
        items = read_list(args.list, args.root)
        weights = trunk_weights(args.trunk, args.weights)
        shard = block_of = None
        if args.shard:
            from fvvae.run.shards import block, parse_shard, shard_path
            shard = parse_shard(args.shard)
            block_of = block(len(items), *shard)
            if block_of[0] == block_of[1]:
                raise ValueError("--shard %s: %d items leave this shard empty"
                                 % (args.shard, len(items)))
            for name in ("out", "maps", "global_out"):
                if getattr(args, name):
                    setattr(args, name, shard_path(getattr(args, name), *shard))
        elif args.items:
            try:
                block_of = tuple(int(v) for v in args.items.split(":"))
                ok = len(block_of) == 2 and 0 <= block_of[0] < block_of[1] <= len(items)
            except ValueError:
                ok = False
            if not ok:
                raise ValueError("--items %s: expected START:END with 0 <= START < END <= %d "
                                 "(the list's items)" % (args.items, len(items)))
    except (OSError, ValueError) as e:
        ap.exit(2, "extract_descriptors: %s\n" % e)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)) or ".", exist_ok=True)
    from fvvae.run.toollog import log_to
    log_to(args.out.rstrip("/") + ".log", "extract_descriptors")
    use(caffe, args.gpu, "extract_descriptors")
    from fvvae.trunks.extraction import ExtractionStopped, extract
    try:
        count, shape = extract(caffe, trunk, items, args.out, weights, prep, mode, resize, crop,
                               args.norm_scale, args.maps, args.global_out, args.shuffle,
                               args.batch, args.workers, args.gpu, block_of,
                               " (shard %d of %d)" % shard if shard else "")
    except ExtractionStopped as e:
        ap.exit(e.code, "extract_descriptors: %s\n" % e if e.code == 2 else "%s\n" % e)
    print("%d descriptor sets, each %d x %d x %d, in %s" % ((count,) + shape + (args.out,)))

if __name__ == "__main__":
    main()
