#!/usr/bin/env python3
"""Turns the outputs of bench/gpu_check.sh into its tables (standard library
only: it runs on the GPU node): OUTDIR/gpu_head.csv (the FV-VAE head at each
(C, T) and layout against the SGEMM rate of the same run), OUTDIR/trunks.csv
(Caffe without and with cuDNN against PyTorch) and OUTDIR/gpu_check.md (every
table, the agreement table, the gtest counts, the training run and the
issue's targets, met or not).

    python3 gpu_report.py OUTDIR NETS
"""
import csv
import os
import re
import statistics
import sys

HEAD_TARGET = 0.40       # of the measured SGEMM rate, every shape, the nets' layout
TRAIN_TARGET_MS = 5.0    # a training iteration of the paper's net
TORCH_TARGET = 0.8       # Caffe with cuDNN against PyTorch, images per second


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def gtest_counts(path):
    """(passed, failed, failed names) of a gtest log; None when it is missing."""
    if not os.path.exists(path):
        return None
    text = open(path, errors="replace").read()
    passed = re.search(r"\[  PASSED  \] (\d+) tests?", text)
    failed = sorted(set(re.findall(r"^\[  FAILED  \] ([\w/.]+)", text, re.M)))
    return (int(passed.group(1)) if passed else 0, len(failed), failed)


def agreement(paths):
    rows = []
    for path in paths:
        if os.path.exists(path):
            for line in open(path, errors="replace"):
                if line.startswith("AGREEMENT|"):
                    _, name, fd, fs, bd, bs = line.strip().split("|")
                    rows.append((name, float(fd), float(fs), float(bd), float(bs)))
    return rows


def train_stats(path):
    """(ms per iteration, first loss, last loss) from caffe train's log."""
    if not os.path.exists(path):
        return None
    text = open(path, errors="replace").read()
    rates = [float(r) for r in re.findall(r"Iteration \d+ \(([\d.e+-]+) iter/s", text)]
    losses = [float(v) for v in re.findall(r"Iteration \d+.*?, loss = ([\d.e+-]+)", text)]
    rates = [r for r in rates[1:] if r > 0]         # the first display has no rate
    if not rates or len(losses) < 2:
        return None
    return 1000.0 / statistics.median(rates), losses[0], losses[-1]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out, nets = argv[0], argv[1]
    md = ["# GPU check", ""]
    if os.path.exists(os.path.join(out, "machine.txt")):
        md += ["```", open(os.path.join(out, "machine.txt")).read().strip(), "```", ""]
    times = {r["net"]: r for r in read_csv(os.path.join(out, "caffe_time.csv"))}
    torch_rows = {r["what"]: r for r in read_csv(os.path.join(out, "torch.csv"))}
    sgemm = float(torch_rows["sgemm_8192"]["rate"]) if "sgemm_8192" in torch_rows else None
    verdicts = []

    # ---- the FV-VAE head
    head_rows = []
    for h in read_csv(os.path.join(nets, "heads.csv")):
        t = times.get(h["net"])
        if not t or not t.get("forward_ms"):
            continue
        ms = float(t["forward_ms"])
        rate = int(h["descriptors_per_pass"]) / (ms / 1e3)
        tflops = rate * int(h["flops_per_descriptor"]) / 1e12
        head_rows.append({"C": h["C"], "T": h["T"], "layout": h["layout"],
                          "desc_per_s": "%.4g" % rate, "tflops": "%.4g" % tflops,
                          "fraction_of_sgemm": "%.4g" % (tflops / sgemm) if sgemm else "",
                          "nets_layout": h["nets_layout"], "ms_per_pass": "%.4g" % ms})
    if head_rows:
        with open(os.path.join(out, "gpu_head.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(head_rows[0]))
            w.writeheader()
            w.writerows(head_rows)
        md += ["## FV-VAE head (extraction, eq. 11)", "",
               "SGEMM (cuBLAS through PyTorch, 8192^3, FP32, TF32 off): %s TFLOP/s" % (
                   "%.2f" % sgemm if sgemm else "not measured"), "",
               "| C | T | layout | nets' layout | ms a pass | descriptors/s | TFLOP/s "
               "| of SGEMM |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in head_rows:
            frac = r["fraction_of_sgemm"]
            md.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["C"], r["T"], r["layout"], "yes" if r["nets_layout"] == "1" else "",
                r["ms_per_pass"], r["desc_per_s"], r["tflops"],
                "%.1f%%" % (100 * float(frac)) if frac else "?"))
        used = [r for r in head_rows if r["nets_layout"] == "1" and r["fraction_of_sgemm"]]
        if used:
            worst = min(float(r["fraction_of_sgemm"]) for r in used)
            verdicts.append(("head >= %d%% of SGEMM at every shape (nets' layout)"
                             % (100 * HEAD_TARGET), "%.1f%% at worst" % (100 * worst),
                             worst >= HEAD_TARGET))
        md.append("")

    # ---- trunks: Caffe without / with cuDNN, PyTorch
    trunk_rows = []
    for name in ("vgg19_pool5_224_b128", "resnet152_res5c_224_b64", "vgg19_conv5_4_448_b16"):
        batch = int(name.rsplit("_b", 1)[1])
        row = {"trunk": name, "batch": batch}
        for tag in ("caffe", "cudnn"):
            t = times.get("trunk_%s_%s" % (name, tag))
            row[tag] = (batch / (float(t["forward_ms"]) / 1e3)
                        if t and t.get("forward_ms") else None)
        p = torch_rows.get(name)
        row["torch"] = float(p["rate"]) if p else None
        trunk_rows.append(row)
    if any(r["caffe"] or r["torch"] for r in trunk_rows):
        with open(os.path.join(out, "trunks.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["trunk", "batch", "caffe_images_per_s", "caffe_cudnn_images_per_s",
                        "torch_images_per_s", "cudnn_over_torch"])
            for r in trunk_rows:
                ratio = r["cudnn"] / r["torch"] if r["cudnn"] and r["torch"] else None
                w.writerow([r["trunk"], r["batch"]] + ["%.1f" % v if v else ""
                           for v in (r["caffe"], r["cudnn"], r["torch"])]
                           + ["%.3f" % ratio if ratio else ""])
        md += ["## Trunks, images per second (forward, FP32)", "",
               "| trunk | batch | Caffe (im2col + SGEMM) | Caffe + cuDNN | PyTorch | "
               "cuDNN / PyTorch |", "| --- | --- | --- | --- | --- | --- |"]
        for r in trunk_rows:
            ratio = r["cudnn"] / r["torch"] if r["cudnn"] and r["torch"] else None
            md.append("| %s | %d | %s | %s | %s | %s |" % (
                r["trunk"], r["batch"], *["%.1f" % v if v else "?" for v in
                                          (r["caffe"], r["cudnn"], r["torch"])],
                "%.2fx" % ratio if ratio else "?"))
            if ratio is not None:
                verdicts.append(("Caffe + cuDNN >= %.1fx PyTorch, %s" % (TORCH_TARGET, r["trunk"]),
                                 "%.2fx" % ratio, ratio >= TORCH_TARGET))
        md.append("")

    # ---- training
    st = train_stats(os.path.join(out, "train.log"))
    t = times.get("train_C512_T50")
    md += ["## Training (the paper's net, C = 512, T = 50, batch 128)", ""]
    if t and t.get("forward_backward_ms"):
        md.append("- `caffe time` forward-backward: %s ms" % t["forward_backward_ms"])
    if st:
        ms, first, last = st
        md.append("- `caffe train -gpu 0`, 200 iterations on a synthetic LMDB: %.2f ms an "
                  "iteration (median of the displayed rates), loss %.4g -> %.4g" % (ms, first,
                                                                                   last))
        verdicts.append(("training iteration <= %g ms" % TRAIN_TARGET_MS, "%.2f ms" % ms,
                         ms <= TRAIN_TARGET_MS))
        verdicts.append(("training loss falls", "%.4g -> %.4g" % (first, last), last < first))
    else:
        md.append("- `caffe train`: no log or no iterations (see train.log)")
    md.append("")

    # ---- correctness
    md += ["## Correctness on the GPU", ""]
    for label, log in (("our layers (GradientChecker, GPU float and double; agreement)",
                        "gtest_fvvae_gpu.log"),
                       ("Caffe's convolution, pooling, neuron and softmax tests (GPU, CuDNN*)",
                        "gtest_trunk_gpu.log")):
        c = gtest_counts(os.path.join(out, log))
        if c is None:
            md.append("- %s: not run" % label)
            continue
        md.append("- %s: %d passed, %d failed%s" % (label, c[0], c[1],
                                                     (": " + ", ".join(c[2])) if c[2] else ""))
        verdicts.append(("gtest: " + label, "%d passed, %d failed" % (c[0], c[1]),
                         c[1] == 0 and c[0] > 0))
    rows = agreement([os.path.join(out, "gtest_fvvae_gpu.log")])
    if rows:
        md += ["", "| layer | forward max abs diff | forward scale | backward max abs diff "
               "| backward scale |", "| --- | --- | --- | --- | --- |"]
        md += ["| %s | %.3g | %.3g | %.3g | %.3g |" % r for r in rows]
    md += ["", "## Targets", "", "| target | measured | met |", "| --- | --- | --- |"]
    md += ["| %s | %s | %s |" % (name, got, "yes" if ok else "**no**")
           for name, got, ok in verdicts]
    with open(os.path.join(out, "gpu_check.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
