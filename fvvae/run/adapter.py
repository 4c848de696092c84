"""The one place where the run's steps become tool processes: every tool's
argv (the trunk's pass: extract_args, stores_args, trunk_job; make_nets,
encode, estimate_fim, extract_fv, evaluate; the slots a streamed chunk adds:
chunk_rows_args), a tool run with its output in the run's log (tool), a
streamed side's chunks as a plan for one process (run_plan,
tools/run_tools.py), and the GPU flag every net tool gets.
A mixin of fvvae.run.protocol.Protocol: it reads the run's settings (s),
data and log (tool_log). The stage keys hash some of these argv: their order
is kept as it was."""
import json
import logging
import os
import re
import subprocess
import sys

from fvvae import ROOT
from fvvae.methods import BY_KEY

log = logging.getLogger("fvvae.run.protocol")

# the tools that run a Caffe net or solver: each takes the protocol's GPU
GPU_TOOLS = {"extract_descriptors.py": ["--gpu", "{gpu}"], "estimate_fim.py": ["--gpu", "{gpu}"],
             "extract_fv.py": ["--gpu", "{gpu}"], "finetune_trunk.py": ["--gpu", "{gpu}"],
             "make_nets.py": ["--gpu"]}


class ProtocolError(RuntimeError):
    pass


class ToolAdapter:
    def list_arg(self, split, flag="--list"):
        """[flag, the split's list] when rows are per GROUP (videos), else []."""
        return [flag, getattr(self.data, split + "_list")] if self.data.grouped else []

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

    def extract_args(self, split, items=None):
        """extract_descriptors.py's argv for the run's trunk over a split's
        list (or `items`, another list), before its stores (stores_args)."""
        d = self.data
        args = ["--trunk", d.trunk, "--list", items or getattr(d, split + "_list"), "--batch", 16]
        if d.weights:
            args += ["--weights", d.weights]
        if d.resize:
            args += ["--resize"] + list(d.resize)
        if d.crop:
            args += ["--crop", d.crop]
        return args + ["--preprocess", d.preprocess]

    @staticmethod
    def stores_args(sets=None, maps=None, global_=None):
        """The stores a trunk's pass writes, those given: the descriptor
        sets, the maps, the global activations."""
        return ((["--out", sets] if sets else []) + (["--maps", maps] if maps else [])
                + (["--global", global_] if global_ else []))

    def trunk_job(self, split, kinds, kept=False, extra=()):
        """The trunk's pass over a chunk's items (a ChunkJob): the sets into
        the kept store (the training side, kept=True) or the chunk's folder,
        and the maps / global activations the chunk's methods read (`kinds`)
        into the chunk's folder."""
        from fvvae.run.streaming import ITEMS, STORE, WORK, ChunkJob
        return ChunkJob("trunk", "", "extract_descriptors.py", tuple(
            self.extract_args(split) + self.stores_args(STORE if kept else WORK("sets.lmdb"))
            + ["--items", ITEMS] + list(extra)
            + self.stores_args(maps=WORK("maps.lmdb") if "maps" in kinds else None,
                               global_=WORK("global.lmdb") if "global" in kinds else None)))

    def make_nets_args(self, folder, config, sets, augment):
        """make_nets.py's argv: OUT, each config key as --set KEY=VALUE (in
        this order; `sets`, a follow-up's departures, sorted, as JSON), and
        for --augment the trunk net on the training list."""
        def value(v):
            return ("[%s]" % ", ".join(str(x) for x in v) if isinstance(v, list)
                    else "%g" % v if isinstance(v, float) else str(v))
        args = ["--out", folder]
        for key, v in config.items():
            args += ["--set", "%s=%s" % (key, value(v))]
        args += [a for k, v in sorted(sets.items()) for a in ("--set", "%s=%s" % (k, json.dumps(v)))]
        if augment:
            args += ["--trunk", self.data.trunk, "--trunk-list", self.data.train_list]
            if self.s.augment_resize:
                args += ["--set", "resize=%s" % list(self.s.augment_resize)]
        return args

    def encode_args(self, method, folder, size, pca, only=None):
        """encode.py's argv for a baseline (the stage key hashes it: the order
        is kept as it was). only=None: both sides from the kept stores;
        "train" / "test": one side of a streamed run (the test side's store
        comes per chunk)."""
        args = ["--method", method, "--out", folder, "--seed", self.s.seed,
                "--sample", self.s.sample]
        kind = BY_KEY[method].store
        args += ["--train", self.path("activations", "%s_train.lmdb" % kind)]
        if only is None:
            args += ["--test", self.path("activations", "%s_test.lmdb" % kind)]
            args += self.list_arg("train", "--train-list") + self.list_arg("test", "--test-list")
        args += (["--size", size] if size else []) + (["--pca", pca] if pca else [])
        args += ["--compact"] if self.s.compact else []
        if only:
            args += ["--only", only] + self.list_arg(only, "--%s-list" % only)
        return args

    def encode_rows_args(self, method, folder):
        """encode.py's argv for a baseline whose training rows come from the
        training side's chunks (GA, Concatenation, AVE: no codebook)."""
        return ["--method", method, "--out", folder, "--only", "train"] + self.list_arg(
            "train", "--train-list") + (["--compact"] if self.s.compact else [])

    def encode_apply_args(self, method, model, store, out, size=None, pca=0, grouped_list=None):
        """encode.py's argv applying a finished run's codebook (in `model`) to
        new items' store `store`, their rows into `out` (takeaway)."""
        return (["--method", method, "--out", model, "--only", "test", "--test", store,
                 "--test-out", out] + (["--size", size] if size else [])
                + (["--pca", pca] if pca else []) + (["--compact"] if self.s.compact else [])
                + (["--test-list", grouped_list] if grouped_list else []))

    @staticmethod
    def chunk_rows_args(tool, side, store):
        """The slots a streamed chunk's job adds to its tool's argv: the
        chunk's store, the rows' output and their place among the side's."""
        from fvvae.run.streaming import OUT, ROW, ROWS
        if side == "train":
            where = ["--train", store, "--train-out", OUT]
        elif tool == "encode.py":
            where = ["--test-out", OUT, "--test", store]
        else:
            where = ["--out", OUT, "--source", store]
        return where + ["--row-offset", ROW, "--rows-total", ROWS]

    def fim_args(self, net, weights, out, method=None):
        """estimate_fim.py's argv: eq. 12's scale from the training sets."""
        return (["--net", net, "--weights", weights, "--source",
                 self.path("activations", "sets_train.lmdb"), "--out", out]
                + self.list_arg("train") + (["--method", method] if method else []))

    def fv_args(self, net, weights):
        """extract_fv.py's argv before its source and output (FVs from a
        head's extract net with its FIM-scaled weights)."""
        return ["--net", net, "--weights", weights, "--no-normalize"] + (
            ["--compact"] if self.s.compact else [])

    def extract_fv_args(self, net, weights, source, out, items_list=None):
        """extract_fv.py's argv: FVs of the sets in `source` into `out`,
        one row a video of `items_list` when given."""
        return self.fv_args(net, weights) + ["--source", source, "--out", out] + (
            ["--list", items_list] if items_list else [])

    def evaluate_args(self, runs, folder, extra=()):
        """evaluate.py's argv: runs {name: {"train": rows, "test": rows}}."""
        args = ["--out", folder, "--classes", self.data.classes] + list(extra)
        if self.data.class_names:
            args += ["--class-names", self.data.class_names]
        for name in runs:
            args += ["--run", name, runs[name]["train"], runs[name]["test"]]
        return args
