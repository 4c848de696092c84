"""FV-VAE's training through Caffe's own tool (section 5.2: AdaDelta, the
solver of tools/make_nets.py): `caffe train -solver`, resumed from its last
snapshot, stopped at the first loss that is not finite with the snapshots
before it kept, and the losses of eq. 8 read back from its log."""
import logging
import math
import os
import re
import subprocess

from fvvae import ROOT

log = logging.getLogger("fvvae.model.training")

# Tests only (FVVAE_TEST_PAUSE_AFTER_SNAPSHOT=1): once Caffe has written its
# first solver state before the last iteration, training is stopped there
# (SIGSTOP) and this file is written into the snapshot folder, so that a test
# can kill the run in the middle of training on any host, however fast.
PAUSE_MARKER = "paused-for-test"
SNAPSHOT_LINE = re.compile(r"Snapshotting solver state to binary proto file \S*_iter_(\d+)\.solverstate")
LOSS_LINE = re.compile(r"Iteration (\d+).*?, loss = (\S+)|Train net output #\d+: \w+ = (\S+)")


def _snapshots(folder, kinds="solverstate"):
    """[(iteration, path)] of a snapshot folder's files of these kinds (a
    regex alternative: "solverstate|caffemodel"), in order."""
    return sorted((int(m.group(1)), os.path.join(folder, f)) for f in os.listdir(folder)
                  for m in [re.search(r"_iter_(\d+)\.(?:%s)$" % kinds, f)] if m)


def train_with_guard(solver, snapshots, iterations, log_path, tool=None, weights=None, gpu=None):
    """`.venv/bin/caffe train -solver`, resumed from the last snapshot in
    `snapshots` if there is one (else started from `weights`, if given), on
    GPU `gpu` if given, with a progress bar over the iterations.
    A NaN or Inf loss stops training at once: the snapshots taken after the
    last finite loss are removed, the earlier ones kept, and RuntimeError
    names the iteration and the snapshot to resume from."""
    from tqdm import tqdm
    for name in os.listdir(snapshots):   # a snapshot being written when a run was killed
        if name.endswith(".partial") or name == PAUSE_MARKER:
            os.remove(os.path.join(snapshots, name))
    pause = os.environ.get("FVVAE_TEST_PAUSE_AFTER_SNAPSHOT") == "1"
    states = _snapshots(snapshots)
    cmd = [tool or os.path.join(ROOT, ".venv", "bin", "caffe"), "train", "-solver", solver]
    if states:
        cmd += ["-snapshot", states[-1][1]]
        log.info("resuming training from %s", states[-1][1])
    elif weights:
        cmd += ["-weights", weights]
    if gpu is not None:
        cmd += ["-gpu", str(gpu)]
    env = dict(os.environ, GLOG_minloglevel="0", GLOG_logtostderr="1")
    iteration, last_finite, bad = states[-1][0] if states else 0, None, None
    with open(log_path, "a") as f, tqdm(total=iterations, desc="caffe train",
                                        initial=iteration) as bar:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=env)
        announced = None        # (iteration, path) of a solver state Caffe announced
        for line in proc.stderr:
            f.write(line)
            if pause and announced and announced[0] < iterations and os.path.exists(
                    announced[1]):      # written in full (patch 0009 renames a .partial)
                _pause_for_test(proc, f, snapshots)
            m = SNAPSHOT_LINE.search(line)
            if m:
                announced = (int(m.group(1)), m.group(0).split("binary proto file ", 1)[1])
            m = LOSS_LINE.search(line)
            if not m:
                continue
            if m.group(1):
                iteration = int(m.group(1))
                bar.n = min(iterations, iteration)
                bar.refresh()
            value = m.group(2) or m.group(3)
            try:
                finite = math.isfinite(float(value))
            except ValueError:
                finite = False
            if finite and m.group(1):
                last_finite = iteration
            elif not finite:
                bad = (iteration, line.strip())
                proc.kill()
                break
        rc = proc.wait()
    if bad:
        kept = [(i, p) for i, p in _snapshots(snapshots) if last_finite is not None
                and i <= last_finite]
        # every file of a later iteration goes, a weights file whose solver
        # state was still being written when the run was stopped included
        for i, path in _snapshots(snapshots, "solverstate|caffemodel"):
            if last_finite is None or i > last_finite:
                os.remove(path)
        raise RuntimeError(
            "training stopped: the loss is not finite at iteration %d (%s); %s; see %s"
            % (bad[0], bad[1].split("] ")[-1],
               "the last good snapshot is %s" % kept[-1][1] if kept
               else "no snapshot was taken before it", log_path))
    if rc != 0:
        raise RuntimeError("caffe train failed (exit %d); see %s" % (rc, log_path))


def snapshot_initial(solver, log_path):
    """The solver's net as Caffe initialises it (its fillers, seeded by the
    solver's random_seed, as `caffe train` would start), snapshotted at
    iteration 0 without a step: the untrained control of docs/evidence.md
    (C6). In a Python process of its own, so that pycaffe's state stays out
    of the caller."""
    import sys
    code = ("import caffe, sys; caffe.set_mode_cpu(); s = caffe.get_solver(sys.argv[1]); "
            "s.snapshot()")
    with open(log_path, "a") as f:
        res = subprocess.run([sys.executable, "-c", code, solver], stdout=f,
                             stderr=subprocess.STDOUT)
    if res.returncode != 0:
        raise RuntimeError("initialising %s failed (exit %d); see %s"
                           % (solver, res.returncode, log_path))


def _pause_for_test(proc, log_file, snapshots):
    """Stops Caffe (SIGSTOP) and this process until killed; see PAUSE_MARKER."""
    import signal
    import time
    proc.send_signal(signal.SIGSTOP)
    log_file.flush()
    with open(os.path.join(snapshots, PAUSE_MARKER), "w") as marker:
        marker.write("%d\n" % proc.pid)
    while True:
        time.sleep(3600)


def parse_losses(log_path):
    """[(iteration, {loss name: value})] from a caffe train log. A log that
    training resumed into holds the iterations after the snapshot twice: the
    resumed run's lines, which come last, are kept."""
    rows, current = [], None
    with open(log_path) as f:
        for line in f:
            m = re.search(r"Iteration (\d+).*?, loss = ", line)
            if m:
                current = {"iteration": int(m.group(1))}
                rows.append(current)
                continue
            m = re.search(r"Train net output #\d+: (loss_\w+) = ([-+0-9.eE]+|nan|inf)", line)
            if m and current is not None:
                current[m.group(1)] = float(m.group(2))
    last = {r["iteration"]: r for r in rows}
    return [last[i] for i in sorted(last)]
