#!/usr/bin/env python
"""Encoding and training throughput on this machine's CPU, as ratios measured
in one run (issue 7's table):

* encoding, in descriptors per second, on identical random non-negative
  descriptor sets (T = 50 and 784; C = 512 and 2048): the FV-VAE extraction
  head in Caffe with our layers (encoder C -> C -> 255, decoder, FisherVector;
  C x 256 dimensions), also on the per-set layout (its baseline: one GEMM per
  set), VLFeat's FV with 128 Gaussians (2 x 128 x C, the same dimension),
  VLFeat's VLAD with 256 centres, and BP;
* the machine's single-precision GEMM rate through Caffe's own BLAS (an
  InnerProduct layer, 4096 x 4096 x 4096), and from the head's floating-point
  work per descriptor its fraction of that limit (target: >= 50%) and its
  speed against VLFeat's FV at equal dimension (target: >= 1x);
* training: `caffe time` of the train net (batch 128 frames x 50
  descriptors, C = 512) and the paper's 5000 iterations (target: <= 30 min on
  2 cores), on both layouts;
* the SVM stage's peak memory at UCF101 shape and the GPU table, from
  bench/svm_memory.py and bench/gpu_check.sh's results when present.

    .venv/bin/python bench/encoding.py            # writes bench/results/encoding.{md,csv}, training.csv

GMM, k-means and the FV-VAE weights are random (only time is measured).
"""
import argparse
import csv
import glob
import os
import re
import subprocess
import tempfile
import time

os.environ.setdefault("GLOG_minloglevel", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES = ((512, 50), (512, 784), (2048, 50), (2048, 784))


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def gemm_rate(caffe, n=4096):
    """GFLOP/s of one n x n x n single-precision product through Caffe's BLAS."""
    text = ('layer { name: "x" type: "Input" top: "x" input_param { shape { dim: %d dim: %d } } }\n'
            'layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param '
            '{ num_output: %d bias_term: false weight_filler { type: "gaussian" std: 0.01 } } }'
            % (n, n, n))
    with tempfile.NamedTemporaryFile("w", suffix=".prototxt", delete=False) as f:
        f.write(text)
    net = caffe.Net(f.name, caffe.TEST)
    os.unlink(f.name)
    net.blobs["x"].data[...] = 1.0
    net.forward()
    return 2.0 * n ** 3 / best_of(net.forward) / 1e9


def head_flops(c, k):
    """Multiply-adds x 2 per descriptor: encoder C -> C -> K, decoder K -> C, eq. 11's
    outer product C x (K + 1)."""
    return 2 * (c * c + c * k + k * c + c * (k + 1))


def fvvae_head(caffe, sets, k=255, columns=None):
    """Descriptors per second of the extraction net: on the columns layout
    (columns=True), on the sets themselves (False: one GEMM per set in every
    1x1 convolution), or as fvvae/model/nets.py chooses for this T (None)."""
    from fvvae.model.config import FVVAEConfig
    from fvvae.model.nets import extract_net
    n, c, _, t = sets.shape
    cfg = FVVAEConfig(channels=c, descriptors=t, encoder=[c, k]).validate()
    net_param = extract_net(caffe, cfg, input_shape=list(sets.shape), columns=columns)
    with tempfile.NamedTemporaryFile("w", suffix=".prototxt", delete=False) as f:
        f.write(str(net_param))
    net = caffe.Net(f.name, caffe.TEST)
    os.unlink(f.name)
    net.blobs["data"].data[...] = sets
    net.forward()
    return n * t / best_of(net.forward, 10)


def vlfeat(method, sets, size, seed=0):
    import numpy as np
    from fvvae.baselines import encode
    rng = np.random.default_rng(seed)
    c = sets.shape[1]
    sample = sets[:, :, 0, :].transpose(0, 2, 1).reshape(-1, c)
    pick = sample[rng.choice(len(sample), size, replace=False)]
    if method == "fv":
        book = {"means": pick.astype(np.float32), "covars": np.ones((size, c), np.float32),
                "priors": np.full(size, 1.0 / size, np.float32)}
    elif method == "vlad":
        book = {"centers": pick.astype(np.float32)}
    else:
        book = None

    def run():
        for s in sets:
            encode(method, s, book)
    return sets.shape[0] * sets.shape[3] / best_of(run, 2)


def train_time(c=512, t=50, batch=128, columns=None):
    """Seconds per iteration (forward and backward) of the train net, from
    `caffe time`; columns as in fvvae_head."""
    from fvvae.model.config import FVVAEConfig
    from fvvae.model.nets import train_net_on_inputs
    import caffe
    cfg = FVVAEConfig(channels=c, descriptors=t, encoder=[c, 255], batch=batch, classes=101)
    net_param = train_net_on_inputs(caffe, cfg, columns=columns)
    with tempfile.NamedTemporaryFile("w", suffix=".prototxt", delete=False) as f:
        f.write(str(net_param))
    out = subprocess.run([os.path.join(ROOT, ".venv", "bin", "caffe"), "time", "-model", f.name,
                          "-iterations", "5"], capture_output=True, text=True,
                         env=dict(os.environ, GLOG_minloglevel="0", GLOG_logtostderr="1"))
    os.unlink(f.name)
    m = re.search(r"Average Forward-Backward: ([0-9.]+) ms", out.stderr)
    if not m:
        raise RuntimeError("caffe time failed: %s" % out.stderr[-2000:])
    return float(m.group(1)) / 1000


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--descriptors", type=int, default=6400,
                    help="descriptors per measurement (sets = this / T)")
    args = ap.parse_args(argv)
    import caffe
    import numpy as np
    caffe.set_mode_cpu()
    os.makedirs(args.out, exist_ok=True)
    cores = os.cpu_count()
    gemm = gemm_rate(caffe)
    print("GEMM (Caffe's BLAS, 4096^3, float32): %.1f GFLOP/s on %d cores" % (gemm, cores))
    rng = np.random.default_rng(0)
    data = [(c, t, np.abs(rng.normal(size=(max(1, args.descriptors // t), c, 1, t)))
             .astype(np.float32)) for c, t in SHAPES]
    # Caffe's measurements first, as one phase: VLFeat and BP run NumPy's own
    # OpenBLAS, whose idle threads keep spinning for a while after each call
    # and would take cores from Caffe's BLAS were the two interleaved.
    # Two rounds over the shapes, the best of each kept (like best_of within a
    # round): one core of a 2-core virtual machine stalls now and then.
    from fvvae.model.config import FVVAEConfig
    from fvvae.model.nets import COLUMNS_BELOW_T, columns_layout
    rows = [{"C": c, "T": t, "head_columns": 0.0, "head_per_set": 0.0} for c, t, _ in data]
    for _ in range(2):
        for r, (c, t, sets) in zip(rows, data):
            r["head_columns"] = max(r["head_columns"], fvvae_head(caffe, sets, columns=True))
            r["head_per_set"] = max(r["head_per_set"], fvvae_head(caffe, sets, columns=False))
    for r in rows:   # the layout the nets use at this T
        r["layout"] = ("columns" if columns_layout(FVVAEConfig(descriptors=r["T"]))
                       else "per_set")
        r["fvvae_head"] = r["head_" + r["layout"]]
    for r, (c, t, sets) in zip(rows, data):
        r.update(vlfeat_fv128=vlfeat("fv", sets, 128), vlfeat_vlad256=vlfeat("vlad", sets, 256),
                 bp=vlfeat("bp", sets, 0))
        r["head_gflops"] = r["fvvae_head"] * head_flops(c, 255) / 1e9
        r["head_fraction_of_gemm"] = r["head_gflops"] / gemm
        r["head_vs_fv"] = r["fvvae_head"] / r["vlfeat_fv128"]
        print("C %4d T %3d: FV-VAE head %.3g desc/s (%s layout, %.0f%% of GEMM; columns %.3g, "
              "per-set %.3g), FV %.3g, VLAD %.3g, BP %.3g"
              % (c, t, r["fvvae_head"], r["layout"], 100 * r["head_fraction_of_gemm"],
                 r["head_columns"], r["head_per_set"], r["vlfeat_fv128"], r["vlfeat_vlad256"],
                 r["bp"]))
    time.sleep(2)
    it, it_per_set = train_time(columns=True), train_time(columns=False)
    keys = list(rows[0])
    with open(os.path.join(args.out, "encoding.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows(rows)
    md = ["# Encoding and training throughput (bench/encoding.py)", "",
          "%s; GEMM through Caffe's BLAS: %.1f GFLOP/s on %d cores." % (
              time.strftime("%Y-%m-%d"), gemm, cores), "",
          "| C | T | FV-VAE head (desc/s) | its layout | columns | per-set | VLFeat FV 128 "
          "| VLFeat VLAD 256 | BP | head GFLOP/s | head / GEMM (target >= 50%) "
          "| head / FV (target >= 1x) |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        md.append("| %d | %d | %.3g | %s | %.3g | %.3g | %.3g | %.3g | %.3g | %.1f | %.0f%% "
                  "| %.1fx |" % (
                      r["C"], r["T"], r["fvvae_head"], r["layout"], r["head_columns"],
                      r["head_per_set"], r["vlfeat_fv128"], r["vlfeat_vlad256"], r["bp"],
                      r["head_gflops"], 100 * r["head_fraction_of_gemm"], r["head_vs_fv"]))
    md += ["", "'columns': the 1x1 convolutions on the batch's descriptors as the columns of "
           "one matrix (SetsToColumns; FisherVector reads the columns); 'per-set': the same "
           "net on the sets, one GEMM per set. The nets use the columns below T = %d "
           "(fvvae/model/nets.py)." % COLUMNS_BELOW_T, "",
           "Training (train net, batch 128 x 50 descriptors, C = 512, `caffe time`): "
           "%.2f s an iteration, %.2f iterations/s; the paper's 5000 iterations: %.0f minutes on "
           "%d cores (target <= 30 minutes on 2 cores), on the columns; per-set layout: %.2f s an iteration, "
           "%.0f minutes." % (it, 1 / it, 5000 * it / 60, cores, it_per_set,
                              5000 * it_per_set / 60), ""]
    with open(os.path.join(args.out, "training.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["layout", "seconds_per_iteration", "minutes_for_5000", "cores"])
        w.writerow(["columns", it, 5000 * it / 60, cores])
        w.writerow(["per_set", it_per_set, 5000 * it_per_set / 60, cores])
    for extra in sorted(glob.glob(os.path.join(args.out, "svm_memory.md")) +
                        glob.glob(os.path.join(args.out, "gpu_check_*.md"))):
        md += ["## %s" % os.path.basename(extra), "", open(extra).read().strip(), ""]
    with open(os.path.join(args.out, "encoding.md"), "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
