#!/usr/bin/env python
"""Scores new items with a finished run's SVMs (fvvae/evaluation/classifier.py): the
rows of a representation file (made as the run made its files: tools/encode_items.py)
against eval/NAME_svm.npz, written as a CSV of each item's top classes.

    .venv/bin/python tools/predict.py --svm runs/x/eval/FV-VAE_svm.npz \
        --features new/FV-VAE.h5 --out new/FV-VAE_predictions.csv [--top 3]

Columns: id, label (as the file has it; -1 when unknown), then for each of
the top classes its name (or number) and score. With known labels the
top-1 accuracy is printed.
"""
import argparse



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--svm", required=True, help="a run's eval/NAME_svm.npz")
    ap.add_argument("--features", required=True, help="representation file (HDF5) of new items")
    ap.add_argument("--out", required=True, help="CSV to write")
    ap.add_argument("--top", type=int, default=3)
    args = ap.parse_args(argv)
    from fvvae.evaluation.classifier import Classifier, write_predictions
    try:
        print(write_predictions(Classifier(args.svm), args.features, args.out, args.top))
    except (OSError, ValueError) as e:
        ap.exit(2, "predict: %s\n" % e)


if __name__ == "__main__":
    main()
