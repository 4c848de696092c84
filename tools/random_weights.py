#!/usr/bin/env python
"""Writes a caffemodel of random weights with the layer names and blob shapes
of a public trunk's model (VGG_19 with fc6/fc7, its flow twin, ResNet_152
with its BatchNorm/Scale blobs), scaled so activations keep their scale
through the depth (fvvae/trunks/random_weights.py): for tests and `caffe time`
without the real files.

    .venv/bin/python tools/random_weights.py --trunk vgg19_conv5_4 --out vgg19_random.caffemodel

Prints the path and, with --show-scales, the std of every layer's output on
the pixel-like batch the BatchNorm statistics were measured on.
"""
import argparse
import os

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    from fvvae.trunks.random_weights import FOR_TRUNK
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trunk", required=True, choices=sorted(FOR_TRUNK),
                    help="the trunk the weights are for (vgg19_pool5 and vgg19_conv5_4 share "
                         "one model, as the public VGG_19 caffemodel serves both)")
    ap.add_argument("--out", required=True, help="the caffemodel to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show-scales", action="store_true")
    args = ap.parse_args(argv)
    import caffe
    from fvvae.trunks.random_weights import write
    scales = write(caffe, FOR_TRUNK[args.trunk], args.out, args.seed)
    if args.show_scales:
        for name, std in scales.items():
            print("%-24s %.4g" % (name, std))
    print(os.path.abspath(args.out))


if __name__ == "__main__":
    main()
