#!/usr/bin/env python
"""From frames to the authors' FV-VAE Fisher Vectors with their released
weights, in one command (fvvae/model/authors_route.py): raw FVs (eq. 11, a
video's frames averaged) and the FVs normalised as normalize_raw_fv.m does.

    .venv/bin/python tools/authors_fv.py \
        --mat $FVVAE_OFFICIAL_DIR/vae_models/caffe_vae_weights_ucf101_split1_vgg19.mat \
        --trunk-weights VGG_ILSVRC_19_layers.caffemodel \
        --list frames.txt [--root FRAMES/] [--fim-list train_frames.txt] --out runs/authors_fv

List lines: `PATH LABEL GROUP` (GROUP: the video; a line without one is a
video of its own). Writes OUT/raw_fv.h5 (features: the raw FVs, order
c*(K+1)+k), OUT/fv_vae.h5 (features: normalised, power_normalized, in the
authors' fv_mat(:) order k*C+c unless --order ours), OUT/authors_fv.log.
Without --fim-list the column norms come from the list's own videos, as
normalize_raw_fv(raw_fv) on that set; with it, from the training videos'.
"""
import argparse
import os

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mat", required=True, help="caffe_vae_weights_ucf101_split*_vgg19.mat")
    ap.add_argument("--any-mat", action="store_true",
                    help="accept a .mat that is not one of the released files (your own)")
    ap.add_argument("--trunk-weights", help="VGG_ILSVRC_19_layers.caffemodel (else "
                    "$FVVAE_VGG19_WEIGHTS)")
    ap.add_argument("--list", required=True, help="frames: PATH LABEL GROUP a line")
    ap.add_argument("--root", default="", help="folder the lists' paths are relative to")
    ap.add_argument("--fim-list", help="training frames: the column norms (FIM) from their "
                    "videos' raw FVs instead of --list's")
    ap.add_argument("--preprocess", default="authors", choices=("authors", "caffe"),
                    help="authors (default): MATLAB imresize, mean 104/117/123, as their "
                    "extraction code; caffe: OpenCV resize and VGG_19's mean, as their training")
    ap.add_argument("--order", default="authors", choices=("authors", "ours"),
                    help="fv_vae.h5's flatten order: authors k*C+c (MATLAB fv_mat(:)) or "
                    "ours c*(K+1)+k")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--batch", type=int, default=10, help="frames a forward pass")
    ap.add_argument("--workers", type=int, default=1, help="threads reading frames")
    ap.add_argument("--gpu", type=int, help="GPU id (CPU when absent)")
    args = ap.parse_args(argv)
    import caffe
    from fvvae.model.authors_route import AuthorsRoute, write_normalized
    from fvvae.trunks.device import exit_unless_gpu
    from fvvae.data.image_list import read_list
    exit_unless_gpu(ap, args.gpu, "authors_fv")
    try:
        lists = [read_list(args.list, args.root)]
        if args.fim_list:
            lists.append(read_list(args.fim_list, args.root))
        route = AuthorsRoute(caffe, args.mat, args.trunk_weights, args.out, args.preprocess,
                             args.any_mat, args.gpu)
    except (OSError, ValueError) as e:
        ap.exit(2, "authors_fv: %s\n" % e)
    from fvvae.run.toollog import log_to
    log = log_to(os.path.join(args.out, "authors_fv.log"), "authors_fv")
    log.info("mat %s (norm_scale %g), trunk %s, list %s, fim list %s", args.mat,
             route.weights.norm_scale, route.trunk_weights, args.list, args.fim_list)
    try:
        raw = route.raw_fvs(lists[0], os.path.join(args.out, "raw_fv.h5"), args.batch,
                            args.workers)
        fim = route.raw_fvs(lists[1], os.path.join(args.out, "fim_raw_fv.h5"), args.batch,
                            args.workers) if args.fim_list else None
    except (OSError, ValueError) as e:     # an unreadable frame, a full disk
        ap.exit(2, "authors_fv: %s (the videos before it are kept)\n" % e)
    fv = write_normalized(raw, os.path.join(args.out, "fv_vae.h5"), fim, args.order)
    msg = "%d videos: raw FVs in %s, normalised (%s order) in %s" % (
        fv.shape[0], raw, args.order, os.path.join(args.out, "fv_vae.h5"))
    log.info(msg)
    print(msg)


if __name__ == "__main__":
    main()
