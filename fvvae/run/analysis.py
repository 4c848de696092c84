"""The paper's section 5.4 on a protocol's data (Figure 4):

(a) accuracy against dimension: FV-VAE latent sizes, FV mixture sizes, VLAD
    centres (Protocol.sweep);
(b) accuracy of FV-VAE against lambda3 (eq. 8), 10^0 to 10^5 by default;
(c) compressing FV-VAE's vector to a smaller dimension d: Random Maclaurin
    features and PCA of the full-latent FV, against FV-VAE trained with the
    smaller latent that gives d = C (K + 1) directly (fvvae.model.compression).

Writes ANALYSIS.md, analysis.csv and the three PNGs into OUT/analysis/.
"""
import csv
import logging
import os

from fvvae.methods import fv_vae_tag

log = logging.getLogger("fvvae.run.analysis")
LAMBDAS = (1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0)


def cell(row):
    """A row's top-1 with its 95% Wilson interval over its n test items."""
    from fvvae.evaluation.metrics import accuracy_cell, wilson_interval
    return accuracy_cell(row["top1"], *wilson_interval(row["top1"], row.get("n", 0)))


def lambda_sweep(p, lambdas):
    runs = {"lambda3=%g" % lam: p.fv_vae(lam, p.s.latent)[0] for lam in lambdas}
    res = p.evaluate(runs, p.path("analysis", "eval_lambda3"))
    return [{"lambda3": lam, "top1": float(res["lambda3=%g" % lam]["top1"]),
             "n": int(res["lambda3=%g" % lam].get("test_items") or 0)} for lam in lambdas]


def compression(p, latents):
    """Rows (method, K, dimension, top-1) for each smaller latent K."""
    from fvvae.model.compression import compress_files
    C = p.trunk.channels
    full = p.fv_vae(p.s.lambda3, p.s.latent)[0]
    folder = p.path("analysis", "compressed")
    os.makedirs(folder, exist_ok=True)
    runs, dims = {}, {}
    for k in latents:
        d = C * (k + 1)
        runs["FV-VAE K=%d" % k] = p.fv_vae(p.s.lambda3, k)[0]
        dims["FV-VAE K=%d" % k] = d
        for method in ("pca", "rm"):
            name = "%s to %d" % (method.upper(), d)
            files = {sp: os.path.join(folder, "%s%d_%s.h5" % (method, d, sp))
                     for sp in ("train", "test")}

            def make(method=method, d=d, files=files):
                return {"dim": compress_files(full["train"], full["test"], method, d,
                                              files["train"], files["test"], seed=p.s.seed)}
            got = p.stages.run("compress_%s%d" % (method, d), {"d": d},
                               list(files.values()), make,
                               deps=("fv_" + fv_vae_tag(p.s.lambda3, p.s.latent),))
            runs[name], dims[name] = files, got["dim"]
    res = p.evaluate(runs, p.path("analysis", "eval_compression"))
    rows = []
    for name in runs:
        method = name.split()[0] if not name.startswith("FV-VAE") else "smaller latent"
        target = int(name.split()[-1]) if not name.startswith("FV-VAE") else dims[name]
        rows.append({"method": {"PCA": "PCA", "RM": "Random Maclaurin"}.get(method, method),
                     "target": target, "dimension": dims[name],
                     "top1": float(res[name]["top1"]),
                     "n": int(res[name].get("test_items") or 0)})
    return rows


def run_analysis(p, lambdas=LAMBDAS, latents=(3, 7, 15)):
    from fvvae.evaluation import report
    out = p.path("analysis")
    os.makedirs(out, exist_ok=True)
    dims = p.sweep()
    report.plot_dimensions(os.path.join(out, "fig4a_dimension.png"), dims)
    lam = lambda_sweep(p, lambdas)
    report.plot_curves(os.path.join(out, "fig4b_lambda3.png"),
                       {"FV-VAE": [(r["lambda3"], r["top1"]) for r in lam]},
                       "lambda3 (eq. 8)", "Accuracy against lambda3 (cf. the paper's Fig. 4b)",
                       logx=10)
    comp = compression(p, latents)
    report.plot_curves(os.path.join(out, "fig4c_compression.png"),
                       {m: [(r["target"], r["top1"]) for r in comp if r["method"] == m]
                        for m in ("Random Maclaurin", "PCA", "smaller latent")},
                       "dimension", "Compressing FV-VAE (cf. the paper's Fig. 4c)")
    with open(os.path.join(out, "analysis.csv.tmp"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["figure", "run", "x", "dimension", "top1"])
        w.writerows(("4a", r["run"], r["dimension"], r["dimension"], r["top1"]) for r in dims)
        w.writerows(("4b", "FV-VAE", r["lambda3"], p.trunk.channels * (p.s.latent + 1), r["top1"])
                    for r in lam)
        w.writerows(("4c", r["method"], r["target"], r["dimension"], r["top1"]) for r in comp)
    os.replace(os.path.join(out, "analysis.csv.tmp"), os.path.join(out, "analysis.csv"))
    md = ["# Section 5.4 analyses (Figure 4)", "",
          "## (a) Accuracy against dimension", "", "![4a](fig4a_dimension.png)", "",
          "| run | dimension | top-1 (95% interval) |", "| --- | --- | --- |"]
    md += ["| %s | %d | %s |" % (r["run"], r["dimension"], cell(r)) for r in dims]
    md += ["", "## (b) Accuracy against lambda3", "", "![4b](fig4b_lambda3.png)", "",
           "| lambda3 | top-1 (95% interval) |", "| --- | --- |"]
    md += ["| %g | %s |" % (r["lambda3"], cell(r)) for r in lam]
    md += ["", "## (c) Compression to equal dimensions", "", "![4c](fig4c_compression.png)", "",
           "| method | target dimension | actual dimension | top-1 (95% interval) |",
           "| --- | --- | --- | --- |"]
    md += ["| %s | %d | %d | %s |" % (r["method"], r["target"], r["dimension"], cell(r))
           for r in comp]
    md += ["", "PCA can keep at most N - 1 directions of N training rows: where the target "
           "dimension exceeds that, its actual dimension is N - 1 and it compresses nothing "
           "away (the paper's UCF101 has 9.5K training videos). Intervals: 95% Wilson score "
           "intervals over the test items (binomial).", ""]
    with open(os.path.join(out, "ANALYSIS.md.tmp"), "w") as f:
        f.write("\n".join(md))
    os.replace(os.path.join(out, "ANALYSIS.md.tmp"), os.path.join(out, "ANALYSIS.md"))
    log.info("analysis: %s", os.path.join(out, "ANALYSIS.md"))
    return dims, lam, comp
