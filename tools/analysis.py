#!/usr/bin/env python
"""The paper's section 5.4 (Figure 4) on the demo's data: (a) accuracy
against dimension for FV-VAE (latent size), FV (mixture size) and VLAD
(centres), (b) FV-VAE's accuracy against lambda3 from 10^0 to 10^5, (c)
compressing the FV-VAE vector by Random Maclaurin features, by PCA, and by a
smaller latent, at equal dimensions. Runs the demo's chain first (its stages
are reused when already done) and writes OUT/analysis/ANALYSIS.md,
analysis.csv and fig4{a,b,c}_*.png.

    .venv/bin/python tools/analysis.py [--quick] [--out runs/demo]    (the demo's options)

scripts/demo.sh --analysis runs the same after the demo.
"""
import os
import sys

os.environ.setdefault("GLOG_minloglevel", "2")

if __name__ == "__main__":
    from fvvae.run.demo import main
    main(sys.argv[1:] + ["--analysis"])
