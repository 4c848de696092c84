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
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
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
    ap.add_argument("--norm-scale", type=float, default=158.0,
                    help="frame mode: the whole-map L2 norm after normalisation (authors: 158)")
    ap.add_argument("--maps", help="also store the raw activation maps (C x H x W) in this "
                    "LMDB: the Concatenation and AVE baselines")
    ap.add_argument("--global", dest="global_out", help="also store the trunk's global "
                    "activation (VGG_19 fc7; global average pooling otherwise) in this LMDB: GA")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--gpu", type=int, help="GPU id (CPU when absent)")
    ap.add_argument("--shard", help="i/N: only the i-th of N contiguous blocks of the list, "
                    "into OUT.shard-i-of-N (and the same for --maps, --global); "
                    "tools/merge_shards.py combines them")
    args = ap.parse_args(argv)

    import caffe
    import numpy as np
    from tqdm import tqdm
    from fvvae.descriptor_store import DescriptorStore
    from fvvae.descriptors import descriptor_net_text
    from fvvae.image_list import read_list
    from fvvae.preprocess import load_flow_stack, load_image
    from fvvae.trunks import (TRUNKS, check_weights, default_resize, global_layers,
                              trunk_definition, trunk_weights)

    if args.trunk not in TRUNKS:
        ap.exit(2, "extract_descriptors: unknown trunk %r (%s)\n" % (args.trunk, ", ".join(TRUNKS)))
    trunk = TRUNKS[args.trunk]
    mode = args.mode or ("frame" if trunk.map_size == 7 else "image")
    crop = trunk.input_size if args.crop is None else args.crop
    resize = tuple(args.resize) if args.resize else default_resize(trunk)
    try:
        items = read_list(args.list, args.root)
        weights = trunk_weights(args.trunk, args.weights)
        shard = block_of = None
        if args.shard:
            from fvvae.shards import block, parse_shard, shard_path
            shard = parse_shard(args.shard)
            block_of = block(len(items), *shard)
            if block_of[0] == block_of[1]:
                raise ValueError("--shard %s: %d items leave this shard empty"
                                 % (args.shard, len(items)))
            for name in ("out", "maps", "global_out"):
                if getattr(args, name):
                    setattr(args, name, shard_path(getattr(args, name), *shard))
    except (OSError, ValueError) as e:
        ap.exit(2, "extract_descriptors: %s\n" % e)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)) or ".", exist_ok=True)
    from fvvae.toollog import log_to
    log = log_to(args.out.rstrip("/") + ".log", "extract_descriptors")
    if args.gpu is not None:
        caffe.set_mode_gpu()
        caffe.set_device(args.gpu)
    else:
        caffe.set_mode_cpu()

    net_path = args.out.rstrip("/") + ".prototxt"
    with open(net_path + ".tmp", "w") as f:
        f.write(descriptor_net_text(caffe, trunk_definition(caffe, args.trunk), trunk, mode,
                                    args.norm_scale, with_global=bool(args.global_out)))
    os.replace(net_path + ".tmp", net_path)
    try:
        check_weights(caffe, net_path, weights)
    except ValueError as e:
        ap.exit(2, "extract_descriptors: %s\n" % e)
    net = caffe.Net(net_path, weights=weights, phase=caffe.TEST)

    # the outputs, written batch by batch together: (store, blob) pairs
    outputs = [(DescriptorStore(args.out), "descriptors")]
    if args.maps:
        outputs.append((DescriptorStore(args.maps), trunk.cut_blob))
    if args.global_out:
        outputs.append((DescriptorStore(args.global_out), global_layers(caffe, trunk)[1]))
    store = outputs[0][0]
    done = set.intersection(*(s.done_indices() for s, _ in outputs))
    mine = range(*block_of) if block_of else range(len(items))
    done &= set(mine)
    todo = [i for i in mine if i not in done]
    log.info("trunk %s (%s), mode %s, %d items%s, %d already done, resize %s crop %d",
             args.trunk, weights, mode, len(mine),
             " (shard %d of %d)" % shard if shard else "", len(done), resize, crop)
    if trunk.in_channels == 3:
        def load(item):
            return load_image(item.path, resize, crop, trunk.mean_bgr, item.crop)
    else:                   # the flow stream: stacks of x/y flow images
        def load(item):
            return load_flow_stack(item.path, resize, crop, trunk.mean_bgr[0],
                                   trunk.in_channels // 2, item.crop)
    with tqdm(total=len(mine), initial=len(done), desc="descriptors", unit="img") as bar:
        for start in range(0, len(todo), args.batch):
            batch = todo[start:start + args.batch]
            try:
                blob = np.stack([load(items[i]) for i in batch])
            except ValueError as e:
                saved = len(store.done_indices())
                for s, _ in outputs:
                    s.close()
                ap.exit(2, "extract_descriptors: %s (the %d items before it are saved in %s)\n"
                        % (e, saved, args.out))
            net.blobs["data"].reshape(*blob.shape)
            net.blobs["data"].data[...] = blob
            net.forward()
            labels = [items[i].label for i in batch]
            for s, name in outputs:
                s.put_batch(batch, net.blobs[name].data, labels)
            bar.update(len(batch))
    shape = store.read(mine[0])[0].shape
    log.info("done: %d descriptor sets of shape %s in %s", len(store), shape, args.out)
    print("%d descriptor sets, each %d x %d x %d, in %s" % ((len(store),) + shape + (args.out,)))
    for s, name in outputs:
        s.close()


if __name__ == "__main__":
    main()
