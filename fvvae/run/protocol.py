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

This module holds the chain alone; beside it: the run's settings and data
(fvvae.run.settings), the one place where steps become tool processes and
their argv (fvvae.run.adapter), the streamed sides and cluster shards
(fvvae.run.streamed), the eight methods (fvvae.methods).
"""
import json
import logging
import os
import shutil
import subprocess  # noqa: F401  (tests patch protocol.subprocess.run)
import time

from fvvae.model.training import parse_losses, train_with_guard
from fvvae.files import atomic, digest, signature
from fvvae.methods import BASELINES, BY_KEY, ORDER, fv_vae_tag
from fvvae.evaluation.svm import SOLVER
from fvvae.run.adapter import ProtocolError, ToolAdapter  # noqa: F401  (ProtocolError: re-exported)
from fvvae.run.settings import Data, ProtocolSettings, Variant, slug  # noqa: F401  (re-exported)
from fvvae.run.streamed import StreamedSides
from fvvae.trunks.zoo import resolve_trunk

log = logging.getLogger("fvvae.run.protocol")


class Protocol(ToolAdapter, StreamedSides):
    """The paper's chain on one run's data (see the module's doc); the tool
    adapter (fvvae.run.adapter) and the streamed sides (fvvae.run.streamed)
    are its mixins."""

    def __init__(self, s, data=None, log_name="run.log"):
        from fvvae.run.stages import Stages
        self.s = s
        self.data = data
        self.out = os.path.abspath(s.out)
        os.makedirs(self.out, exist_ok=True)
        self.stages = Stages(self.out, readonly=bool(s.shard))
        self.tool_log = os.path.join(self.out, log_name)
        self.trunk = resolve_trunk(data.trunk) if data else None
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
                args = self.extract_args(split) + self.stores_args(*(
                    self.path("activations", "%s_%s.lmdb" % (kind, split))
                    for kind in ("sets", "maps", "global")))
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

        def train():
            # the folder's snapshots are resumed only when made from these
            # settings and these training sets (the stage's key: relabelled
            # lists make new sets, and a resumed solverstate would keep the
            # old training)
            stamp = os.path.join(folder, "params.json")
            made = dict(params, made_from=self.stages.key(
                params, [d for d in (self.source_stage,) if d in self.stages.keys]))
            if os.path.exists(folder):
                old = json.load(open(stamp)) if os.path.exists(stamp) else None
                if old != made:                 # another setting's or data's leftovers
                    shutil.rmtree(folder)
            os.makedirs(snapshots, exist_ok=True)
            with atomic(stamp) as f:
                json.dump(made, f)
            self.tool("make_nets.py", *self.make_nets_args(
                folder, dict(source=self.path("activations", "sets_train.lmdb"), channels=C,
                             descriptors=self.descriptors_per_set, encoder=[C, latent],
                             classes=self.data.classes, batch=s.batch, iterations=budget,
                             snapshot=max(1, budget // 4), lambda3=lambda3, seed=seed),
                sets or {}, augment))
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

        splits = ["train"] if self.streaming else ["train", "test"]
        if self.streaming:      # the test FVs come chunk by chunk (stream_test)
            self.test_jobs.append((name or tag, "sets", "extract_fv.py",
                                   self.fv_args(net, fim) + self.list_arg("test"),
                                   files["test"]))

        def extract():
            start = time.time()
            self.tool("estimate_fim.py", *self.fim_args(net, final, fim, fim_method))
            for sp in splits:
                self.tool("extract_fv.py", *self.extract_fv_args(
                    net, fim, self.path("activations", "sets_%s.lmdb" % sp), files[sp],
                    getattr(self.data, sp + "_list") if self.data.grouped else None))
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
        pca = self.s.bp_pca if method == "bp" else 0
        if self.streaming:      # the test rows come chunk by chunk (stream_test)
            self.test_jobs.append((name, kind, "encode.py", self.encode_args(
                method, folder, size, pca, only="test"), files["test"]))
            if kind != "sets":  # written by train_stream from its chunk stores
                return files, 0.0
            args = self.encode_args(method, folder, size, pca, only="train")
            outputs = [files["train"]]
        else:
            args = self.encode_args(method, folder, size, pca)
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
        self.tool("evaluate.py", *self.evaluate_args(runs, folder, extra))
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
            params = {"name": name, "classes": self.data.classes, "svm": SOLVER,
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
