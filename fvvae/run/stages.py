"""Resumable pipeline stages, reused only when their inputs and outputs are
what they were: each stage has a key (its parameters plus the keys of the
stages it depends on) and records the content digests of its outputs. A
stage runs again when its key changed or an output's content differs; the
tools it runs are resumable themselves, so an interrupted stage continues
where it stopped.

An output whose size and modification time are what the stamp recorded is
taken to hold what it held then (as make and rsync do): at the paper's scale
the kept training sets are about 50 GB, and hashing them again at every start
of every shard of a cluster run would cost minutes each. A readonly Stages
(a shard of a streamed run) runs nothing: a stage that is not finished is an
error that says so."""
import hashlib
import json
import logging
import os
import shutil
import time

from fvvae.files import atomic, digest, signature  # noqa: F401  (re-exported)

log = logging.getLogger("fvvae.run.stages")


class StageNotFinished(RuntimeError):
    pass


class Stages:
    def __init__(self, folder, readonly=False):
        self.folder = os.path.join(folder, "stages")
        self.readonly = readonly
        if not readonly:
            os.makedirs(self.folder, exist_ok=True)
        self.keys = {}

    def unchanged(self, stamp, path):
        """Whether `path` still holds what the stamp's run wrote."""
        if not os.path.exists(path):
            return False
        if stamp.get("signatures", {}).get(path) == signature(path):
            return True
        return digest(path) == stamp["digests"].get(path)

    def key(self, params, deps=()):
        """The key a stage with these parameters and dependencies runs under."""
        return hashlib.sha256(json.dumps(
            {"params": params, "deps": [self.keys[d] for d in deps]},
            sort_keys=True, default=str).encode()).hexdigest()

    def stamp(self, name):
        """The record of the stage's last completed run, or None."""
        path = os.path.join(self.folder, name + ".json")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def run(self, name, params, outputs, fn, deps=()):
        """Runs fn() unless a stamp says it ran with the same key and its
        outputs still hold what it wrote. Returns fn's (JSON) result."""
        key = self.key(params, deps)
        stamp = self.stamp(name)
        stamp_path = os.path.join(self.folder, name + ".json")
        if stamp and stamp.get("key") == key and all(self.unchanged(stamp, o) for o in outputs):
            log.info("stage %s: reused (same inputs, outputs unchanged)", name)
            self.keys[name] = hashlib.sha256((key + json.dumps(stamp["digests"], sort_keys=True))
                                             .encode()).hexdigest()
            return stamp.get("result")
        if self.readonly:
            raise StageNotFinished(
                "stage %s is not finished with these settings (%s): a shard runs only its "
                "own chunks; run the stages before it first" % (
                    name, "never run" if not stamp else "its settings or inputs changed"
                    if stamp.get("key") != key else "an output changed since"))
        if stamp and stamp.get("key") != key:
            # made from other inputs: start from nothing. The tools resume what
            # they find (stores by item index, representation files by row),
            # which is right after an interruption (no record, or this key) and
            # wrong here: they would keep the old settings' rows.
            for o in outputs:
                if os.path.isdir(o) and not os.path.islink(o):
                    shutil.rmtree(o)
                elif os.path.lexists(o):
                    os.remove(o)
        log.info("stage %s: running", name)
        start = time.time()
        result = fn()
        digests = {o: digest(o) for o in outputs}
        record = {"key": key, "digests": digests, "result": result,
                  "signatures": {o: signature(o) for o in outputs},
                  "seconds": time.time() - start}
        with atomic(stamp_path) as f:
            json.dump(record, f, indent=1, default=str)
        self.keys[name] = hashlib.sha256((key + json.dumps(digests, sort_keys=True))
                                         .encode()).hexdigest()
        log.info("stage %s: done in %.1f s", name, record["seconds"])
        return result
