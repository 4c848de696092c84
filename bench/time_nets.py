#!/usr/bin/env python
"""Writes the FV-VAE nets that `caffe time` measures (bench/gpu_check.sh, and
the CPU rows of the same table): for each descriptor width C and set size T,
the extraction head (descriptor sets N x C x 1 x T -> encoder C -> C -> 255
-> decoder -> FisherVector, eq. 11; raw FV of C x 256 values, the dimension
of a 128-Gaussian FV) and the train net (dropout, GaussianSample, the three
losses of eq. 8) on Input blobs, so that no data back end is needed.

    .venv/bin/python bench/time_nets.py --out build-cuda/bundle/nets
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# (C, T): VGG_19 pool5 / ResNet_152 res5c, frame (SPP, 50) and image (28 x 28) sets
SHAPES = ((512, 50), (512, 784), (2048, 50), (2048, 784))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder for the .prototxt files")
    ap.add_argument("--descriptors-per-pass", type=int, default=6400,
                    help="sets per pass = this / T: 128 frames of 50 (the paper's batch), "
                         "8 images of 784")
    ap.add_argument("--latent", type=int, default=255, help="K (the paper: 255)")
    args = ap.parse_args(argv)

    import caffe
    from fvvae.config import FVVAEConfig
    from fvvae.nets import extract_net, train_net_on_inputs
    os.makedirs(args.out, exist_ok=True)
    for c, t in SHAPES:
        batch = max(1, args.descriptors_per_pass // t)
        cfg = FVVAEConfig(channels=c, descriptors=t, encoder=[c, args.latent],
                          batch=batch).validate()
        for kind, net in (("head", extract_net(caffe, cfg, input_shape=[batch, c, 1, t])),
                          ("train", train_net_on_inputs(caffe, cfg))):
            if kind == "train" and t != 50:
                continue        # the paper trains on frames: 128 x 50 descriptors
            path = os.path.join(args.out, "%s_C%d_T%d.prototxt" % (kind, c, t))
            with open(path, "w") as f:
                f.write('name: "fv_vae_%s_C%d_T%d"\n%s' % (kind, c, t, net))
            print(path)


if __name__ == "__main__":
    main()
