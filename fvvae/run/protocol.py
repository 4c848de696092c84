"""The paper's protocol on a train and a test list: the chain every data set
runs, from images or frames to the comparison table (Table 2's eight rows).

    lists -> trunk (Caffe) -> descriptor sets, maps, global activations (cached)
          -> GA, Concatenation, AVE, FV, VLAD, BP (tools/encode.py)
          -> FV-VAE- and FV-VAE: `caffe train -solver` (AdaDelta), FIM on the
             training rows, FVs (tools/make_nets.py, estimate_fim.py, extract_fv.py)
          -> one-vs-all liblinear SVMs, C = 100, metrics (tools/evaluate.py)

Every step runs one of the project's tools; fvvae.run.stages reuses finished
stages (checked by content) and the tools resume interrupted ones. With
frame lists (GROUP = video), every representation of a video is the mean of
its frames' (and crops') representations. With `chunk` > 0 the stores are
streamed a chunk of whole videos at a time (fvvae.run.streaming): only the
training sets are kept. The demo (fvvae.run.demo) and the
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

from fvvae import ROOT
from fvvae.model.training import parse_losses, train_with_guard
from fvvae.files import atomic, digest, signature
from fvvae.methods import BASELINE_METHODS, BASELINES, BY_KEY, BY_NAME, ORDER, fv_vae_tag

log = logging.getLogger("fvvae.run.protocol")

# the tools that run a Caffe net or solver: each takes the protocol's GPU
GPU_TOOLS = {"extract_descriptors.py": ["--gpu", "{gpu}"], "estimate_fim.py": ["--gpu", "{gpu}"],
             "extract_fv.py": ["--gpu", "{gpu}"], "finetune_trunk.py": ["--gpu", "{gpu}"],
             "make_nets.py": ["--gpu"]}


class ProtocolError(RuntimeError):
    pass


@dataclass
class ProtocolSettings:
    """The method's settings; the defaults are the paper's (section 5.2)."""
    out: str = os.path.join(ROOT, "runs", "protocol")
    iterations: int = 5000
    batch: int = 128
    latent: int = BY_NAME["FV-VAE"].default_size          # K
    lambda3: float = 1000.0
    fv_size: int = BY_NAME["FV"].default_size             # Gaussians
    vlad_size: int = BY_NAME["VLAD"].default_size         # centres
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
    # videos (images without groups) per streamed chunk (fvvae.run.streaming);
    # 0: every store kept to the end (sweeps and analyses read them again)
    chunk: int = 0
    # representation files stored compact: normalised, float16, BP folded
    # (fvvae.data.representations; bench/compact.py measures what it changes)
    compact: bool = False
    # the streamed stages across machines (scripts/slurm_protocol.sh): with
    # shard (i, n) and side "train" or "test", this run does only the i-th of
    # n blocks of that side's chunks, into OUT/shards/SIDE-i-of-n/, and runs
    # nothing else (the stages before it must be finished); shards = n: the
    # streamed stages take their rows from the n shards (merged)
    shard: tuple = ()
    side: str = ""
    shards: int = 0
    # "models": stop after the training side and the methods' models (the
    # codebooks, FV-VAE's training, FIM and training FVs), before the test side
    until: str = ""


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
    preprocess: str = "caffe"  # fvvae.data.preprocess.PREPROCESSING
    class_names: str = ""    # classes.txt (LABEL NAME lines) for the tables; "" = numbers


def slug(text):
    """A name as a file or stage name: runs of other characters as one '_'."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


@dataclass
class Variant:
    """One FV-VAE head of a run: its row name, lambda3 (0: FV-VAE⁻), latent
    size K, trained the authors' way with the trunk in the graph (augment),
    Caffe's training seed (None: the run's), or not trained at all; and for
    the evidence's follow-ups (docs/evidence.md): `label` naming a departure,
    `sets` (make_nets.py config keys, e.g. {"dropout": 0}), `iterations`
    (None: the run's) and `fim` (estimate_fim.py --method; "": its default)."""
    name: str
    lambda3: float
    latent: int
    augment: bool = False
    seed: Optional[int] = None
    untrained: bool = False
    label: str = ""
    sets: dict = field(default_factory=dict)
    iterations: Optional[int] = None
    fim: str = ""


class Protocol:
    def __init__(self, s, data=None, log_name="run.log"):
        from fvvae.run.stages import Stages
        from fvvae.trunks.zoo import TRUNKS
        self.s = s
        self.data = data
        self.out = os.path.abspath(s.out)
        os.makedirs(self.out, exist_ok=True)
        self.stages = Stages(self.out, readonly=bool(s.shard))
        self.tool_log = os.path.join(self.out, log_name)
        self.trunk = TRUNKS[data.trunk] if data else None
        unknown = [m for m in s.methods if m not in ORDER]
        if unknown:
            raise ProtocolError("unknown methods %s (known: %s)" % (unknown, ", ".join(ORDER)))
        self.streaming = bool(s.chunk) and not self.keeps_stores()
        if s.chunk and not self.streaming:
            log.info("every store kept (no streaming): %s reads them more than once",
                     self.keeps_stores())
        if (s.shard or s.shards) and not self.streaming:
            raise ProtocolError("--shard and --shards split the streamed stages: they need "
                                "--chunk > 0%s" % (" (%s keeps every store)" % self.keeps_stores()
                                                   if self.keeps_stores() else ""))
        if s.shard and s.side not in ("train", "test"):
            raise ProtocolError("--shard needs --side train or --side test")
        if s.shard and s.shards:
            raise ProtocolError("--shard runs one shard, --shards merges them: not both")
        self.source_stage = "train_stream" if self.streaming else "descriptors"
        self.test_jobs = []     # streaming: (label, kind, tool, args, file) per method

    def keeps_stores(self):
        """What needs every store kept to the end ('' if nothing)."""
        return "the dimension sweep" if self.s.sweep else ""

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

    def run_plan(self, chunks, desc, folder):
        """Runs a streamed side's chunks [(chunk folder, [(label, (tool,
        args))])] in one process (tools/run_tools.py with a plan: Python,
        pycaffe, the trunk and the methods' nets loaded once), with a progress
        bar over the chunks; returns {label: seconds}."""
        from collections import deque
        from tqdm import tqdm
        plan = {"desc": desc, "chunks": []}
        for work, jobs in chunks:
            steps = []
            for label, (name, args) in jobs:
                args = [str(a) for a in args]
                if self.s.gpu is not None and name in GPU_TOOLS:
                    args += [a.format(gpu=self.s.gpu) for a in GPU_TOOLS[name]]
                steps.append([label, name, args])
                log.info("$ %s %s (in tools/run_tools.py)", name, " ".join(args))
            plan["chunks"].append({"work": work, "jobs": steps})
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "%s.plan.json" % desc.replace(" ", "_").replace("/", "-"))
        with open(path, "w") as f:
            json.dump(plan, f)
        cmd = [sys.executable, os.path.join(ROOT, "tools", "run_tools.py"), path]
        log.info("$ %s (%d chunks)", " ".join(cmd), len(chunks))
        tail = deque(maxlen=40)
        with open(self.tool_log, "a") as f, tqdm(total=len(chunks), desc=desc,
                                                 unit="chunk") as bar:
            proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.PIPE, text=True)
            for line in proc.stderr:
                tail.append(line)
                if re.match(r"run_tools: .* chunk \d+ of \d+ done", line):
                    bar.update(1)
            rc = proc.wait()
            if rc:
                f.write("".join(tail))
        if rc != 0:
            last = [l.strip() for l in tail if l.strip().startswith(("run_tools:", "encode:",
                    "extract_descriptors:", "extract_fv:"))] or [l.strip() for l in tail][-1:]
            raise ProtocolError("run_tools.py failed (exit %d): %s\nsee %s"
                                % (rc, " / ".join(last[-2:]), self.tool_log))
        with open(path + ".seconds") as f:
            return json.load(f)

    def trunk_weights(self):
        from fvvae.trunks.zoo import trunk_weights
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
        (prototxt/NAME/, fvvae.model.experiments); colour trunks only."""
        from fvvae.data.image_list import imagedata_lines, read_list
        if self.trunk.in_channels != 3:
            return
        path = self.path("imagedata_train.txt")
        text = imagedata_lines(read_list(self.data.train_list, check_files=False))
        if not os.path.exists(path) or open(path).read() != text:
            with atomic(path) as f:
                f.write(text)

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
                args += ["--preprocess", d.preprocess]
                if split == "train":   # Caffe's Data layer reads the records in key order
                    args += ["--shuffle", self.s.seed]
                self.tool("extract_descriptors.py", *args)
        self.stages.run("descriptors", {"trunk": d.trunk, "weights": d.weights,
                                        "resize": list(d.resize), "crop": d.crop,
                                        "preprocess": d.preprocess,
                                        "lists": [d.train_list, d.test_list],
                                        "list_files": [digest(d.train_list),
                                                       digest(d.test_list)],
                                        "train_order_seed": self.s.seed},
                        outputs, make, deps=deps)

    def fv_vae(self, lambda3, latent, augment=False, train_seed=None, name=None,
               untrained=False, label="", sets=None, iterations=None, fim=""):
        """Train, FIM, FVs of one FV-VAE variant; returns (representation
        files, encode seconds, training record). augment: train with the
        trunk in the graph on shuffled, randomly cropped, mirrored images
        (train_with_trunk.prototxt) rather than on the cached sets.
        train_seed: Caffe's random_seed for this training (default the run's
        seed): the spread over training seeds. untrained: no training at
        all, the solver's seeded initialisation snapshotted at iteration 0
        (the control of docs/evidence.md's C6: the same FIM, FVs and SVM).
        label, sets, iterations, fim: a follow-up's departure (Variant)."""
        s, C = self.s, self.trunk.channels
        tag = fv_vae_tag(lambda3, latent)
        if lambda3 not in (0, s.lambda3):
            tag += "_l%g" % lambda3
        if augment:
            tag += "_aug"
        if untrained:
            tag += "_untrained"
        if label:
            tag += "_" + slug(label)
        seed = s.seed if train_seed is None else train_seed
        if seed != s.seed:
            tag += "_seed%d" % seed
        folder = self.path(tag)
        snapshots = os.path.join(folder, "snapshots")
        budget = iterations or s.iterations
        iterations = 0 if untrained else budget
        final = os.path.join(snapshots, "fv_vae%s_iter_%d.caffemodel"
                             % ("_with_trunk" if augment else "", iterations))
        params = dict(latent=latent, lambda3=lambda3, iterations=iterations,
                      batch=s.batch, seed=seed, classes=self.data.classes)
        if augment:
            params.update(augment=True, resize=list(s.augment_resize))
        if sets:
            params.update(sets=sets)
        extra_sets = [a for k, v in sorted((sets or {}).items())
                      for a in ("--set", "%s=%s" % (k, json.dumps(v)))]

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
                      "--set", "iterations=%d" % budget,
                      "--set", "snapshot=%d" % max(1, budget // 4),
                      "--set", "lambda3=%g" % lambda3, "--set", "seed=%d" % seed, *extra_sets,
                      *(["--trunk", self.data.trunk, "--trunk-list", self.data.train_list]
                        + (["--set", "resize=%s" % list(s.augment_resize)]
                           if s.augment_resize else []) if augment else []))
            start = time.time()
            solver = os.path.join(folder, "solver_with_trunk.prototxt" if augment
                                  else "solver.prototxt")
            if untrained:
                from fvvae.model.training import snapshot_initial
                snapshot_initial(solver, os.path.join(folder, "train.log"))
                return {"losses": [], "seconds": time.time() - start}
            self.caffe_train(solver, snapshots, budget, os.path.join(folder, "train.log"),
                             weights=self.trunk_weights() if augment else None)
            return {"losses": parse_losses(os.path.join(folder, "train.log")),
                    "seconds": time.time() - start}
        trained = self.stages.run("train_" + tag, params, [final], train,
                                  deps=(self.source_stage,))

        fim_method = fim
        fim = os.path.join(folder, "fv_vae_fim.caffemodel")
        files = {sp: os.path.join(folder, "fv_%s.h5" % sp) for sp in ("train", "test")}
        net = os.path.join(folder, "extract.prototxt")

        fv_args = ["--net", net, "--weights", fim, "--no-normalize"] + (
            ["--compact"] if s.compact else [])
        splits = ["train"] if self.streaming else ["train", "test"]
        if self.streaming:      # the test FVs come chunk by chunk (stream_test)
            self.test_jobs.append((name or tag, "sets", "extract_fv.py",
                                   fv_args + self.list_arg("test"), files["test"]))

        def extract():
            start = time.time()
            self.tool("estimate_fim.py", "--net", net, "--weights", final, "--source",
                      self.path("activations", "sets_train.lmdb"), "--out", fim,
                      *self.list_arg("train"), *(["--method", fim_method] if fim_method else []))
            for sp in splits:
                self.tool("extract_fv.py", *fv_args,
                          "--source", self.path("activations", "sets_%s.lmdb" % sp),
                          "--out", files[sp], *self.list_arg(sp))
            return {"seconds": time.time() - start}
        enc = self.stages.run("fv_" + tag, dict({"grouped": self.data.grouped},
                                                **({"compact": True} if s.compact else {}),
                                                **({"fim": fim_method} if fim_method else {})),
                              [fim] + [files[sp] for sp in splits], extract,
                              deps=("train_" + tag,))
        return files, enc["seconds"], trained

    def baseline(self, name, size=None):
        method, kind = BASELINES[name]
        m = BY_KEY[method]
        size = size or (getattr(self.s, m.size_setting) if m.default_size else None)
        # the folder and stage name the setting that shapes the codebook:
        # fv128, vlad256, bp_pca512 (bp: no PCA)
        tag = str(size or ("_pca%d" % self.s.bp_pca if method == "bp" and self.s.bp_pca else ""))
        folder = self.path("encodings", method + tag)
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

        if self.s.compact:
            args += ["--compact"]
        if self.streaming:      # the test rows come chunk by chunk (stream_test)
            test = args.index("--test")
            common = args[:test] + args[test + 2:]
            for flag in ("--train-list", "--test-list"):
                if flag in common:
                    i = common.index(flag)
                    common = common[:i] + common[i + 2:]
            self.test_jobs.append((name, kind, "encode.py", common + ["--only", "test"]
                + self.list_arg("test", "--test-list"), files["test"]))
            if kind != "sets":  # written by train_stream from its chunk stores
                return files, 0.0
            args = common + ["--only", "train"] + self.list_arg("train", "--train-list")
            outputs = [files["train"]]
        else:
            outputs = list(files.values())

        def make():
            start = time.time()
            self.tool("encode.py", *args)
            return {"seconds": time.time() - start}
        res = self.stages.run("encode_%s%s" % (method, tag), {"args": [str(a) for a in args]},
                              outputs, make, deps=(self.source_stage,))
        return files, res["seconds"]

    def evaluate(self, runs, folder, extra=()):
        """runs: {name: files}; returns {name: result row}."""
        import csv
        args = ["--out", folder, "--classes", self.data.classes] + list(extra)
        if self.data.class_names:
            args += ["--class-names", self.data.class_names]
        for name in runs:
            args += ["--run", name, runs[name]["train"], runs[name]["test"]]
        self.tool("evaluate.py", *args)
        with open(os.path.join(folder, "results.csv")) as f:
            return {r["method"]: r for r in csv.DictReader(f)}

    def evaluate_each(self, runs, folder):
        """As evaluate(), one stage a method (eval_NAME, keyed by its
        representation files' sizes and times): a method whose files did not
        change is not classified again. Returns {name: result row with
        'scores', the path of its scores file}."""
        import hashlib
        out = {}
        for name, files in runs.items():
            short = slug(name.replace("⁻", "-minus"))
            sub = os.path.join(folder, short)
            scores = os.path.join(sub, name + "_scores.npz")
            params = {"name": name, "classes": self.data.classes,
                      "class_names": self.data.class_names and signature(self.data.class_names),
                      "files": {sp: [files[sp], signature(files[sp])]
                                for sp in ("train", "test")}}
            key = "eval_" + short + "_" + hashlib.sha256(sub.encode()).hexdigest()[:6]
            row = self.stages.run(key, params, [scores],
                                  lambda n=name, f=files, d=sub: self.evaluate({n: f}, d)[n])
            out[name] = dict(row, scores=scores)
        return out

    def variants(self):
        """The FV-VAE heads the run makes: [Variant]."""
        out = []
        for name, lam in (("FV-VAE⁻", 0.0), ("FV-VAE", self.s.lambda3)):
            if name in self.s.methods:
                out.append(Variant(name, lam, self.s.latent))
            if name in self.s.methods and self.s.augment:
                out.append(Variant(name + " +aug", lam, self.s.latent, augment=True))
        return out

    def chain(self, deps=()):
        """Descriptors and every representation: (runs, encode seconds,
        training records) as representations() gives them."""
        if self.streaming:
            self.train_stream(deps)
            if self.s.shard and self.s.side == "train":
                return {}, {}, {}
        else:
            self.descriptors(deps)
        return self.representations()

    def representations(self):
        """All the chosen methods' (and variants') representation files:
        ({name: files}, {name: encode seconds}, {name: training record})."""
        runs, encode_s, training = {}, {}, {}
        self.test_jobs = []
        for name in [m for m in BASELINES if m in self.s.methods]:
            runs[name], encode_s[name] = self.baseline(name)
        for v in self.variants():
            runs[v.name], encode_s[v.name], training[v.name] = self.fv_vae(
                v.lambda3, v.latent, v.augment, train_seed=v.seed, name=v.name,
                untrained=v.untrained, label=v.label, sets=v.sets, iterations=v.iterations,
                fim=v.fim)
        if self.s.until == "models":
            return runs, encode_s, training
        if self.streaming:
            for name, sec in self.stream_test().items():
                encode_s[name] = encode_s.get(name, 0.0) + sec
        return runs, encode_s, training

    # ---- streaming (fvvae.run.streaming) ----------------------------------------
    def extract_args(self, split):
        d = self.data
        args = ["--trunk", d.trunk, "--list", getattr(d, split + "_list"), "--batch", 16]
        if d.weights:
            args += ["--weights", d.weights]
        if d.resize:
            args += ["--resize"] + list(d.resize)
        if d.crop:
            args += ["--crop", d.crop]
        return args + ["--preprocess", d.preprocess]

    def spans(self, split):
        """The split's chunks (fvvae.run.streaming.chunks). A training chunk holds
        as many items as a test chunk: `chunk` test videos of 25 frames x 10
        crops are 250 items each, so the training side takes 10 x `chunk`
        videos of 25 frames a chunk (its chunk stores hold maps and GA only,
        and fewer chunks start fewer tools)."""
        from fvvae.run import streaming
        from fvvae.data.image_list import read_list
        size = self.s.chunk
        try:
            items = read_list(getattr(self.data, split + "_list"), check_files=False)
            if split == "train" and self.data.grouped:
                test = read_list(self.data.test_list, check_files=False)
                per_test = len(test) / float(max(1, len({i.group for i in test})))
                per_train = len(items) / float(max(1, len({i.group for i in items})))
                size = max(size, int(size * per_test / per_train))
            return streaming.chunks(items, size, self.data.grouped)
        except ValueError as e:
            raise ProtocolError("%s: %s" % (getattr(self.data, split + "_list"), e)) from None

    def train_stream(self, deps=()):
        """The training side, chunk by chunk: the kept (shuffled) training
        sets, and GA / Concatenation / AVE's training rows from chunk stores."""
        d, s = self.data, self.s
        if not s.shard:
            self.imagedata_list()
        sets = self.path("activations", "sets_train.lmdb")
        spans, rows = self.spans("train")
        jobs = []
        for name in [m.name for m in BASELINE_METHODS if m.store != "sets"
                     and m.name in s.methods]:
            method, kind = BASELINES[name]
            folder = self.path("encodings", method)
            args = ["--method", method, "--out", folder, "--only", "train"] + self.list_arg(
                "train", "--train-list") + (["--compact"] if s.compact else [])
            jobs.append((name, os.path.join(folder, "%s_train.h5" % method),
                         lambda work, row, total, out, a=args, k=kind: ("encode.py", a + [
                             "--train", os.path.join(work, k + ".lmdb"), "--train-out", out,
                             "--row-offset", row, "--rows-total", total])))
        kinds = {BASELINES[n][1] for n, _, _ in jobs}
        params = {"trunk": d.trunk, "weights": d.weights, "resize": list(d.resize),
                  "preprocess": d.preprocess,
                  "crop": d.crop, "list": d.train_list, "list_file": digest(d.train_list),
                  "train_order_seed": s.seed,
                  "chunk": s.chunk, "compact": s.compact, "rows": [n for n, _, _ in jobs]}

        def extract(work, start, end, store):
            return self.trunk_job("train", work, start, end, store, kinds, ["--shuffle", s.seed])
        return self.streamed("train", params, deps, spans, rows, jobs, extract, sets)

    def stream_test(self):
        """The test side, chunk by chunk, after every method's training side:
        each chunk's stores are made, every method writes its test rows, the
        stores are deleted. Returns {row name: seconds}."""
        spans, rows = self.spans("test")
        kinds = {kind for _, kind, _, _, _ in self.test_jobs} | {"sets"}
        jobs = []
        for name, kind, tool, args, out in self.test_jobs:
            flag = "--test" if tool == "encode.py" else "--source"
            jobs.append((name, out, lambda work, row, total, o, t=tool, a=args, f=flag, k=kind: (
                t, a + (["--test-out", o] if t == "encode.py" else ["--out", o]) + [
                    f, os.path.join(work, k + ".lmdb"), "--row-offset", row,
                    "--rows-total", total])))

        def extract(work, start, end, _):
            return self.trunk_job("test", work, start, end, os.path.join(work, "sets.lmdb"),
                                  kinds)

        params = {"list": self.data.test_list, "list_file": digest(self.data.test_list),
                  "chunk": self.s.chunk,
                  "jobs": [[str(a) for a in j[:4]] for j in self.test_jobs]}
        deps = [self.source_stage] + [n for n in self.stages.keys if n.startswith(
            ("encode_", "fv_"))]
        return self.streamed("test", params, deps, spans, rows, jobs, extract)

    def trunk_job(self, split, work, start, end, sets, kinds, extra=()):
        """The trunk's pass over a chunk's items start..end-1: (tool, args)
        writing the sets into `sets` and the maps / global activations the
        chunk's methods read (`kinds`) into the chunk folder."""
        return ("extract_descriptors.py", self.extract_args(split) + [
            "--out", sets, "--items", "%d:%d" % (start, end)] + list(extra)
            + (["--maps", os.path.join(work, "maps.lmdb")] if "maps" in kinds else [])
            + (["--global", os.path.join(work, "global.lmdb")] if "global" in kinds else []))

    def streamed(self, side, params, deps, spans, rows, jobs, extract, store=None):
        """A streamed stage (SIDE_stream) over the chunks `spans` of `rows`
        rows: jobs [(row name, final file, fn(chunk folder, row, rows in the
        file, file) -> (tool, args))], extract(chunk folder, start, end,
        store): the trunk over a chunk's items, into the chunk folder (and the
        kept `store`, the training side's sets). On one machine the chunks run
        in turn; with --shard this process runs only its shard's (shard()),
        and with --shards the stage takes the shards' rows (merge_shards())."""
        from fvvae.run import streaming
        name = side + "_stream"
        key = self.stages.key(params, deps)
        outputs = ([store] if store else []) + [out for _, out, _ in jobs]
        if self.s.shard and self.s.side == side:
            return self.shard(side, key, spans, rows, jobs, extract, store)

        def make():
            streaming.prepare(self.stages, name, key, outputs, self.path("stream"))
            if self.s.shards:
                return self.merge_shards(side, key, jobs, store, spans[-1][1] if spans else 0)
            return streaming.run_chunks(
                side, spans, rows, [(label, out, lambda w, r, f=fn, o=out: f(w, r, rows, o))
                                    for label, out, fn in jobs],
                lambda w, a, b: extract(w, a, b, store), self.path("stream"),
                store and streaming.holds(store),
                lambda plan, desc: self.run_plan(plan, desc, self.path("stream")))
        return self.stages.run(name, params, outputs, make, deps=deps)

    # ---- streamed stages across machines ------------------------------------
    def shard_folder(self, side, i, n):
        return self.path("shards", "%s-%d-of-%d" % (side, i, n))

    def shard(self, side, key, spans, rows, jobs, extract, store):
        """Shard i of n of a streamed stage (--shard i/n --side SIDE): the
        i-th of n contiguous blocks of its chunks, into
        OUT/shards/SIDE-i-of-n/ (the same relative paths as the final files,
        holding the block's rows), marked done with the stage's key. The
        earlier stages must be finished (they are checked, never run: the
        shards of a cluster run start together). A killed shard resumes."""
        from fvvae.run import streaming
        from fvvae.run.shards import block
        i, n = self.s.shard
        folder = self.shard_folder(side, i, n)
        marker, done = os.path.join(folder, "key"), os.path.join(folder, "done.json")
        if os.path.exists(marker) and open(marker).read() != key:
            log.info("%s: written with other settings: started over", folder)
            shutil.rmtree(folder)
        os.makedirs(folder, exist_ok=True)
        with atomic(marker) as f:
            f.write(key)
        record = json.load(open(done)) if os.path.exists(done) else {}
        if record.get("key") == key:
            log.info("%s side, shard %d of %d: already done", side, i, n)
            return record["seconds"]
        b0, b1 = block(len(spans), i, n)
        first = spans[b0][2] if b0 < len(spans) else rows
        last = spans[b1][2] if b1 < len(spans) else rows
        mine = [(a, b, r - first) for a, b, r in spans[b0:b1]]
        local = self.in_shard(folder)
        kept = local(store) if store else None
        for path in [kept or folder] + [local(out) for _, out, _ in jobs]:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        log.info("%s side, shard %d of %d: chunks %d..%d of %d (rows %d..%d) into %s",
                 side, i, n, b0, b1 - 1, len(spans), first, last - 1, folder)
        seconds = streaming.run_chunks(
            side, mine, last - first,
            [(label, local(out), lambda w, r, f=fn, o=local(out): f(w, r, last - first, o))
             for label, out, fn in jobs],
            lambda w, a, b: extract(w, a, b, kept), os.path.join(folder, "stream"),
            kept and streaming.holds(kept),
            lambda plan, desc: self.run_plan(plan, desc, os.path.join(folder, "stream")),
            desc="%s %d/%d" % (side, i, n))
        with atomic(done) as f:
            json.dump({"key": key, "seconds": seconds, "chunks": len(mine)}, f)
        return seconds

    def in_shard(self, folder):
        """A final file's path inside a shard's folder."""
        return lambda path: os.path.join(folder, os.path.relpath(path, self.out))

    def merge_shards(self, side, key, jobs, store, items):
        """A streamed stage from its n shards (--shards n): each must be done
        with this stage's key; the kept store's parts are merged one at a
        time, each deleted once copied, then every file's parts are
        concatenated in shard order, and the shards' folders go."""
        from fvvae.run import shards
        n = self.s.shards
        folders = [self.shard_folder(side, i, n) for i in range(n)]
        records = []
        for f in folders:
            path = os.path.join(f, "done.json")
            rec = json.load(open(path)) if os.path.exists(path) else {}
            records.append(rec if rec.get("key") == key else None)
        missing = [i for i, r in enumerate(records) if r is None]
        if missing:
            raise ProtocolError(
                "%s side: shard%s %s of %d not done with these settings (each runs "
                "tools/run_protocol.py with the same options and --shard I/%d --side %s)"
                % (side, "s" if len(missing) > 1 else "", ", ".join(map(str, missing)), n, n,
                   side))
        try:
            for path in ([store] if store else []) + [out for _, out, _ in jobs]:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            if store:
                shards.merge_stores(store, n, items, consume=True, parts=[
                    self.in_shard(f)(store) for f, r in zip(folders, records) if r["chunks"]])
            for _, out, _ in jobs:
                shards.merge_features(out, n, [self.in_shard(f)(out) for f, r in
                                               zip(folders, records) if r["chunks"]])
        except (OSError, ValueError) as e:
            raise ProtocolError("merging the %s side's shards: %s" % (side, e)) from None
        for f in folders:
            shutil.rmtree(f)
        seconds = {}
        for r in records:
            for label, sec in r["seconds"].items():
                seconds[label] = seconds.get(label, 0.0) + sec
        log.info("%s side: %d shards merged", side, n)
        return seconds

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
