#!/usr/bin/env python
"""The evidence (scripts/evidence.sh runs it after the setup): the paper's
claims tested on Fashion-MNIST aligned and in the wild, ending in
runs/evidence/EVIDENCE.md. See fvvae/run/evidence.py, docs/evidence.md, `--help`."""
import os

os.environ.setdefault("GLOG_minloglevel", "2")

if __name__ == "__main__":
    from fvvae.run.evidence import main
    main()
