"""A protocol run's report (the demo's and the data sets'): REPORT.md (the
table with the paper's numbers beside, the settings, the machine),
results.csv, and PNG plots (the three losses over iterations; accuracy
against dimension, the paper's Figure 4a)."""
import datetime
import os
import platform

import numpy as np

from fvvae.evaluation.metrics import accuracy_cell
from fvvae.evaluation.classify import write_csv
from fvvae.files import atomic_write


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = ", %.0f GiB" % (int(f.readline().split()[1]) / 2 ** 20)
    except (OSError, ValueError, IndexError):
        pass
    return "%s, %d cores%s, %s" % (cpu, os.cpu_count() or 0, mem, platform.platform())


def plot_losses(path, training):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = ("loss_rec", "loss_reg", "loss_cls")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for i, (run, t) in enumerate(training.items()):
        rows = t["losses"]
        for ax, name in zip(axes, names):
            pts = [(r["iteration"], r[name]) for r in rows if name in r]
            if pts:   # one colour per run in every panel (FV-VAE- has no L_cls)
                ax.plot(*zip(*pts), label=run, marker=".", color="C%d" % i)
    titles = ("L_rec (Alg. 1 line 9)", "L_reg (line 10)", "L_cls (line 11, unweighted)")
    for ax, title in zip(axes, titles):
        ax.set_title(title)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path + ".tmp.png", dpi=100)
    plt.close(fig)
    os.replace(path + ".tmp.png", path)


def plot_dimensions(path, points):
    """Accuracy against representation dimension (the paper's Figure 4a)."""
    plot_curves(path, {f: [(p["dimension"], p["top1"]) for p in points if p["family"] == f]
                       for f in ("FV-VAE", "FV", "VLAD")},
                "representation dimension", "Accuracy against dimension (cf. the paper's Fig. 4a)")


def plot_curves(path, series, xlabel, title, logx=2):
    """Top-1 accuracy curves {name: [(x, top1)]} in one PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, pts in series.items():
        if pts:
            pts = sorted(pts)
            ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], marker="o", label=name)
    if logx:
        ax.set_xscale("log", base=logx)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path + ".tmp.png", dpi=100)
    plt.close(fig)
    os.replace(path + ".tmp.png", path)


def write_report(out, title, results, encode_s, training, sweep, settings, paper, order,
                 seconds, paper_note):
    """REPORT.md (the table with the paper's numbers beside), results.csv and
    the plots. paper: {method: (dimension, accuracy %)}; methods it lacks
    show a dash."""
    rows = []
    for name in [m for m in order if m in results]:
        r = results[name]
        pd, pa = paper.get(name, (0, float("nan")))
        rows.append(dict(method=name, dimension=int(r["dimension"]), top1=float(r["top1"]),
                         top1_low=float(r.get("top1_low") or "nan"),
                         top1_high=float(r.get("top1_high") or "nan"),
                         test_items=int(r.get("test_items") or 0),
                         top3=float(r["top3"]), map=float(r["map"]),
                         encode_seconds=encode_s.get(name, 0.0),
                         paper_dimension=pd, paper_top1=pa / 100))
    write_csv(os.path.join(out, "results.csv"), rows, list(rows[0]))
    if training:
        plot_losses(os.path.join(out, "losses.png"), training)
    if sweep:
        plot_dimensions(os.path.join(out, "accuracy_vs_dimension.png"), sweep)
    md = ["# " + title, "",
          "Run %s on %s; %.1f minutes for the whole job (stages reused from an earlier run "
          "count as their reuse time)." % (
              datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), machine(), seconds / 60), "",
          "| method | dimension | top-1 (95% interval) | top-3 | mAP | encode time (s) "
          "| paper: dimension | paper: accuracy |",
          "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        md.append("| %s | %d | %s | %.2f%% | %.2f%% | %.1f | %s | %s |" % (
            r["method"], r["dimension"], accuracy_cell(r["top1"], r["top1_low"], r["top1_high"]),
            100 * r["top3"], 100 * r["map"],
            r["encode_seconds"], r["paper_dimension"] or "–",
            "–" if np.isnan(r["paper_top1"]) else "%.2f%%" % (100 * r["paper_top1"])))
    md += ["", "Top-1 with its 95%% Wilson score interval over the %d test items (binomial: "
           "methods whose intervals overlap are not told apart by this test set)."
           % max((r["test_items"] for r in rows), default=0), "",
           paper_note + " Encode time: turning the cached activations of both splits into "
           "the representation, fitting included (GMM, k-means, PCA; for FV-VAE the FIM and FV "
           "extraction, its training listed below).", "", "## Settings", ""]
    md += ["- **%s**: %s" % kv for kv in settings]
    if training:
        md += ["", "## Losses", "", "![losses](losses.png)", ""]
    if sweep:
        md += ["## Accuracy against dimension", "", "![accuracy vs dimension]"
               "(accuracy_vs_dimension.png)", "", "| run | dimension | top-1 (95% interval) |",
               "| --- | --- | --- |"]
        from fvvae.evaluation.metrics import wilson_interval
        md += ["| %s | %d | %s |" % (p["run"], p["dimension"], accuracy_cell(
            p["top1"], *wilson_interval(p["top1"], p.get("n", 0)))) for p in sweep]
        md.append("")
    md += ["Files: `results.csv` (this table), `eval/` (scores, per-class accuracy and "
           "confusion matrix of every method), the run's log.", ""]
    atomic_write(os.path.join(out, "REPORT.md"), "\n".join(md))
    return "\n".join(md)
