"""--gpu through the whole chain, checked on this CPU-only build: every tool
and script stops at once with one line when asked for a GPU, and the flag
reaches every tool and solver the protocol runs; and the class-mixed,
seeded order of the training records Caffe's Data layer reads."""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, input_layers, net_from_text

PY = str(ROOT / ".venv" / "bin" / "python")


def test_this_build_is_cpu_only():
    from fvvae.trunks.device import cuda_built
    assert not cuda_built(), "these tests check the CPU-only build's refusal; CI builds CPU-only"


@pytest.mark.parametrize("argv", [
    ["tools/extract_descriptors.py", "--list", "L", "--out", "{out}/x.lmdb"],
    ["tools/estimate_fim.py", "--net", "N", "--weights", "W", "--source", "S", "--out", "{out}/f"],
    ["tools/extract_fv.py", "--net", "N", "--weights", "W", "--source", "S", "--out", "{out}/f.h5"],
    ["tools/finetune_trunk.py", "--trunk", "open_nsfw", "--list", "L", "--out", "{out}/ft"],
    ["tools/run_protocol.py", "--train-list", "L", "--test-list", "L", "--out", "{out}/p"],
    ["tools/demo.py", "--out", "{out}/demo"],
], ids=lambda a: os.path.basename(a[0]))
def test_tools_refuse_a_gpu_on_a_cpu_build_before_any_work(tmp_path, argv):
    args = [a.format(out=tmp_path) for a in argv] + ["--gpu", "0"]
    res = subprocess.run([PY, str(ROOT / args[0])] + args[1:], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert "built without CUDA" in lines[0] and "FVVAE_CUDA=1" in lines[0]
    assert os.path.basename(args[0]).split(".")[0] in lines[0]
    assert list(tmp_path.iterdir()) == []            # nothing written


def test_scripts_refuse_a_gpu_on_a_cpu_build(tmp_path):
    from fvvae.testing.dataset_trees import cub_tree
    root = cub_tree(str(tmp_path / "cub"), per_class=2, test_per_class=1)
    res = subprocess.run(["bash", str(ROOT / "scripts/cub200.sh"), "--root", root, "--trunk",
                          "open_nsfw", "--gpu", "0", "--out", str(tmp_path / "run")],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 2
    assert "cub200.sh: --gpu 0 asked for a GPU" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "run").exists()
    for name in ("ucf101.sh", "activitynet.sh", "demo.sh"):
        text = (ROOT / "scripts" / name).read_text()
        assert ("--gpu" in text) or name == "demo.sh"
    assert "need_gpu" in (ROOT / "scripts/ucf101.sh").read_text()
    assert "need_gpu" in (ROOT / "scripts/activitynet.sh").read_text()


def test_a_process_queries_a_device_once(monkeypatch):
    """A CUDA build: the first tool call of a process asks `caffe device_query`
    (its own CUDA context); later calls for the same device do not, a device
    that did not answer is asked again, and a second device is asked too."""
    from fvvae.trunks import device
    queries, answer = [], {"rc": 0}

    def fake_run(cmd, **k):
        queries.append(cmd[-1])
        return subprocess.CompletedProcess(cmd, answer["rc"], "", "F1203 no CUDA-capable device")

    monkeypatch.setattr(device, "_answered", set())
    monkeypatch.setattr(device, "cuda_built", lambda lib=None: True)
    monkeypatch.setattr(device.subprocess, "run", fake_run)
    answer["rc"] = 1
    for _ in range(2):
        with pytest.raises(device.GpuUnavailable, match="does not answer"):
            device.require_gpu(0, "extract_fv")
    assert queries == ["0", "0"]
    answer["rc"] = 0
    for tool in ("extract_descriptors", "extract_fv", "estimate_fim"):
        device.require_gpu(0, tool)
    device.require_gpu(1, "extract_fv")
    device.require_gpu(1, "extract_fv")
    assert queries == ["0", "0", "0", "1"]


def test_gpu_reaches_every_tool_and_the_solver(tmp_path, monkeypatch):
    """The protocol with gpu=3: every net tool gets --gpu 3, make_nets --gpu
    (solver_mode GPU) and caffe train -gpu 3; with gpu=None none does."""
    import fvvae.run.adapter as adapter
    import fvvae.run.protocol as protocol
    from fvvae.run.stages import Stages
    calls, trains = [], []

    def fake_run(cmd, *a, **k):
        calls.append([str(c) for c in cmd])
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(protocol.subprocess, "run", fake_run)
    monkeypatch.setattr(Stages, "run", lambda self, name, params, outputs, fn, deps=():
                        fn() or {"seconds": 0})
    monkeypatch.setattr(protocol, "train_with_guard",
                        lambda solver, snaps, iters, log, gpu=None, **k: trains.append(gpu))
    monkeypatch.setattr(protocol, "parse_losses", lambda path: [])
    lst = tmp_path / "list.txt"
    lst.write_text("a.jpg 0\nb.jpg 1\n")
    for gpu in (3, None):
        calls.clear(), trains.clear()
        s = protocol.ProtocolSettings(out=str(tmp_path / str(gpu)), gpu=gpu)
        p = protocol.Protocol(s, protocol.Data(str(lst), str(lst), 2, trunk="open_nsfw"))
        p.descriptors()
        p.representations()
        tools = {}
        for cmd in calls:
            tools.setdefault(os.path.basename(cmd[1]), []).append(cmd)
        assert set(adapter.GPU_TOOLS) - {"finetune_trunk.py"} <= set(tools), sorted(tools)
        for name, cmds in tools.items():
            for cmd in cmds:
                if gpu is not None and name in adapter.GPU_TOOLS:
                    want = [a.format(gpu=gpu) for a in adapter.GPU_TOOLS[name]]
                    assert cmd[-len(want):] == want, cmd
                else:
                    assert "--gpu" not in cmd, cmd
        assert trains == [gpu, gpu]                  # FV-VAE- and FV-VAE


def test_solvers_say_gpu_when_asked(caffe, tmp_path):
    from fvvae.model import finetune
    res = subprocess.run([PY, str(ROOT / "tools/make_nets.py"), "--out", str(tmp_path / "n"),
                          "--gpu"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "solver_mode: GPU" in (tmp_path / "n" / "solver.prototxt").read_text()
    assert "solver_mode: GPU" in finetune.solver_text("t", "p", 10, gpu=True)
    assert "solver_mode: CPU" in finetune.solver_text("t", "p", 10)
    # train_with_guard hands the id to caffe train (a stand-in tool records its argv)
    from fvvae.model.training import train_with_guard
    fake, argv = tmp_path / "caffe", tmp_path / "argv.txt"
    fake.write_text('#!/bin/sh\necho "$@" > %s\n' % argv)
    fake.chmod(0o755)
    (tmp_path / "snaps").mkdir()
    train_with_guard("s.prototxt", str(tmp_path / "snaps"), 1, str(tmp_path / "t.log"),
                     tool=str(fake), gpu=3)
    assert argv.read_text().split() == ["train", "-solver", "s.prototxt", "-gpu", "3"]


# ---- the order of the training records ----------------------------------------

def data_layer_labels(caffe, source, batch, batches):
    text = ('layer { name: "d" type: "Data" top: "data" top: "label" '
            'data_param { source: "%s" backend: LMDB batch_size: %d } }\n' % (source, batch))
    net = net_from_text(caffe, text, caffe.TRAIN)
    out = []
    for _ in range(batches):
        net.forward()
        out.append(net.blobs["label"].data.astype(int).tolist())
    return out


def test_class_sorted_list_gives_mixed_batches_in_a_seeded_order(caffe, tmp_path):
    from fvvae.data.descriptor_store import ORDER_FILE, DescriptorStore
    labels = np.repeat(np.arange(3), 8)                # a list sorted by class
    x = np.random.default_rng(0).random((24, 4, 1, 5)).astype(np.float32)
    stores = {}
    for name, shuffle in (("sorted", None), ("mixed", (0, 24)), ("again", (0, 24)),
                          ("other", (1, 24))):
        s = DescriptorStore(str(tmp_path / name), shuffle=shuffle)
        s.put_batch(range(24), x, labels)
        s.close()
        stores[name] = data_layer_labels(caffe, tmp_path / name, 8, 3)
    assert stores["sorted"][0] == [0] * 8                # what Caffe read before
    assert all(len(set(b)) >= 2 for b in stores["mixed"])  # several classes a batch
    assert stores["mixed"] == stores["again"]            # seeded: reproducible
    assert stores["mixed"] != stores["other"]
    assert sorted(sum(stores["mixed"], [])) == sorted(labels.tolist())  # every record once
    # readers see list indices: the same item at the same index
    a = DescriptorStore(str(tmp_path / "mixed"), readonly=True)
    b = DescriptorStore(str(tmp_path / "sorted"), readonly=True)
    assert a.done_indices() == set(range(24))
    for i in (0, 7, 23):
        np.testing.assert_array_equal(a.read(i)[0], b.read(i)[0])
        assert a.read(i)[1] == labels[i]
    assert (tmp_path / "mixed" / ORDER_FILE).exists()
    a.close(), b.close()
    # a store written in one order is not silently continued in another
    with pytest.raises(ValueError, match="written in list order"):
        DescriptorStore(str(tmp_path / "sorted"), shuffle=(0, 24))


def test_extract_descriptors_shuffle_flag_on_real_photos(caffe, tmp_path):
    """24 real photos (scikit-image's), listed sorted by class, through the
    embedded trunk with --shuffle: the store Caffe reads mixes the classes."""
    import cv2
    import skimage.data as sd
    photos = [sd.astronaut(), sd.coffee(), sd.chelsea(), sd.rocket()]
    lines = []
    for cls in range(3):
        for k in range(8):
            img = photos[(cls + k) % 4][k * 3:, k * 2:]
            path = tmp_path / ("c%d_%d.jpg" % (cls, k))
            cv2.imwrite(str(path), cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2BGR))
            lines.append("%s %d\n" % (path, cls))
    (tmp_path / "list.txt").write_text("".join(lines))
    out = tmp_path / "sets.lmdb"
    res = subprocess.run([PY, str(ROOT / "tools/extract_descriptors.py"), "--list",
                          str(tmp_path / "list.txt"), "--out", str(out), "--shuffle", "0",
                          "--batch", "8"], capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-2000:]
    first = data_layer_labels(caffe, out, 8, 1)[0]
    assert len(set(first)) >= 2, first
