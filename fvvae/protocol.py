"""The paper's protocol on a train and a test list: the chain every data set
runs, from images or frames to the comparison table (Table 2's eight rows).

    lists -> trunk (Caffe) -> descriptor sets, maps, global activations (cached)
          -> GA, Concatenation, AVE, FV, VLAD, BP (tools/encode.py)
          -> FV-VAE- and FV-VAE: `caffe train -solver` (AdaDelta), FIM on the
             training rows, FVs (tools/make_nets.py, estimate_fim.py, extract_fv.py)
          -> one-vs-all liblinear SVMs, C = 100, metrics (tools/evaluate.py)

Every step runs one of the project's tools; fvvae.stages reuses finished
stages (checked by content) and the tools resume interrupted ones. With
frame lists (GROUP = video), every representation of a video is the mean of
its frames' (and crops') representations. The demo (fvvae.demo) and the
per-dataset scripts (tools/run_protocol.py) are this class with their data.
"""
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
log = logging.getLogger("fvvae.protocol")

ORDER = ["GA", "Concatenation", "AVE", "FV", "VLAD", "BP", "FV-VAE⁻", "FV-VAE"]
# FV-VAE trained with the trunk in the graph on augmented images (--augment)
AUGMENTED = ["FV-VAE⁻ +aug", "FV-VAE +aug"]
REPORT_ORDER = ORDER + AUGMENTED
# the tools that run a Caffe net or solver: each takes the protocol's GPU
GPU_TOOLS = {"extract_descriptors.py": ["--gpu", "{gpu}"], "estimate_fim.py": ["--gpu", "{gpu}"],
             "extract_fv.py": ["--gpu", "{gpu}"], "finetune_trunk.py": ["--gpu", "{gpu}"],
             "make_nets.py": ["--gpu"]}
BASELINES = {"GA": ("ga", "global"), "Concatenation": ("concat", "maps"),
             "AVE": ("ave", "maps"), "FV": ("fv", "sets"), "VLAD": ("vlad", "sets"),
             "BP": ("bp", "sets")}


class ProtocolError(RuntimeError):
    pass


@dataclass
class ProtocolSettings:
    """The method's settings; the defaults are the paper's (section 5.2)."""
    out: str = os.path.join(ROOT, "runs", "protocol")
    iterations: int = 5000
    batch: int = 128
    latent: int = 255
    lambda3: float = 1000.0
    fv_size: int = 128
    vlad_size: int = 256
    bp_pca: int = 0          # 0: BP on the full descriptors (C^2)
    sample: int = 100000
    seed: int = 0
    gpu: Optional[int] = None   # GPU id for every net and solver; None: CPU
    # also FV-VAE- and FV-VAE trained the authors' way: images through the
    # frozen trunk in the graph, shuffled, randomly cropped (from augment_resize,
    # default the trunk's) and mirrored, instead of the cached centre crops
    augment: bool = False
    augment_resize: tuple = ()
    sweep: bool = False
    methods: List[str] = field(default_factory=lambda: list(ORDER))


@dataclass
class Data:
    """What the protocol runs on: lists (`PATH LABEL [GROUP [CROP]]`) and a trunk."""
    train_list: str
    test_list: str
    classes: int
    trunk: str = "open_nsfw"
    weights: str = ""
    resize: tuple = ()       # (H, W) before cropping; () = the tool's default
    crop: int = 0            # 0 = the trunk's input size
    grouped: bool = True     # rows per GROUP (videos); False: per item


class Protocol:
    def __init__(self, s, data=None, log_name="run.log"):
        from fvvae.stages import Stages
        from fvvae.trunks import TRUNKS
        self.s = s
        self.data = data
        self.out = os.path.abspath(s.out)
        os.makedirs(self.out, exist_ok=True)
        self.stages = Stages(self.out)
        self.tool_log = os.path.join(self.out, log_name)
        self.trunk = TRUNKS[data.trunk] if data else None
        unknown = [m for m in s.methods if m not in ORDER]
        if unknown:
            raise ProtocolError("unknown methods %s (known: %s)" % (unknown, ", ".join(ORDER)))

    def path(self, *parts):
        return os.path.join(self.out, *parts)

    @property
    def descriptors_per_set(self):
        return 50 if self.trunk.map_size == 7 else self.trunk.map_size ** 2

    def list_arg(self, split, flag="--list"):
        """[flag, the split's list] when rows are per GROUP (videos), else []."""
        return [flag, getattr(self.data, split + "_list")] if self.data.grouped else []

    # ---- running tools ----------------------------------------------------
    def tool(self, name, *args):
        """Runs tools/NAME with its progress bar on the terminal and its
        output in the run's log."""
        if self.s.gpu is not None and name in GPU_TOOLS:
            args = list(args) + [a.format(gpu=self.s.gpu) for a in GPU_TOOLS[name]]
        cmd = [sys.executable, os.path.join(ROOT, "tools", name)] + [str(a) for a in args]
        log.info("$ %s", " ".join(cmd))
        with open(self.tool_log, "a") as f:
            res = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, text=True)
            f.write(res.stderr[-4000:] if res.returncode else "")
        if res.returncode != 0:
            raise ProtocolError("%s failed (exit %d): %s\nsee %s" % (
                name, res.returncode, res.stderr.strip().splitlines()[-1:] or "", self.tool_log))

    def trunk_weights(self):
        from fvvae.trunks import trunk_weights
        return trunk_weights(self.data.trunk, self.data.weights or None)

    def caffe_train(self, solver, snapshots, iterations, log_path, weights=None):
        """`.venv/bin/caffe train -solver`; see train_with_guard."""
        try:
            train_with_guard(solver, snapshots, iterations, log_path, gpu=self.s.gpu,
                             weights=weights)
        except RuntimeError as e:
            raise ProtocolError(str(e)) from None

    # ---- stages -------------------------------------------------------------
    def imagedata_list(self):
        """OUT/imagedata_train.txt: the training list as Caffe's ImageData reads
        it (`PATH LABEL`), for the committed train_with_trunk nets
        (prototxt/NAME/, fvvae.experiments); colour trunks only."""
        from fvvae.image_list import imagedata_lines, read_list
        if self.trunk.in_channels != 3:
            return
        path = self.path("imagedata_train.txt")
        text = imagedata_lines(read_list(self.data.train_list, check_files=False))
        if not os.path.exists(path) or open(path).read() != text:
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.replace(path + ".tmp", path)

    def descriptors(self, deps=()):
        d = self.data
        self.imagedata_list()
        outputs = [self.path("activations", "%s_%s.lmdb" % (kind, split))
                   for split in ("train", "test") for kind in ("sets", "maps", "global")]

        def make():
            for split in ("train", "test"):
                args = ["--trunk", d.trunk, "--list", getattr(d, split + "_list"), "--batch", 16,
                        "--out", self.path("activations", "sets_%s.lmdb" % split),
                        "--maps", self.path("activations", "maps_%s.lmdb" % split),
                        "--global", self.path("activations", "global_%s.lmdb" % split)]
                if d.weights:
                    args += ["--weights", d.weights]
                if d.resize:
                    args += ["--resize"] + list(d.resize)
                if d.crop:
                    args += ["--crop", d.crop]
                if split == "train":   # Caffe's Data layer reads the records in key order
                    args += ["--shuffle", self.s.seed]
                self.tool("extract_descriptors.py", *args)
        self.stages.run("descriptors", {"trunk": d.trunk, "weights": d.weights,
                                        "resize": list(d.resize), "crop": d.crop,
                                        "lists": [d.train_list, d.test_list],
                                        "train_order_seed": self.s.seed},
                        outputs, make, deps=deps)

    def fv_vae(self, lambda3, latent, augment=False, train_seed=None):
        """Train, FIM, FVs of one FV-VAE variant; returns (representation
        files, encode seconds, training record). augment: train with the
        trunk in the graph on shuffled, randomly cropped, mirrored images
        (train_with_trunk.prototxt) rather than on the cached sets.
        train_seed: Caffe's random_seed for this training (default the run's
        seed): the spread over training seeds."""
        s, C = self.s, self.trunk.channels
        tag = "fvvae_%s_k%d" % ("minus" if lambda3 == 0 else "full", latent)
        if lambda3 not in (0, s.lambda3):
            tag += "_l%g" % lambda3
        if augment:
            tag += "_aug"
        seed = s.seed if train_seed is None else train_seed
        if seed != s.seed:
            tag += "_seed%d" % seed
        folder = self.path(tag)
        snapshots = os.path.join(folder, "snapshots")
        final = os.path.join(snapshots, "fv_vae%s_iter_%d.caffemodel"
                             % ("_with_trunk" if augment else "", s.iterations))
        params = dict(latent=latent, lambda3=lambda3, iterations=s.iterations,
                      batch=s.batch, seed=seed)
        if augment:
            params.update(augment=True, resize=list(s.augment_resize))

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
                      "--set", "channels=%d" % C,
                      "--set", "descriptors=%d" % self.descriptors_per_set,
                      "--set", "encoder=[%d, %d]" % (C, latent),
                      "--set", "classes=%d" % self.data.classes, "--set", "batch=%d" % s.batch,
                      "--set", "iterations=%d" % s.iterations,
                      "--set", "snapshot=%d" % max(1, s.iterations // 4),
                      "--set", "lambda3=%g" % lambda3, "--set", "seed=%d" % seed,
                      *(["--trunk", self.data.trunk, "--trunk-list", self.data.train_list]
                        + (["--set", "resize=%s" % list(s.augment_resize)]
                           if s.augment_resize else []) if augment else []))
            start = time.time()
            self.caffe_train(os.path.join(folder, "solver_with_trunk.prototxt" if augment
                                          else "solver.prototxt"), snapshots,
                             s.iterations, os.path.join(folder, "train.log"),
                             weights=self.trunk_weights() if augment else None)
            return {"losses": parse_losses(os.path.join(folder, "train.log")),
                    "seconds": time.time() - start}
        trained = self.stages.run("train_" + tag, params, [final], train, deps=("descriptors",))

        fim = os.path.join(folder, "fv_vae_fim.caffemodel")
        files = {sp: os.path.join(folder, "fv_%s.h5" % sp) for sp in ("train", "test")}
        net = os.path.join(folder, "extract.prototxt")

        def extract():
            start = time.time()
            self.tool("estimate_fim.py", "--net", net, "--weights", final, "--source",
                      self.path("activations", "sets_train.lmdb"), "--out", fim,
                      *self.list_arg("train"))
            for sp in ("train", "test"):
                self.tool("extract_fv.py", "--net", net, "--weights", fim, "--no-normalize",
                          "--source", self.path("activations", "sets_%s.lmdb" % sp),
                          "--out", files[sp], *self.list_arg(sp))
            return {"seconds": time.time() - start}
        enc = self.stages.run("fv_" + tag, {"grouped": self.data.grouped},
                              [fim] + list(files.values()), extract, deps=("train_" + tag,))
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
        args += self.list_arg("train", "--train-list") + self.list_arg("test", "--test-list")
        if size:
            args += ["--size", size]
        if method == "bp" and self.s.bp_pca:
            args += ["--pca", self.s.bp_pca]

        def make():
            start = time.time()
            self.tool("encode.py", *args)
            return {"seconds": time.time() - start}
        res = self.stages.run("encode_%s%s" % (method, size or ""), {"args": [str(a) for a in args]},
                              list(files.values()), make, deps=("descriptors",))
        return files, res["seconds"]

    def evaluate(self, runs, folder, extra=()):
        """runs: {name: files}; returns {name: result row}."""
        import csv
        args = ["--out", folder, "--classes", self.data.classes] + list(extra)
        for name in runs:
            args += ["--run", name, runs[name]["train"], runs[name]["test"]]
        self.tool("evaluate.py", *args)
        with open(os.path.join(folder, "results.csv")) as f:
            return {r["method"]: r for r in csv.DictReader(f)}

    def representations(self):
        """All the chosen methods' representation files: ({name: files},
        {name: encode seconds}, {name: training record})."""
        runs, encode_s, training = {}, {}, {}
        for name in [m for m in ORDER[:6] if m in self.s.methods]:
            runs[name], encode_s[name] = self.baseline(name)
        for name, lam in (("FV-VAE⁻", 0.0), ("FV-VAE", self.s.lambda3)):
            if name in self.s.methods:
                runs[name], encode_s[name], training[name] = self.fv_vae(lam, self.s.latent)
            if name in self.s.methods and self.s.augment:
                aug = name + " +aug"
                runs[aug], encode_s[aug], training[aug] = self.fv_vae(lam, self.s.latent, True)
        return runs, encode_s, training

    def sweep(self):
        """Accuracy against representation dimension (the paper's Figure 4a):
        FV-VAE latent sizes, FV mixture sizes, VLAD centres."""
        C = self.trunk.channels
        runs = {}
        for k in sorted({15, 63, self.s.latent}):
            runs["FV-VAE K=%d" % k] = (self.fv_vae(self.s.lambda3, k)[0], "FV-VAE", C * (k + 1))
        for g in sorted({8, 32, self.s.fv_size}):
            runs["FV %d" % g] = (self.baseline("FV", g)[0], "FV", 2 * g * C)
        for c in sorted({16, 64, self.s.vlad_size}):
            runs["VLAD %d" % c] = (self.baseline("VLAD", c)[0], "VLAD", c * C)
        res = self.evaluate({n: r[0] for n, r in runs.items()}, self.path("eval_sweep"))
        return [{"run": n, "family": family, "dimension": dim, "top1": float(res[n]["top1"]),
                 "n": int(res[n].get("test_items") or 0)} for n, (_, family, dim) in runs.items()]


LOSS_LINE = re.compile(r"Iteration (\d+).*?, loss = (\S+)|Train net output #\d+: \w+ = (\S+)")


def _snapshots(folder, kinds="solverstate"):
    """[(iteration, path)] of a snapshot folder's files of these kinds (a
    regex alternative: "solverstate|caffemodel"), in order."""
    return sorted((int(m.group(1)), os.path.join(folder, f)) for f in os.listdir(folder)
                  for m in [re.search(r"_iter_(\d+)\.(?:%s)$" % kinds, f)] if m)


def train_with_guard(solver, snapshots, iterations, log_path, tool=None, weights=None, gpu=None):
    """`.venv/bin/caffe train -solver`, resumed from the last snapshot in
    `snapshots` if there is one (else started from `weights`, if given), on
    GPU `gpu` if given, with a progress bar over the iterations.
    A NaN or Inf loss stops training at once: the snapshots taken after the
    last finite loss are removed, the earlier ones kept, and RuntimeError
    names the iteration and the snapshot to resume from."""
    import math
    from tqdm import tqdm
    for name in os.listdir(snapshots):   # a snapshot being written when a run was killed
        if name.endswith(".partial"):
            os.remove(os.path.join(snapshots, name))
    states = _snapshots(snapshots)
    cmd = [tool or os.path.join(ROOT, ".venv", "bin", "caffe"), "train", "-solver", solver]
    if states:
        cmd += ["-snapshot", states[-1][1]]
        log.info("resuming training from %s", states[-1][1])
    elif weights:
        cmd += ["-weights", weights]
    if gpu is not None:
        cmd += ["-gpu", str(gpu)]
    env = dict(os.environ, GLOG_minloglevel="0", GLOG_logtostderr="1")
    iteration, last_finite, bad = states[-1][0] if states else 0, None, None
    with open(log_path, "a") as f, tqdm(total=iterations, desc="caffe train",
                                        initial=iteration) as bar:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=env)
        for line in proc.stderr:
            f.write(line)
            m = LOSS_LINE.search(line)
            if not m:
                continue
            if m.group(1):
                iteration = int(m.group(1))
                bar.n = min(iterations, iteration)
                bar.refresh()
            value = m.group(2) or m.group(3)
            try:
                finite = math.isfinite(float(value))
            except ValueError:
                finite = False
            if finite and m.group(1):
                last_finite = iteration
            elif not finite:
                bad = (iteration, line.strip())
                proc.kill()
                break
        rc = proc.wait()
    if bad:
        kept = [(i, p) for i, p in _snapshots(snapshots) if last_finite is not None
                and i <= last_finite]
        # every file of a later iteration goes, a weights file whose solver
        # state was still being written when the run was stopped included
        for i, path in _snapshots(snapshots, "solverstate|caffemodel"):
            if last_finite is None or i > last_finite:
                os.remove(path)
        raise RuntimeError(
            "training stopped: the loss is not finite at iteration %d (%s); %s; see %s"
            % (bad[0], bad[1].split("] ")[-1],
               "the last good snapshot is %s" % kept[-1][1] if kept
               else "no snapshot was taken before it", log_path))
    if rc != 0:
        raise RuntimeError("caffe train failed (exit %d); see %s" % (rc, log_path))


def parse_losses(log_path):
    """[(iteration, {loss name: value})] from a caffe train log. A log that
    training resumed into holds the iterations after the snapshot twice: the
    resumed run's lines, which come last, are kept."""
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
    last = {r["iteration"]: r for r in rows}
    return [last[i] for i in sorted(last)]
