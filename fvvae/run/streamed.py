"""A run's streamed sides (settings `chunk` > 0): the descriptor stores
made a chunk of whole videos at a time and deleted once every method has
read them (fvvae.run.streaming), only the training sets kept; on a cluster,
one shard of a side's chunks per process and their merge (fvvae.run.shards).
A mixin of fvvae.run.protocol.Protocol (its stages, data, settings and the
tool adapter's trunk_job and run_plan)."""
import json
import logging
import os
import shutil

from fvvae.files import atomic, digest
from fvvae.methods import BASELINE_METHODS, BASELINES
from fvvae.run.adapter import ProtocolError
from fvvae.run.streaming import WORK, ChunkJob

log = logging.getLogger("fvvae.run.protocol")


class StreamedSides:
    def spans(self, split):
        """The split's chunks (fvvae.run.streaming.chunks). A training chunk holds
        as many items as a test chunk: `chunk` test videos of 25 frames x 10
        crops are 250 items each, so the training side takes 10 x `chunk`
        videos of 25 frames a chunk (its chunk stores hold maps and GA only,
        and fewer chunks start fewer tools)."""
        from fvvae.run import streaming
        from fvvae.data.image_list import read_list
        size = self.s.chunk
        try:
            items = read_list(getattr(self.data, split + "_list"), check_files=False)
            if split == "train" and self.data.grouped:
                test = read_list(self.data.test_list, check_files=False)
                per_test = len(test) / float(max(1, len({i.group for i in test})))
                per_train = len(items) / float(max(1, len({i.group for i in items})))
                size = max(size, int(size * per_test / per_train))
            return streaming.chunks(items, size, self.data.grouped)
        except ValueError as e:
            raise ProtocolError("%s: %s" % (getattr(self.data, split + "_list"), e)) from None

    def train_stream(self, deps=()):
        """The training side, chunk by chunk: the kept (shuffled) training
        sets, and GA / Concatenation / AVE's training rows from chunk stores."""
        d, s = self.data, self.s
        if not s.shard:
            self.imagedata_list()
        sets = self.path("activations", "sets_train.lmdb")
        spans, rows = self.spans("train")
        jobs = []
        for name in [m.name for m in BASELINE_METHODS if m.store != "sets"
                     and m.name in s.methods]:
            method, kind = BASELINES[name]
            folder = self.path("encodings", method)
            jobs.append(ChunkJob(name, os.path.join(folder, "%s_train.h5" % method), "encode.py",
                                 tuple(self.encode_rows_args(method, folder)
                                       + self.chunk_rows_args("encode.py", "train",
                                                              WORK(kind + ".lmdb")))))
        kinds = {BASELINES[j.label][1] for j in jobs}
        params = {"trunk": d.trunk, "weights": d.weights, "resize": list(d.resize),
                  "preprocess": d.preprocess,
                  "crop": d.crop, "list": d.train_list, "list_file": digest(d.train_list),
                  "train_order_seed": s.seed,
                  "chunk": s.chunk, "compact": s.compact, "rows": [j.label for j in jobs]}
        trunk = self.trunk_job("train", kinds, kept=True, extra=["--shuffle", s.seed])
        return self.streamed("train", params, deps, spans, rows, jobs, trunk, sets)

    def stream_test(self):
        """The test side, chunk by chunk, after every method's training side:
        each chunk's stores are made, every method writes its test rows, the
        stores are deleted. Returns {row name: seconds}."""
        spans, rows = self.spans("test")
        kinds = {kind for _, kind, _, _, _ in self.test_jobs} | {"sets"}
        jobs = [ChunkJob(name, out, tool, tuple(
            args + self.chunk_rows_args(tool, "test", WORK(kind + ".lmdb"))))
            for name, kind, tool, args, out in self.test_jobs]

        params = {"list": self.data.test_list, "list_file": digest(self.data.test_list),
                  "chunk": self.s.chunk,
                  "jobs": [[str(a) for a in j[:4]] for j in self.test_jobs]}
        deps = [self.source_stage] + [n for n in self.stages.keys if n.startswith(
            ("encode_", "fv_"))]
        return self.streamed("test", params, deps, spans, rows, jobs,
                             self.trunk_job("test", kinds))

    def streamed(self, side, params, deps, spans, rows, jobs, trunk, store=None):
        """A streamed stage (SIDE_stream) over the chunks `spans` of `rows`
        rows: jobs [ChunkJob] each writing a final file, trunk the ChunkJob of
        the trunk's pass (into the kept `store`, the training side's sets,
        and the chunk's folder). streaming.plan_chunks makes the plan of the
        chunks not done yet, run_plan runs it in one process. With --shard
        this process runs only its shard's chunks (shard()), and with
        --shards the stage takes the shards' rows (merge_shards())."""
        from fvvae.run import streaming
        name = side + "_stream"
        key = self.stages.key(params, deps)
        outputs = ([store] if store else []) + [j.out for j in jobs]
        if self.s.shard and self.s.side == side:
            return self.shard(side, key, spans, rows, jobs, trunk, store)

        def make():
            folder = self.path("stream")
            streaming.prepare(self.stages, name, key, outputs, folder)
            if self.s.shards:
                return self.merge_shards(side, key, jobs, store, spans[-1][1] if spans else 0)
            plan = streaming.plan_chunks(side, spans, rows, jobs, trunk, folder, store)
            return streaming.seconds_by_job(jobs, self.run_plan(plan, side, folder)
                                            if plan else {})
        return self.stages.run(name, params, outputs, make, deps=deps)

    def shard_folder(self, side, i, n):
        return self.path("shards", "%s-%d-of-%d" % (side, i, n))

    def shard(self, side, key, spans, rows, jobs, trunk, store):
        """Shard i of n of a streamed stage (--shard i/n --side SIDE): the
        i-th of n contiguous blocks of its chunks, into
        OUT/shards/SIDE-i-of-n/ (the same relative paths as the final files,
        holding the block's rows), marked done with the stage's key. The
        earlier stages must be finished (they are checked, never run: the
        shards of a cluster run start together). A killed shard resumes."""
        from fvvae.run import streaming
        from fvvae.run.shards import block
        i, n = self.s.shard
        folder = self.shard_folder(side, i, n)
        marker, done = os.path.join(folder, "key"), os.path.join(folder, "done.json")
        if os.path.exists(marker) and open(marker).read() != key:
            log.info("%s: written with other settings: started over", folder)
            shutil.rmtree(folder)
        os.makedirs(folder, exist_ok=True)
        with atomic(marker) as f:
            f.write(key)
        record = json.load(open(done)) if os.path.exists(done) else {}
        if record.get("key") == key:
            log.info("%s side, shard %d of %d: already done", side, i, n)
            return record["seconds"]
        b0, b1 = block(len(spans), i, n)
        first = spans[b0][2] if b0 < len(spans) else rows
        last = spans[b1][2] if b1 < len(spans) else rows
        mine = [(a, b, r - first) for a, b, r in spans[b0:b1]]
        local = self.in_shard(folder)
        kept = local(store) if store else None
        for path in [kept or folder] + [local(j.out) for j in jobs]:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        log.info("%s side, shard %d of %d: chunks %d..%d of %d (rows %d..%d) into %s",
                 side, i, n, b0, b1 - 1, len(spans), first, last - 1, folder)
        work = os.path.join(folder, "stream")
        plan = streaming.plan_chunks(side, mine, last - first, jobs, trunk, work, kept,
                                     {j.label: local(j.out) for j in jobs})
        seconds = streaming.seconds_by_job(
            jobs, self.run_plan(plan, "%s %d/%d" % (side, i, n), work) if plan else {})
        with atomic(done) as f:
            json.dump({"key": key, "seconds": seconds, "chunks": len(mine)}, f)
        return seconds

    def in_shard(self, folder):
        """A final file's path inside a shard's folder."""
        return lambda path: os.path.join(folder, os.path.relpath(path, self.out))

    def merge_shards(self, side, key, jobs, store, items):
        """A streamed stage from its n shards (--shards n): each must be done
        with this stage's key; the kept store's parts are merged one at a
        time, each deleted once copied, then every file's parts are
        concatenated in shard order, and the shards' folders go."""
        from fvvae.run import shards
        n = self.s.shards
        folders = [self.shard_folder(side, i, n) for i in range(n)]
        records = []
        for f in folders:
            path = os.path.join(f, "done.json")
            rec = json.load(open(path)) if os.path.exists(path) else {}
            records.append(rec if rec.get("key") == key else None)
        missing = [i for i, r in enumerate(records) if r is None]
        if missing:
            raise ProtocolError(
                "%s side: shard%s %s of %d not done with these settings (each runs "
                "tools/run_protocol.py with the same options and --shard I/%d --side %s)"
                % (side, "s" if len(missing) > 1 else "", ", ".join(map(str, missing)), n, n,
                   side))
        try:
            for path in ([store] if store else []) + [j.out for j in jobs]:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            if store:
                shards.merge_stores(store, n, items, consume=True, parts=[
                    self.in_shard(f)(store) for f, r in zip(folders, records) if r["chunks"]])
            for j in jobs:
                shards.merge_features(j.out, n, [self.in_shard(f)(j.out) for f, r in
                                                 zip(folders, records) if r["chunks"]])
        except (OSError, ValueError) as e:
            raise ProtocolError("merging the %s side's shards: %s" % (side, e)) from None
        for f in folders:
            shutil.rmtree(f)
        seconds = {}
        for r in records:
            for label, sec in r["seconds"].items():
                seconds[label] = seconds.get(label, 0.0) + sec
        log.info("%s side: %d shards merged", side, n)
        return seconds
