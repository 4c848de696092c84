"""Training that meets a NaN or Inf loss stops with a message naming the
iteration, and keeps the last good snapshot (fvvae.protocol.train_with_guard,
which every pipeline's `caffe train` goes through)."""
import re

import pytest

from conftest import CAFFE_TOOL
from small_fvvae import make_descriptor_sets, train_net


def test_nan_loss_stops_training_and_keeps_the_last_good_snapshot(caffe, tmp_path):
    from fvvae.protocol import train_with_guard
    h5 = tmp_path / "sets.h5"
    make_descriptor_sets(h5)
    (tmp_path / "train.txt").write_text(str(h5) + "\n")
    (tmp_path / "train.prototxt").write_text(str(train_net(
        caffe, str(tmp_path / "train.txt"), channels=32, descriptors=10, latent=4, classes=4)))
    snaps = tmp_path / "snap"
    snaps.mkdir()
    solver = tmp_path / "solver.prototxt"
    # a learning rate that makes the loss explode within a few dozen iterations
    solver.write_text("\n".join([
        'net: "%s"' % (tmp_path / "train.prototxt"), 'type: "SGD"', "base_lr: 0.0001",
        "momentum: 0.9", 'lr_policy: "exp"', "gamma: 1.25", "max_iter: 400", "display: 1",
        "average_loss: 1", "snapshot: 2", 'snapshot_prefix: "%s"' % (snaps / "fv"),
        "solver_mode: CPU", "random_seed: 1701", ""]))
    log = tmp_path / "train.log"
    with pytest.raises(RuntimeError, match=r"not finite at iteration (\d+)") as err:
        train_with_guard(str(solver), str(snaps), 400, str(log), tool=str(CAFFE_TOOL))
    bad = int(re.search(r"iteration (\d+)", str(err.value)).group(1))
    assert 0 < bad < 400
    text = log.read_text()
    finite = [int(i) for i, v in re.findall(r"Iteration (\d+).*?, loss = (\S+)", text)
              if v not in ("nan", "-nan", "inf", "-inf")]
    kept = sorted(int(re.search(r"_iter_(\d+)", p.name).group(1)) for p in snaps.glob("*.caffemodel"))
    assert kept and max(kept) <= max(finite) < bad + 1
    assert "the last good snapshot is %s" % (snaps / ("fv_iter_%d.solverstate" % max(kept))) \
        in str(err.value)
    net = caffe.Net(str(tmp_path / "train.prototxt"),
                    str(snaps / ("fv_iter_%d.caffemodel" % max(kept))), caffe.TEST)
    import numpy as np
    assert all(np.isfinite(b.data).all() for p in net.params.values() for b in p)
