"""A finished run as something to take away: its methods' vectors of new
items and its classifiers (docs/own_data.md, "Vectors and classifiers").

    from fvvae.run.takeaway import FinishedRun
    run = FinishedRun("runs/folder_my_photos/open_nsfw")     # OUT/run.json
    files = run.encode_items("new_images.txt", "runs/new")   # {method: HDF5}
    table = run.predict(files)                               # {method: (scores, ids)}

A run records itself in OUT/run.json (tools/run_protocol.py, when it ends):
its data settings (trunk, weights, resize, crop, preprocessing, class names),
its method settings and each method's representation files. New items go
through the same trunk and preprocessing into descriptor stores, then each
method's own model: FV-VAE's extract net with its FIM-scaled caffemodel, the
baselines' codebooks (never refitted), written as the run wrote its test
rows (compact or float32) by the same tools (the protocol's tool adapter).
Items are a list (`PATH [LABEL [GROUP]]`; no label: -1) or a folder of
images (each one item, label -1); a path with white space is linked
without it.
"""
import dataclasses
import json
import logging
import os

from fvvae.files import atomic

log = logging.getLogger("fvvae.run.takeaway")

MANIFEST = "run.json"


def save_manifest(p, runs):
    """OUT/run.json of a Protocol p whose representations are `runs`
    ({method: {"train": file, "test": file}})."""
    record = {"settings": dataclasses.asdict(p.s), "data": dataclasses.asdict(p.data),
              "runs": runs, "eval": p.path("eval")}
    path = p.path(MANIFEST)
    with atomic(path) as f:
        json.dump(record, f, indent=1, default=list)
    return path


def items_list(source, out_dir):
    """A list file for `source`: the list itself when it has labels, else a
    list written to out_dir with label -1 (a folder's images, or PATH-only
    lines)."""
    from data_prep.folder import IMAGE_EXT
    if os.path.isdir(source):
        paths = sorted(os.path.join(dp, n) for dp, _, names in os.walk(source) for n in names
                       if n.lower().endswith(IMAGE_EXT))
        if not paths:
            raise ValueError("%s: no images (%s)" % (source, " ".join(IMAGE_EXT)))
    else:
        if not os.path.isfile(source):
            raise FileNotFoundError("%s: no such list or folder" % source)
        with open(source) as f:
            lines = [l.split() for l in f if l.strip() and not l.startswith("#")]
        if all(len(l) >= 2 for l in lines):
            return os.path.abspath(source)
        paths = [l[0] for l in lines]
    from data_prep.folder import listable_path
    os.makedirs(out_dir, exist_ok=True)
    root = source if os.path.isdir(source) else ""
    # a path with white space is listed through a link without it (out_dir/links/)
    paths = [listable_path(root, os.path.relpath(p, root) if root else p, out_dir)
             for p in paths]
    path = os.path.join(out_dir, "items.txt")
    with atomic(path) as f:
        f.writelines("%s -1\n" % p for p in paths)
    return path


class FinishedRun:
    def __init__(self, folder):
        from fvvae.methods import BASELINES
        from fvvae.run.protocol import Protocol
        from fvvae.run.settings import Data, ProtocolSettings
        path = os.path.join(folder, MANIFEST)
        if not os.path.isfile(path):
            raise FileNotFoundError("%s: no %s (a run of tools/run_protocol.py or "
                                    "scripts/*.sh writes it when it ends)" % (folder, MANIFEST))
        with open(path) as f:
            record = json.load(f)
        fields = {f.name for f in dataclasses.fields(ProtocolSettings)}
        s = ProtocolSettings(**{k: (tuple(v) if k in ("shard", "augment_resize") else v)
                                for k, v in record["settings"].items() if k in fields})
        s = dataclasses.replace(s, out=os.path.abspath(folder), shard=(), shards=0, until="")
        data = Data(**dict(record["data"], resize=tuple(record["data"]["resize"])))
        self.protocol = Protocol(s, data, log_name="encode_items.log")
        self.runs, self.eval = record["runs"], record["eval"]
        self.baselines = BASELINES

    @property
    def methods(self):
        return list(self.runs)

    def classifier(self, name):
        from fvvae.evaluation.classifier import Classifier
        return Classifier(os.path.join(self.eval, name.replace("/", "_") + "_svm.npz"))

    def encode_items(self, source, out_dir, methods=None):
        """{method: representation file} of the items of `source` (a list or
        an image folder) under out_dir, and out_dir/vectors.h5 holding them
        all (one HDF5 group a method)."""
        import numpy as np
        p, d = self.protocol, self.protocol.data
        methods = methods or self.methods
        unknown = [m for m in methods if m not in self.runs]
        if unknown:
            raise ValueError("%s: the run has no %s (it has %s)" % (
                p.out, ", ".join(unknown), ", ".join(self.runs)))
        out_dir = os.path.abspath(out_dir)
        work = os.path.join(out_dir, "work")
        items = items_list(source, out_dir)
        self.start_over_unless_same(out_dir, items)
        kinds = {self.baselines[m][1] if m in self.baselines else "sets" for m in methods}
        store = {kind: os.path.join(work, kind + ".lmdb") for kind in ("sets", "maps", "global")}
        p.tool("extract_descriptors.py", *p.extract_args("test", items) + p.stores_args(
            store["sets"], *(store[k] if k in kinds else None for k in ("maps", "global"))))
        files = {}
        for name in methods:
            files[name] = os.path.join(out_dir, name.replace("/", "_") + ".h5")
            model = os.path.dirname(self.runs[name]["train"])
            if name in self.baselines:
                method, kind = self.baselines[name]
                size = pca = 0
                cb = os.path.join(model, "%s_codebook.npz" % method)
                if os.path.exists(cb):
                    with np.load(cb, allow_pickle=False) as z:
                        size, pca = int(z["size"]), int(z["pca"])
                p.tool("encode.py", *p.encode_apply_args(
                    method, model, store[kind], files[name], size, pca,
                    items if d.grouped else None))
            else:               # an FV-VAE head: its extract net and FIM-scaled weights
                p.tool("extract_fv.py", *p.extract_fv_args(
                    os.path.join(model, "extract.prototxt"),
                    os.path.join(model, "fv_vae_fim.caffemodel"), store["sets"], files[name],
                    items if d.grouped else None))
        combine(files, os.path.join(out_dir, "vectors.h5"))
        return files

    def made_from(self, items):
        """What out_dir's stores and vectors depend on: this run (its folder
        and run.json) and the items (the list, each file's size and time)."""
        import hashlib

        from fvvae.data.image_list import read_list
        from fvvae.files import digest, signature
        h = hashlib.sha256()
        for part in [self.protocol.out, digest(os.path.join(self.protocol.out, MANIFEST)),
                     digest(items)] + [signature(i.path) for i in read_list(items)]:
            h.update(part.encode() + b"\0")
        return h.hexdigest()

    def start_over_unless_same(self, out_dir, items):
        """out_dir's earlier stores (work/) and vectors (METHOD.h5, vectors.h5) are resumed
        when made by this run from these items, else removed first: the tools
        resume by item index and would keep another list's or run's rows."""
        import shutil
        os.makedirs(out_dir, exist_ok=True)
        key, stamp = self.made_from(items), os.path.join(out_dir, "made_from.txt")
        was = open(stamp).read().strip() if os.path.isfile(stamp) else None
        if was != key:
            old = [n for n in ["vectors.h5"] + [m.replace("/", "_") + ".h5" for m in self.runs]
                   if os.path.exists(os.path.join(out_dir, n))]
            if was is not None or old or os.path.isdir(os.path.join(out_dir, "work")):
                log.info("%s: made from another run or other items: starting it over", out_dir)
            shutil.rmtree(os.path.join(out_dir, "work"), ignore_errors=True)
            for n in old:
                os.remove(os.path.join(out_dir, n))
            with atomic(stamp) as f:
                f.write(key + "\n")

    def predict(self, files):
        """{method: (scores items x classes, ids, labels)} with the run's SVMs."""
        return {m: self.classifier(m).score_file(f) for m, f in files.items()}


def combine(files, path):
    """One HDF5 file with a group a method, each a copy of its file."""
    import h5py
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as out:
        for name, f in files.items():
            with h5py.File(f, "r") as src:
                g = out.create_group(name)
                for key in src:
                    src.copy(key, g)
                g.attrs.update(dict(src.attrs))
    os.replace(tmp, path)
    return path
