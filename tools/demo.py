#!/usr/bin/env python
"""The main job (scripts/demo.sh runs it after the setup): FV-VAE, FV-VAE- and
the six baselines on a Fashion-MNIST subset with the embedded open_nsfw trunk,
ending in runs/demo/REPORT.md. See fvvae/run/demo.py and `--help`."""
import os

os.environ.setdefault("GLOG_minloglevel", "2")

if __name__ == "__main__":
    from fvvae.run.demo import main
    main()
