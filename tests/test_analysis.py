"""The section 5.4 analyses: the compressors against independent NumPy
computations, and tools/analysis.py on the demo's data at a small size."""
import csv
import math
import subprocess

import numpy as np

from conftest import ROOT


def test_pca_matches_numpy_svd():
    from fvvae.model.compression import pca_apply, pca_fit
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 200)) @ rng.normal(size=(200, 200))
    y = rng.normal(size=(5, 200))
    mean, comps = pca_fit(x, 8)
    _, _, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    ours, ref = pca_apply(y, mean, comps), (y - x.mean(axis=0)) @ vt[:8].T
    assert np.allclose(np.abs(ours), np.abs(ref), rtol=1e-6, atol=1e-8)   # up to sign
    assert pca_fit(x, 100)[1].shape[0] == 29                                # at most N - 1


def test_random_maclaurin_preserves_inner_products():
    from fvvae.model.compression import random_maclaurin
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 3000))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    z = random_maclaurin(x, 8192, seed=3, block=1000)
    err = np.abs(z @ z.T - x @ x.T)
    assert err.max() < 4 / np.sqrt(8192)          # E[z.z'] = x.x', spread ~ 1/sqrt(d)
    assert np.array_equal(z, random_maclaurin(x, 8192, seed=3, block=1000))   # seeded
    w = random_maclaurin(np.eye(3000)[:2], 16, seed=3, block=1000) * 4
    assert set(np.unique(w)) <= {-1.0, 1.0}       # Rademacher projections


def test_analysis_tool_on_demo_data(tmp_path):
    out = tmp_path / "a"
    res = subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / "tools/analysis.py"),
                          "--quick", "--out", str(out)], capture_output=True, text=True,
                         timeout=3000)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    folder = out / "analysis"
    for png in ("fig4a_dimension.png", "fig4b_lambda3.png", "fig4c_compression.png"):
        assert (folder / png).stat().st_size > 1000, png
    rows = list(csv.DictReader(open(folder / "analysis.csv")))
    by_fig = {f: [r for r in rows if r["figure"] == f] for f in ("4a", "4b", "4c")}
    assert {r["run"].split()[0] for r in by_fig["4a"]} == {"FV-VAE", "FV", "VLAD"}
    assert [float(r["x"]) for r in by_fig["4b"]] == [1.0, 100.0, 10000.0]
    methods = {(r["run"], int(r["x"])) for r in by_fig["4c"]}
    assert methods == {(m, 1024 * (k + 1)) for m in ("PCA", "Random Maclaurin", "smaller latent")
                       for k in (1, 3)}
    for r in rows:
        assert math.isfinite(float(r["top1"])) and 0 <= float(r["top1"]) <= 1
    rm = [r for r in by_fig["4c"] if r["run"] == "Random Maclaurin"]
    assert all(int(r["dimension"]) == int(r["x"]) for r in rm)
    assert "## (c) Compression to equal dimensions" in (folder / "ANALYSIS.md").read_text()
