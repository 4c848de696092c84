#!/usr/bin/env python
"""Vectors of new items from a finished run, and its classifiers' verdicts
(fvvae/run/takeaway.py): the run's trunk and preprocessing, each method's own
model (FV-VAE's extract net and FIM, the baselines' codebooks), its SVMs.

    .venv/bin/python tools/encode_items.py --run runs/folder_my_photos/open_nsfw \
        --items new_images/ --out runs/new [--methods FV-VAE,VLAD] [--no-predict]

--items: a folder of images (each an item) or a list (`PATH [LABEL [GROUP]]`).
Writes OUT/METHOD.h5 (one representation file a method, as the run wrote its
test rows), OUT/vectors.h5 (all of them, a group a method) and, unless
--no-predict, OUT/METHOD_predictions.csv (tools/predict.py's columns).
"""
import argparse
import os

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", required=True, help="a finished run's folder (holding run.json)")
    ap.add_argument("--items", required=True, help="a folder of images, or a list")
    ap.add_argument("--out", required=True)
    ap.add_argument("--methods", help="comma-separated (default: every method of the run)")
    ap.add_argument("--no-predict", action="store_true")
    args = ap.parse_args(argv)
    from fvvae.run.protocol import ProtocolError
    from fvvae.run.takeaway import FinishedRun
    try:
        run = FinishedRun(args.run)
        files = run.encode_items(args.items, args.out, args.methods and [
            m.strip() for m in args.methods.split(",")])
    except (OSError, ValueError, ProtocolError) as e:
        ap.exit(2, "encode_items: %s\n" % e)
    print("vectors: %s" % os.path.join(args.out, "vectors.h5"))
    if args.no_predict:
        return
    from fvvae.evaluation.classifier import write_predictions
    for name, path in files.items():
        try:
            msg = write_predictions(run.classifier(name), path, os.path.join(
                args.out, name.replace("/", "_") + "_predictions.csv"))
        except (OSError, ValueError) as e:
            ap.exit(2, "encode_items: %s\n" % e)
        print(msg)


if __name__ == "__main__":
    main()
