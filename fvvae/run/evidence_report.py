"""The evidence's report (fvvae.run.evidence): OUT/EVIDENCE.md (each regime's
table with intervals and the claims table), results.csv, claims.csv and
claims.png (each claim's difference with its 95% interval)."""
import csv
import datetime
import io
import os

import numpy as np

from fvvae.files import atomic_write
from fvvae.evaluation.metrics import wilson_interval
from fvvae.methods import ORDER
from fvvae.evaluation.report import machine

# the FV-VAE head never trained (C6), beside the methods of fvvae.methods
UNTRAINED = "FV-VAE untrained"


def seed_rows(results, name):
    """The names of a method's rows over its training seeds (itself first)."""
    return [name] + sorted(n for n in results if n.startswith(name + " seed "))


def _atomic(path, write):
    """Atomically writes what write(file) writes (csv writers need a file)."""
    text = io.StringIO(newline="")
    write(text)
    atomic_write(path, text.getvalue())


def _pct(x):
    return "%.2f" % (100 * x)


def method_rows(results):
    """One row a method, its training seeds folded into it (mean top-1 and
    each seed's)."""
    rows = []
    for name in ORDER + [UNTRAINED]:
        if name not in results:
            continue
        seeds = seed_rows(results, name)
        tops = [float(results[n]["top1"]) for n in seeds]
        n = int(results[name].get("test_items") or 0)
        low, high = wilson_interval(tops[0], n)
        rows.append({"method": name, "dimension": results[name].get("dimension", ""),
                     "top1": tops[0], "low": low, "high": high, "seeds": tops,
                     "mean": float(np.mean(tops)), "items": n,
                     "svm_seconds": sum(float(results[s].get("svm_seconds") or 0) for s in seeds)})
    return rows


def regime_table(rows):
    md = ["| method | dimension | top-1, seed 0 (95% interval) | training seeds: top-1 each, "
          "mean | SVM time (s) |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        seeds = ("%s; mean %s" % (", ".join(_pct(t) for t in r["seeds"]), _pct(r["mean"]))
                 if len(r["seeds"]) > 1 else "")
        md.append("| %s | %s | %s (%.1f–%.1f) | %s | %.0f |" % (
            r["method"], r["dimension"], _pct(r["top1"]), 100 * r["low"], 100 * r["high"],
            seeds, r["svm_seconds"]))
    return md


def concatenation_check(rows):
    """Where Concatenation stands among the methods (by mean over seeds)."""
    by = {r["method"]: r["mean"] for r in rows}
    if "Concatenation" not in by:
        return ""
    ranked = sorted(by, key=lambda m: -by[m])
    best = max((m for m in by if m not in ("Concatenation", "GA", UNTRAINED)),
               key=lambda m: by[m], default=None)
    return ("Concatenation ranks %d of %d (%s%%); the best orderless encoding, %s, is %+.2f "
            "points from it." % (ranked.index("Concatenation") + 1, len(ranked),
                                 _pct(by["Concatenation"]), best,
                                 100 * (by[best] - by["Concatenation"])) if best else "")


def claims_table(claims):
    md = ["| claim | regime | comparison | top-1 a / b | a - b (95% interval) | test | p | "
          "p (Holm) | verdict |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for c in claims:
        md.append("| %s | %s | %s | %s / %s | %+.2f (%+.2f to %+.2f) | %s | %.2g | %.2g | "
                  "**%s** |" % (c["claim"], c["regime"], c["comparison"], _pct(c["top1_a"]),
                                _pct(c["top1_b"]), 100 * c["difference"], 100 * c["low"],
                                100 * c["high"], c["test"], c["p"], c["p_holm"], c["verdict"]))
    return md


def plot_claims(path, claims):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    if not claims:
        return
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(claims) + 1.2))
    y = np.arange(len(claims))[::-1]
    d = np.array([100 * c["difference"] for c in claims])
    err = np.array([[100 * (c["difference"] - c["low"]) for c in claims],
                    [100 * (c["high"] - c["difference"]) for c in claims]])
    colours = {"holds": "tab:green", "refuted": "tab:red", "not separable": "tab:grey"}
    for i, c in enumerate(claims):
        ax.errorbar(d[i], y[i], xerr=err[:, i:i + 1], fmt="o", color=colours[c["verdict"]])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(["%s %s: %s - %s" % (c["claim"], c["regime"], c["a"], c["b"])
                        for c in claims], fontsize=8)
    ax.set_xlabel("difference in top-1 (points), 95% paired bootstrap interval")
    ax.set_title("The paper's claims (green: holds, red: refuted, grey: not separable)")
    fig.tight_layout()
    fig.savefig(path + ".tmp.png", dpi=110)
    plt.close(fig)
    os.replace(path + ".tmp.png", path)


def follow_up_table(rows):
    md = ["| regime | FV-VAE with | against | top-1 it / the other | difference (95% interval) | "
          "p (exact McNemar) | p, Holm over the follow-ups |",
          "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        md.append("| %s | %s | %s | %s / %s | %+.2f (%+.2f to %+.2f) | %.2g | %s |" % (
            r["regime"], r["a"][len("FV-VAE "):],
            "FV-VAE seed 0" if r["b"] == "FV-VAE" else r["b"], _pct(r["top1_a"]),
            _pct(r["top1_b"]), 100 * r["difference"], 100 * r["low"], 100 * r["high"], r["p"],
            "%.2g" % r["p_holm"] if "p_holm" in r else "-"))
    return md


def write_evidence(e, runs, info, claims, follow_ups=()):
    out = os.path.abspath(e.out)
    os.makedirs(out, exist_ok=True)
    fields = ["claim", "regime", "comparison", "a", "b", "seeds_a", "seeds_b", "top1_a",
              "top1_b", "difference", "low", "high", "test", "items", "discordant", "p",
              "p_holm", "verdict"]

    def claims_csv(f):
        w = csv.DictWriter(f, fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(claims)
    _atomic(os.path.join(out, "claims.csv"), claims_csv)

    tables = {regime: method_rows(results) for regime, results in runs.items()}

    def results_csv(f):
        w = csv.writer(f)
        w.writerow(["regime", "method", "dimension", "top1_seed0", "top1_low", "top1_high",
                    "top1_seeds", "top1_mean", "test_items", "svm_seconds"])
        for regime, rows in tables.items():
            for r in rows:
                w.writerow([regime, r["method"], r["dimension"], "%.6f" % r["top1"],
                            "%.6f" % r["low"], "%.6f" % r["high"],
                            " ".join("%.6f" % t for t in r["seeds"]), "%.6f" % r["mean"],
                            r["items"], "%.1f" % r["svm_seconds"]])
    _atomic(os.path.join(out, "results.csv"), results_csv)
    plot_claims(os.path.join(out, "claims.png"), claims)

    md = ["# The evidence: the paper's claims on embedded real data", "",
          "Claims, comparisons, tests and thresholds as written before the runs: "
          "docs/evidence.md. Made by `scripts/evidence.sh%s` on %s (%s)." % (
              " --quick" if e.quick else "", datetime.date.today().isoformat(), machine()), "",
          "Settings: Fashion-MNIST (Debian `dataset-fashion-mnist`), %d training and %d test "
          "images a regime (seed %d); open_nsfw ResNet-50-1by2 trunk (1024 x 7 x 7, 50 SPP "
          "descriptors an image); FV-VAE K = %d, lambda3 = %g, AdaDelta, batch %d, %d "
          "iterations, %d training seeds (%s); FV %d Gaussians, VLAD %d centres, BP "
          "PCA %d; one-vs-all liblinear SVMs, C = 100." % (
              10 * e.train_per_class, 10 * e.test_per_class, e.seed, e.latent, e.lambda3,
              e.batch, e.iterations, e.seeds, ", ".join(str(e.seed + k) for k in range(e.seeds)),
              e.fv_size, e.vlad_size, e.bp_pca), ""]
    for regime, rows in tables.items():
        md += ["## Regime: %s (%.0f min)" % (regime, info[regime]["seconds"] / 60), ""]
        md += regime_table(rows) + ["", concatenation_check(rows), ""]
    md += ["## The claims", "", "![claims](claims.png)", ""] + claims_table(claims) + [
        "", "a - b: the difference of top-1 over the same test items (with several training "
        "seeds, of each item's fraction of seeds right), its 95%% paired bootstrap interval; "
        "p: exact McNemar with one seed a side, else the paired sign-flip test; Holm: "
        "adjusted across the %d comparisons of this table. Verdict at 0.05 on the Holm p: "
        "holds (a above b), refuted (a below b), not separable." % len(claims), ""]
    if follow_ups:
        md += ["## Follow-ups: FV-VAE with one thing changed (exploratory)", ""]
        md += follow_up_table(follow_ups) + [
            "", "Each against FV-VAE seed 0 and against BP on the same test items; departures "
            "from the evidence runs' settings, not claims (outside the claims' Holm family; "
            "the last column adjusts over a regime's follow-ups against FV-VAE).", ""]
    atomic_write(os.path.join(out, "EVIDENCE.md"), "\n".join(md))
    return os.path.join(out, "EVIDENCE.md")


NUMERIC = ("seeds_a", "seeds_b", "top1_a", "top1_b", "difference", "low", "high", "items",
           "discordant", "p")


def combine_claims(paths, out):
    """The claims of runs made separately (e.g. one regime a session: each
    run's claims.csv) as one Holm family, as if made together: p-values
    re-adjusted over every row, verdicts re-decided. Writes
    OUT/claims_combined.csv, OUT/CLAIMS_COMBINED.md and OUT/claims_combined.png;
    returns the rows."""
    from fvvae.evaluation import paired
    rows = []
    for path in paths:
        with open(path) as f:
            for r in csv.DictReader(f):
                for k in NUMERIC:
                    if k in r and r[k] != "":
                        r[k] = float(r[k])
                r["source"] = path
                rows.append(r)
    if not rows:
        raise ValueError("no claims in %s" % ", ".join(paths))
    for r, p in zip(rows, paired.holm([r["p"] for r in rows])):
        r["p_holm"], r["verdict"] = p, paired.verdict(r["difference"], p)
    os.makedirs(out, exist_ok=True)
    fields = list(rows[0].keys())

    def write_csv(f):
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(rows)
    _atomic(os.path.join(out, "claims_combined.csv"), write_csv)
    md = ["# The claims of %d runs as one Holm family" % len(paths), "",
          "Holm's adjustment over all %d comparisons of %s (each run's own p-values; "
          "`tools/evidence.py --combine`)." % (len(rows), ", ".join(paths)), ""]
    md += claims_table(rows) + ["", "![claims](claims_combined.png)", ""]
    _atomic(os.path.join(out, "CLAIMS_COMBINED.md"), lambda f: f.write("\n".join(md)))
    plot_claims(os.path.join(out, "claims_combined.png"), rows)
    return rows
