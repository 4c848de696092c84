"""The sharded extraction on a real Slurm cluster: a one-node cluster that
the test starts on this machine (Debian's slurmctld, slurmd and munge, the
controller and the node on localhost, their own ports, key and state in a
temporary folder), scripts/slurm_submit.sh submitting the job array and the
dependent merge (the README's Slurm example), the merged store equal to an
unsharded run's."""
import os
import shutil
import socket
import subprocess
import time

import numpy as np
import pytest

from conftest import ROOT
from test_pipeline_real import frame_list, tool


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    for daemon in ("slurmctld", "slurmd", "munged", "sbatch"):
        assert shutil.which(daemon) or os.path.exists("/usr/sbin/" + daemon), \
            "%s is missing: scripts/test.sh installs slurmctld, slurmd, slurm-client, munge" % daemon
    d = tmp_path / "slurm"
    for sub in ("spool", "state", "log"):
        (d / sub).mkdir(parents=True)
    key = d / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    sock = d / "munge.sock"
    subprocess.run(["/usr/sbin/munged", "--force", "-S", str(sock), "--key-file", str(key),
                    "--log-file", str(d / "log" / "munged.log"), "--pid-file",
                    str(d / "munged.pid"), "--seed-file", str(d / "munged.seed")], check=True)
    host = socket.gethostname().split(".")[0]
    conf = d / "slurm.conf"
    conf.write_text("\n".join([
        "ClusterName=fvvaetest", "SlurmctldHost=%s" % host,
        "SlurmctldPort=%d" % free_port(), "SlurmdPort=%d" % free_port(),
        "AuthType=auth/munge", "CredType=cred/munge", "AuthInfo=socket=%s" % sock,
        "SlurmUser=root", "SlurmdUser=root", "StateSaveLocation=%s" % (d / "state"),
        "SlurmdSpoolDir=%s" % (d / "spool"), "SlurmctldPidFile=%s" % (d / "ctld.pid"),
        "SlurmdPidFile=%s" % (d / "d.pid"), "SlurmctldLogFile=%s" % (d / "log" / "ctld.log"),
        "SlurmdLogFile=%s" % (d / "log" / "d.log"), "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none", "JobAcctGatherType=jobacct_gather/none",
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core", "MpiDefault=none",
        "ReturnToService=2", "NodeName=%s CPUs=%d State=UNKNOWN" % (host, os.cpu_count()),
        "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP", ""]))
    env = dict(os.environ, SLURM_CONF=str(conf))
    subprocess.run(["/usr/sbin/slurmctld", "-f", str(conf)], check=True, env=env)
    subprocess.run(["/usr/sbin/slurmd", "-f", str(conf)], check=True, env=env)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            res = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                                 env=env)
            if res.stdout.strip() == "idle":
                break
            time.sleep(1)
        else:
            pytest.fail("the test cluster's node did not come up: %s" % res.stdout + res.stderr)
        yield env, d
    finally:
        for pid in ("d.pid", "ctld.pid"):
            if (d / pid).exists():
                subprocess.run(["kill", (d / pid).read_text().strip()])
        subprocess.run(["/usr/sbin/munged", "-s", "-S", str(sock)])


def test_sharded_extraction_as_a_slurm_job_array(cluster, tmp_path):
    from fvvae.data.descriptor_store import DescriptorStore
    env, d = cluster
    lst = frame_list(tmp_path / "frames.txt")
    tool("extract_descriptors.py", "--trunk", "open_nsfw", "--list", lst,
         "--out", tmp_path / "whole.lmdb", "--batch", 4)
    out = tmp_path / "slurm" / "sets.lmdb"
    res = subprocess.run(["bash", str(ROOT / "scripts/slurm_submit.sh"), "--list", str(lst),
                          "--out", str(out), "--shards", "3"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    array, merge = res.stdout.split()[1], res.stdout.split()[3]
    deadline = time.time() + 900
    while time.time() < deadline:
        q = subprocess.run(["squeue", "-h", "-j", "%s,%s" % (array, merge)],
                           capture_output=True, text=True, env=env)
        if not q.stdout.strip():
            break
        time.sleep(2)
    logs = {p.name: p.read_text() for p in out.parent.glob("*.log")}
    assert len([n for n in logs if n.startswith("extract_%s_" % array)]) == 3, logs
    assert "merge_%s.log" % merge in logs, logs
    # three shards, each its own block, then the merge: equal to the unsharded store
    for i in range(3):
        assert os.path.isdir("%s.shard-%d-of-3" % (out, i))
    a = DescriptorStore(str(tmp_path / "whole.lmdb"), readonly=True)
    b = DescriptorStore(str(out), readonly=True)
    assert a.done_indices() == b.done_indices() == set(range(10)), logs
    for i in range(10):
        (xa, la), (xb, lb) = a.read(i), b.read(i)
        assert la == lb
        np.testing.assert_allclose(xa, xb, rtol=1e-5, atol=1e-6)


def wait_for(jobs, env, timeout=1500):
    deadline = time.time() + timeout
    while time.time() < deadline:
        q = subprocess.run(["squeue", "-h", "-j", ",".join(jobs)], capture_output=True,
                           text=True, env=env)
        if not q.stdout.strip():
            return
        time.sleep(2)
    pytest.fail("the jobs %s did not finish in %d s" % (jobs, timeout))


def test_streamed_protocol_as_four_dependent_slurm_submissions(cluster, tmp_path):
    """scripts/slurm_protocol.sh (the README's example): the training side's
    job array, the models, the test side's job array and the report, each
    waiting for the one before; every representation file equal to the one
    a single machine's streamed run writes, the shards' folders gone."""
    import h5py
    from test_streaming import lists, protocol, QUICK, rep_files
    env, d = cluster
    train, test = lists(tmp_path)
    single = protocol(train, test, tmp_path / "single", "--chunk", "1")
    assert single.returncode == 0, single.stderr[-3000:]
    out = tmp_path / "cluster"
    res = subprocess.run(["bash", str(ROOT / "scripts/slurm_protocol.sh"), "--shards", "2",
                          "--", "--train-list", str(train), "--test-list", str(test),
                          "--trunk", "open_nsfw", "--out", str(out), "--chunk", "1"] + QUICK,
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    words = res.stdout.split()
    assert words[0::2] == ["train", "models", "test", "report"], res.stdout
    ids = words[1::2]
    wait_for(ids, env)
    logs = sorted(p.name for p in (out / "slurm").glob("*.log"))
    assert logs == sorted(["train_%s_0.log" % ids[0], "train_%s_1.log" % ids[0],
                           "models_%s.log" % ids[1], "test_%s_0.log" % ids[2],
                           "test_%s_1.log" % ids[2], "report_%s.log" % ids[3]]), logs
    text = {n: (out / "slurm" / n).read_text() for n in logs}
    assert (out / "REPORT.md").exists(), text
    assert "train side, shard 1 of 2 done" in text["train_%s_1.log" % ids[0]], text
    assert "test side: 2 shards merged" in text["report_%s.log" % ids[3]], text
    assert not [n for n in os.listdir(out / "shards") if os.path.isdir(out / "shards" / n)]
    a, b = rep_files(tmp_path / "single"), rep_files(out)
    assert a.keys() == b.keys() and len(a) == 16
    for rel in a:
        with h5py.File(a[rel], "r") as x, h5py.File(b[rel], "r") as y:
            # (float16 rows; the jobs' BLAS may split its sums otherwise)
            np.testing.assert_allclose(x["features"][:].astype(float),
                                       y["features"][:].astype(float), atol=1e-3, err_msg=rel)
            assert list(x["ids"].asstr()[:]) == list(y["ids"].asstr()[:]), rel
    table = [l for l in (tmp_path / "single" / "REPORT.md").read_text().splitlines()
             if l.startswith("| ")]
    assert [l.split("|")[:5] for l in table] == [
        l.split("|")[:5] for l in (out / "REPORT.md").read_text().splitlines()
        if l.startswith("| ")]


def test_ucf101_script_submits_to_slurm_and_a_rerun_reuses_every_stage(cluster, tmp_path):
    """scripts/ucf101.sh --slurm 2 prepares the data here and submits the
    protocol (scripts/slurm_protocol.sh); once the jobs are done the same
    command without --slurm reuses every stage and prints the table."""
    import re
    from conftest import read_results
    from fvvae.testing.dataset_trees import ucf101_tree
    from test_datasets import QUICK
    env, d = cluster
    root = ucf101_tree(str(tmp_path / "ucf"))
    out = tmp_path / "run"
    cmd = ["bash", str(ROOT / "scripts" / "ucf101.sh"), "--root", root, "--stream", "rgb",
           "--trunk", "open_nsfw", "--frames", "3", "--out", str(out)]
    tail = ["--", "--methods", "GA,FV,FV-VAE", "--chunk", "1"] + QUICK
    res = subprocess.run(cmd + ["--slurm", "2"] + tail, capture_output=True, text=True, env=env,
                         timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "the same command without --slurm" in res.stdout
    ids = re.search(r"train (\d+) models (\d+) test (\d+) report (\d+)", res.stdout).groups()
    wait_for(list(ids), env)
    assert (out / "rgb" / "REPORT.md").exists(), [
        p.read_text()[-2000:] for p in (out / "rgb" / "slurm").glob("*.log")]
    slurm_results = read_results(out / "rgb")
    again = subprocess.run(cmd + tail, capture_output=True, text=True, env=env, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert re.findall(r"stage (\S+): running", again.stderr) == []
    assert {"train_stream", "test_stream", "train_fvvae_full_k15"} <= set(
        re.findall(r"stage (\S+): reused", again.stderr))
    assert list(slurm_results) == ["GA", "FV", "FV-VAE"]
    keep = ("dimension", "top1", "top3", "map")
    assert {m: [r[k] for k in keep] for m, r in read_results(out / "rgb").items()} == {
        m: [r[k] for k in keep] for m, r in slurm_results.items()}
