"""Shared fixtures: the repository's paths and small helpers for Caffe nets."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fvvae.testing.nets import net_from_text  # noqa: F401  (the tests import it from here)

ROOT = Path(__file__).resolve().parent.parent
CAFFE_BUILD = ROOT / "build" / "caffe-build"
CAFFE_SRC = ROOT / "build" / "caffe-src"
CAFFE_TOOL = ROOT / ".venv" / "bin" / "caffe"

os.environ.setdefault("GLOG_minloglevel", "2")


@pytest.fixture(scope="session")
def caffe():
    import caffe as _caffe
    _caffe.set_mode_cpu()
    return _caffe


def input_layers(**shapes):
    """Input layers, one per named blob, with the given shapes."""
    return "".join(
        'layer { name: "%s" type: "Input" top: "%s" input_param { shape { %s } } }\n'
        % (name, name, " ".join("dim: %d" % d for d in shape))
        for name, shape in shapes.items())


def run_python(code, timeout=120):
    """Runs code in a fresh interpreter (Caffe aborts the process on a failed
    CHECK, so bad-input tests need their own process)."""
    env = dict(os.environ, GLOG_minloglevel="0", GLOG_logtostderr="1")
    return subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=timeout, env=env)


def descriptor_sets(rng, n, c, t, positive_mu=False):
    x = rng.uniform(-1, 1, (n, c, 1, t)).astype(np.float32)
    if positive_mu:
        # away from the decoder ReLU's kink at 0, about half switched off
        m = rng.uniform(-1, 1, (n, c, 1, t))
        return x, (np.sign(m) * (0.2 + np.abs(m))).astype(np.float32)
    return x


def caffemodel_blobs(path):
    """{layer: [blob arrays in their shapes]} of a caffemodel, read with protobuf."""
    from caffe.proto import caffe_pb2
    m = caffe_pb2.NetParameter()
    with open(path, "rb") as f:
        m.ParseFromString(f.read())
    return {l.name: [np.array(b.data).reshape(tuple(b.shape.dim)) for b in l.blobs]
            for l in m.layer if l.blobs}


def read_results(folder):
    """{method: row} of a results.csv that tools/evaluate.py wrote."""
    import csv
    with open(os.path.join(folder, "results.csv")) as f:
        return {r["method"]: r for r in csv.DictReader(f)}
