#!/usr/bin/env python
"""Fine-tunes a trunk on a data set's frames or images with SGD (Table 3's
"pool5 fine-tuned", Table 6's "w/ ft"): writes the nets and solver into OUT,
runs `.venv/bin/caffe train -solver ... -weights TRUNK` (resumed from its
last snapshot; a NaN loss stops it, keeping the last good snapshot) and prints the fine-tuned caffemodel, which then stands in
for the trunk's weights (--weights of the other tools).

    .venv/bin/python tools/finetune_trunk.py --trunk vgg19_pool5 --weights VGG19.caffemodel \
        --list prep/split1_rgb_train.txt --classes 101 --iterations 10000 --out runs/ft
"""
import argparse
import os

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trunk", required=True)
    ap.add_argument("--weights", default="", help="the trunk's caffemodel (else its variable)")
    ap.add_argument("--list", required=True, help="training images: PATH LABEL [GROUP [CROP]]")
    ap.add_argument("--classes", type=int, help="default: the largest label + 1")
    ap.add_argument("--out", required=True)
    ap.add_argument("--iterations", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--base-lr", type=float, default=0.001)
    ap.add_argument("--resize", type=int, nargs=2, metavar=("H", "W"),
                    help="default 240 320 at 224 input, else the input size; 256 256 "
                    "for vgg19_conv5_4, fine-tuned at 224 through vgg19_pool5's fc6/fc7")
    ap.add_argument("--gpu", type=int, help="GPU id (CPU when absent)")
    args = ap.parse_args(argv)
    import caffe
    from fvvae.model import finetune
    from fvvae.trunks.device import exit_unless_gpu
    exit_unless_gpu(ap, args.gpu, "finetune_trunk")
    from fvvae.data.image_list import read_list
    from fvvae.trunks.zoo import UnknownTrunk, finetune_input, resolve_trunk, trunk_weights
    try:
        t = resolve_trunk(args.trunk)
    except UnknownTrunk as e:
        ap.exit(2, "finetune_trunk: %s\n" % e)
    try:
        items = read_list(args.list)
        weights = trunk_weights(args.trunk, args.weights or None)
        # VGG_19 conv5_4 (448) is fine-tuned as VGG_19 at 224 with its fc6/fc7
        tuned, resize, crop = finetune_input(t)
        resize = tuple(args.resize) if args.resize else resize
        solver, final = finetune.write(
            caffe, tuned.name, items, args.classes or max(i.label for i in items) + 1, args.out,
            args.iterations, args.batch, resize, crop, args.base_lr, args.gpu is not None)
    except (OSError, ValueError) as e:
        ap.exit(2, "finetune_trunk: %s\n" % e)
    if not os.path.exists(final):
        from fvvae.model.training import train_with_guard
        try:
            train_with_guard(solver, os.path.join(args.out, "snapshots"), args.iterations,
                             os.path.join(args.out, "finetune.log"), weights=weights,
                             gpu=args.gpu)
        except RuntimeError as e:
            ap.exit(1, "finetune_trunk: %s\n" % e)
    print(final)


if __name__ == "__main__":
    main()
