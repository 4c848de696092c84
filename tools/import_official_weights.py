#!/usr/bin/env python
"""Converts one of the authors' released FV-VAE .mat files into a Caffe
extraction head: DIR/deploy.prototxt + DIR/weights.caffemodel, input blob
`pool5` (N x 512 x 7 x 7), output blob `fv` (the raw FV, N x 131,584).

    .venv/bin/python tools/import_official_weights.py \
        --mat $FVVAE_OFFICIAL_DIR/vae_models/caffe_vae_weights_ucf101_split1_vgg19.mat \
        --out runs/official_split1
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mat", required=True, help="caffe_vae_weights_ucf101_split*_vgg19.mat")
    ap.add_argument("--out", required=True, help="output folder")
    args = ap.parse_args(argv)
    import caffe
    from fvvae.official import load_official_mat, write_official_head
    try:
        weights = load_official_mat(args.mat)
    except (OSError, ValueError) as e:
        ap.exit(2, "import_official_weights: %s\n" % e)
    deploy, model = write_official_head(caffe, weights, args.out)
    print("C = %d, K = %d, norm_scale = %g, raw FV dimension %d"
          % (weights.channels, weights.latent, weights.norm_scale,
             weights.channels * (weights.latent + 1)))
    print("wrote %s and %s" % (deploy, model))


if __name__ == "__main__":
    main()
