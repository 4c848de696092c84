"""`.venv/bin/caffe train -solver` on a small FV-VAE net built from our layers:
200 AdaDelta iterations, the loss goes down, nothing becomes NaN."""
import math
import os
import re
import subprocess

import pytest
import numpy as np

from conftest import CAFFE_TOOL
from small_fvvae import adadelta_solver, make_descriptor_sets, train_net

pytestmark = pytest.mark.quick     # scripts/test.sh --quick


ITER_LOSS = re.compile(r"Iteration (\d+).*?, loss = (\S+)")
OUTPUT = re.compile(r"Train net output #\d+: (loss_\w+) = (\S+)")


def run_training(caffe, tmp_path, iterations, python_layers=False):
    h5 = tmp_path / "sets.h5"
    make_descriptor_sets(h5)
    (tmp_path / "train.txt").write_text(str(h5) + "\n")
    net = train_net(caffe, str(tmp_path / "train.txt"), channels=32, descriptors=10,
                    latent=4, classes=4, python_layers=python_layers)
    (tmp_path / "train.prototxt").write_text(str(net))
    solver = tmp_path / "solver.prototxt"
    solver.write_text(adadelta_solver(tmp_path / "train.prototxt", iterations,
                                      tmp_path / "snap"))
    res = subprocess.run([str(CAFFE_TOOL), "train", "-solver", str(solver)],
                         capture_output=True, text=True, timeout=900,
                         env=dict(os.environ, GLOG_minloglevel="0"))
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-3000:]
    losses = [(int(i), float(v)) for i, v in ITER_LOSS.findall(log)]
    outputs = {}
    for name, v in OUTPUT.findall(log):
        outputs.setdefault(name, []).append(float(v))
    return losses, outputs, log


def test_caffe_train_adadelta_200_iterations(caffe, tmp_path):
    losses, outputs, log = run_training(caffe, tmp_path, 200)
    assert losses[-1][0] == 200 or "Optimization Done" in log
    values = [v for _, v in losses]
    assert len(values) >= 20 and all(math.isfinite(v) for v in values)
    for name in ("loss_rec", "loss_reg", "loss_cls"):
        assert name in outputs and all(math.isfinite(v) for v in outputs[name]), name
    first, last = np.mean(values[:3]), np.mean(values[-3:])
    assert last < 0.7 * first, (first, last)
    # the reconstruction term, the bulk of the loss, goes down too
    assert np.mean(outputs["loss_rec"][-3:]) < np.mean(outputs["loss_rec"][:3])
    assert (tmp_path / "snap_iter_200.caffemodel").exists()
    trained = caffe.Net(str(tmp_path / "train.prototxt"),
                        str(tmp_path / "snap_iter_200.caffemodel"), caffe.TEST)
    assert np.all(np.isfinite(trained.params["loss_rec"][0].data))


def test_caffe_tool_runs_python_twins(caffe, tmp_path):
    """The caffe tool embeds the base interpreter: the setup's wrapper must give
    it .venv's packages and python_layers/ for `type: "Python"` layers."""
    losses, outputs, log = run_training(caffe, tmp_path, 30, python_layers=True)
    values = [v for _, v in losses]
    assert values and all(math.isfinite(v) for v in values)
    assert values[-1] < values[0]
