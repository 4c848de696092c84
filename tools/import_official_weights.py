#!/usr/bin/env python
"""Converts one of the authors' released FV-VAE .mat files into a Caffe
extraction head: DIR/deploy.prototxt (input blob `pool5`, N x 512 x 7 x 7),
DIR/extract.prototxt (input blob `data`, descriptor sets N x 512 x 1 x 50:
the net for tools/extract_fv.py) and DIR/weights.caffemodel for both; output
blob `fv` (the raw FV, N x 131,584). The .mat's SHA-256 must be one of the
release's (fvvae.model.release_files) unless --any-mat. From frames to FVs in one command:
tools/authors_fv.py.

    .venv/bin/python tools/import_official_weights.py \
        --mat $FVVAE_OFFICIAL_DIR/vae_models/caffe_vae_weights_ucf101_split1_vgg19.mat \
        --out runs/official_split1
"""
import argparse
import os

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mat", required=True, help="caffe_vae_weights_ucf101_split*_vgg19.mat")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--any-mat", action="store_true",
                    help="accept a .mat that is not one of the released files (your own)")
    args = ap.parse_args(argv)
    import caffe
    from fvvae.model.official import load_official_mat, write_official_head
    from fvvae.model.release_files import check_release_mat
    try:
        if not args.any_mat:
            check_release_mat(args.mat)
        weights = load_official_mat(args.mat)
    except (OSError, ValueError) as e:
        ap.exit(2, "import_official_weights: %s\n" % e)
    deploy, model = write_official_head(caffe, weights, args.out)
    print("C = %d, K = %d, norm_scale = %g, raw FV dimension %d"
          % (weights.channels, weights.latent, weights.norm_scale,
             weights.channels * (weights.latent + 1)))
    print("wrote %s, %s (descriptor sets: tools/extract_fv.py --net) and %s"
          % (deploy, os.path.join(args.out, "extract.prototxt"), model))


if __name__ == "__main__":
    main()
