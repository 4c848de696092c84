"""Training that meets a NaN or Inf loss stops with a message naming the
iteration, and keeps the last good snapshot (fvvae.model.training.train_with_guard,
which every pipeline's `caffe train` goes through)."""
import re

import pytest

from conftest import CAFFE_TOOL, caffemodel_blobs
from small_fvvae import make_descriptor_sets, train_net


def test_nan_loss_stops_training_and_keeps_the_last_good_snapshot(caffe, tmp_path):
    from fvvae.model.training import train_with_guard
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


@pytest.mark.parametrize("shuffle", [None, (5, 20)], ids=["list-order", "shuffled"])
def test_resumed_training_equals_uninterrupted_training(caffe, tmp_path, shuffle):
    """patches/0009: from a snapshot, Caffe's Data layer continues at the
    record the uninterrupted run would read (here past the end of the LMDB,
    which wraps) and dropout and GaussianSample draw the same noise, so the
    weights after 12 iterations are bit for bit those of one run. A snapshot
    being written when a run is killed never replaces the previous one
    (FILE.partial, renamed into place)."""
    import os
    import subprocess
    import numpy as np
    from fvvae.model.config import FVVAEConfig
    from fvvae.data.descriptor_store import DescriptorStore
    from fvvae.model.nets import solver_text, train_net
    rng = np.random.default_rng(0)
    # a class-sorted list, written in list order or in one seeded order (the protocol's)
    store = DescriptorStore(str(tmp_path / "sets.lmdb"), shuffle=shuffle)
    store.put_batch(range(20), np.abs(rng.normal(size=(20, 16, 1, 6))), np.arange(20) * 3 // 20)
    store.close()
    cfg = FVVAEConfig(channels=16, descriptors=6, encoder=[12, 4], classes=3, batch=8,
                      snapshot=4, iterations=12, source=str(tmp_path / "sets.lmdb"))
    (tmp_path / "train.prototxt").write_text(str(train_net(caffe, cfg)))
    assert "Dropout" in (tmp_path / "train.prototxt").read_text()

    def train(name, max_iter, resume=None):
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        solver = folder / ("solver%d.prototxt" % max_iter)
        text = solver_text(cfg, str(tmp_path / "train.prototxt"), str(folder / "fv"))
        solver.write_text(text.replace("max_iter: 12", "max_iter: %d" % max_iter))
        cmd = [str(CAFFE_TOOL), "train", "-solver", str(solver)]
        if resume:
            cmd += ["-snapshot", str(folder / resume)]
        res = subprocess.run(cmd, capture_output=True, text=True,
                             env=dict(os.environ, GLOG_logtostderr="1", GLOG_minloglevel="0"))
        assert res.returncode == 0, res.stderr[-2000:]
        return res.stderr

    train("once", 12)
    train("twice", 4)                                   # 32 of the 20 records: wrapped
    log = train("twice", 12, resume="fv_iter_4.solverstate")
    assert "continues after record 32" in log
    a, b = caffemodel_blobs(tmp_path / "once" / "fv_iter_12.caffemodel"), \
        caffemodel_blobs(tmp_path / "twice" / "fv_iter_12.caffemodel")
    assert a.keys() == b.keys() and sum(map(len, a.values())) >= 8
    for k in a:
        assert all(np.array_equal(u, v) for u, v in zip(a[k], b[k])), k
    # the weights did move, and a third run from iteration 8 agrees too
    early = caffemodel_blobs(tmp_path / "once" / "fv_iter_4.caffemodel")
    assert not np.array_equal(a["mu_x"][0], early["mu_x"][0])
    train("thrice", 8)
    train("thrice", 12, resume="fv_iter_8.solverstate")
    c = caffemodel_blobs(tmp_path / "thrice" / "fv_iter_12.caffemodel")
    assert all(np.array_equal(u, v) for k in a for u, v in zip(a[k], c[k]))
    assert not list(tmp_path.rglob("*.partial"))
