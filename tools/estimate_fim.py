#!/usr/bin/env python
"""Estimates the diagonal Fisher-information scale (eq. 12) from the raw FVs
of the training descriptor sets only, and writes it into the FisherVector
layer's scale blob of a new caffemodel.

    .venv/bin/python tools/estimate_fim.py --net OUT/extract.prototxt \
        --weights OUT/snapshots/fv_vae_iter_5000.caffemodel \
        --source OUT/descriptors_train.lmdb --list train_frames.txt --out OUT/fv_vae_fim.caffemodel

With --list (PATH LABEL GROUP lines, the list the descriptors came from) the
rows are per-video means, as the authors computed them; else one per set.
"""
import argparse
import os

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", required=True, help="the extract net (tools/make_nets.py)")
    ap.add_argument("--weights", required=True, help="trained caffemodel")
    ap.add_argument("--source", required=True, help="training descriptor sets (LMDB)")
    ap.add_argument("--list", help="the image list of --source, to average frames per video")
    ap.add_argument("--root", default="")
    ap.add_argument("--method", choices=("norm", "second-moment", "variance"), default="norm")
    ap.add_argument("--out", required=True, help="caffemodel to write")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--gpu", type=int, help="GPU id (CPU when absent)")
    args = ap.parse_args(argv)
    import caffe
    from fvvae.trunks.device import exit_unless_gpu
    exit_unless_gpu(ap, args.gpu, "estimate_fim")
    import numpy as np
    from tqdm import tqdm
    from fvvae.model.fisher import fim_scale, group_fvs, open_extraction

    try:
        net, store, groups = open_extraction(caffe, args.net, args.weights, args.source,
                                             args.list, args.root, args.gpu, "estimate_fim",
                                             cached=False)     # it writes the FIM into the net
    except (OSError, ValueError) as e:
        ap.exit(2, "estimate_fim: %s\n" % e)
    from fvvae.run.toollog import log_to
    log = log_to(args.out + ".log", "estimate_fim")
    net.params["fv"][1].data[...] = 1.0          # raw FVs: no scale yet
    dim = net.params["fv"][1].data.size
    sum_sq, total = np.zeros(dim), np.zeros(dim)
    for _, _, fv in tqdm(group_fvs(net, store, groups, args.batch), total=len(groups),
                         desc="FIM", unit="video" if args.list else "set"):
        sum_sq += fv ** 2
        total += fv
    scale = fim_scale(sum_sq, total, len(groups), args.method)
    net.params["fv"][1].data[...] = scale
    net.save(args.out + ".tmp")
    os.replace(args.out + ".tmp", args.out)
    msg = ("FIM (%s) from %d training rows: scale in [%.3g, %.3g], written to %s"
           % (args.method, len(groups), scale.min(), scale.max(), args.out))
    log.info(msg)
    print(msg)


if __name__ == "__main__":
    main()
