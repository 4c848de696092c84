"""Streaming per video within a disk budget: the protocol's descriptor stores
are made and used a chunk of whole videos (or images) at a time.

Only FV-VAE's training needs the per-frame descriptor sets of the training
list more than once (caffe train reads them for every epoch; the FIM, the
training FVs and the GMM / k-means sample read them after it): that store is
kept, shuffled, as before. Everything else is only needed per video, and
every representation of a video is a mean over its frames and crops (eq. 13
for FV-VAE, the same for the baselines), so:

- training side: for each chunk of the training list, the trunk writes the
  chunk's sets into the kept store and its maps and global activations into a
  chunk store; GA, Concatenation and AVE write the chunk's training rows; the
  chunk store is deleted;
- test side (after the codebooks and FV-VAE nets are trained): for each chunk
  of the test list, the trunk writes the chunk's sets, maps and global
  activations, every method writes the chunk's test rows, the chunk's stores
  are deleted.

Rows go straight into the final representation files at the chunk's row
offset (tools' --row-offset / --rows-total), so nothing is merged and no
copy is made. A killed run resumes: a chunk is finished when every file it
writes holds its rows (the files' `done` count), and a chunk half done
continues where its tools stopped (they resume themselves). A stage whose
settings changed starts over; an output damaged after a finished run is
redone alone.

Peak disk: the kept training sets + the representation files + one chunk's
stores (bench/scale.py measures it).
"""
import logging
import os
import shutil
from dataclasses import dataclass

from fvvae.files import atomic

log = logging.getLogger("fvvae.run.streaming")


def chunks(items, size, grouped=True):
    """Contiguous item ranges of `size` whole groups (videos) each:
    ([(start, end, first row)], rows). Without groups every item is a row.
    A list whose group's lines are not contiguous cannot be streamed."""
    if size < 1:
        raise ValueError("chunk size must be >= 1, not %d" % size)
    out, start, row, in_chunk, prev, seen = [], 0, 0, 0, None, set()
    for i, item in enumerate(items):
        g = item.group if grouped else str(i)
        if g == prev:
            continue
        if g in seen:
            raise ValueError("group %r's lines are not contiguous in the list (line %d): "
                             "sort the list by video to stream it" % (g, i + 1))
        seen.add(g)
        prev = g
        if in_chunk == size:
            out.append((start, i, row))
            row, start, in_chunk = row + in_chunk, i, 0
        in_chunk += 1
    if items:
        out.append((start, len(items), row))
    return out, len(seen)


def rows_done(path):
    """How many rows of a representation file are written (0 if none)."""
    import h5py
    if not os.path.exists(path):
        return 0
    try:
        with h5py.File(path, "r") as f:
            return int(f.attrs.get("done", 0))
    except OSError:
        return 0


def holds(store):
    """f(start, end): whether the descriptor store holds items start..end-1
    (its items are read once, when first asked: chunks only add to them)."""
    done = []

    def check(start, end):
        if not done:
            from fvvae.data.descriptor_store import DescriptorStore
            have = set()
            if os.path.isdir(store):
                s = DescriptorStore(store, readonly=True)
                have = s.done_indices()
                s.close()
            done.append(have)
        return set(range(start, end)) <= done[0]
    return check


def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)
    for extra in (path.rstrip("/") + ".log", path.rstrip("/") + ".prototxt"):
        if os.path.exists(extra):
            os.remove(extra)


def prepare(stages, name, key, outputs, marker_dir):
    """Before a streamed stage runs: keep what a killed run with the same key
    wrote; redo only the outputs damaged after a finished run with this key;
    start over when the key changed."""
    os.makedirs(marker_dir, exist_ok=True)
    marker = os.path.join(marker_dir, name + ".key")
    stamp = stages.stamp(name)
    if stamp and stamp.get("key") == key:
        for o in outputs:
            if os.path.exists(o) and not stages.unchanged(stamp, o):
                log.info("%s: %s differs from what the finished run wrote: redone", name, o)
                remove(o)
    elif not (os.path.exists(marker) and open(marker).read() == key):
        for o in outputs:
            remove(o)
    with atomic(marker) as f:
        f.write(key)


@dataclass(frozen=True)
class ChunkJob:
    """One tool call a chunk makes: TOOL with ARGS, writing rows into OUT
    ('' for the trunk's pass). An argument may be a slot, filled per chunk
    (fill): WORK(name) a store in the chunk's folder, ROW its first row, ROWS
    the rows of the file, OUT the file (a shard's part of it), ITEMS the
    chunk's items as START:END, STORE the kept store (the training sets)."""
    label: str
    out: str
    tool: str
    args: tuple

    def fill(self, work, start, end, row, rows, out=None, store=None):
        """(tool, argv) of this job for one chunk."""
        values = {ROW: row, ROWS: rows, OUT: out or self.out, ITEMS: "%d:%d" % (start, end),
                  STORE: store}
        argv = []
        for a in self.args:
            if isinstance(a, tuple) and a and a[0] == "work":
                argv.append(os.path.join(work, a[1]))
            else:
                argv.append(values[a] if isinstance(a, Slot) else a)
        return self.tool, [str(a) for a in argv]


class Slot(str):
    """A placeholder of a ChunkJob's argv."""


ROW, ROWS, OUT, ITEMS, STORE = (Slot(n) for n in ("{row}", "{rows}", "{out}", "{items}",
                                                  "{store}"))


def WORK(name):
    """A store `name` in the chunk's folder."""
    return ("work", name)


def plan_chunks(name, spans, rows, jobs, trunk, folder, store=None, outputs=None):
    """The plan of a streamed side: [(chunk folder, [(label, (tool, argv))])]
    for the chunks (start, end, first row) not done yet. A chunk is done when
    every job's file holds its rows (and the kept `store`, if any, its
    items); else it gets the trunk's pass (the ChunkJob `trunk`) and the jobs
    whose file lacks its rows. A done chunk's leftover folder is removed.
    outputs: {job label: the file it writes here} (a shard's parts; default
    each job's own). rows: the files' rows in all."""
    outputs = outputs or {}
    extracted = holds(store) if store else None
    plan = []
    for c, (start, end, row) in enumerate(spans):
        last = spans[c + 1][2] if c + 1 < len(spans) else rows
        work = os.path.join(folder, "%s-%d" % (name, c))
        pending = [j for j in jobs if rows_done(outputs.get(j.label, j.out)) < last]
        if pending or not (extracted is None or extracted(start, end)):
            plan.append((work, [("trunk", trunk.fill(work, start, end, row, rows, store=store))]
                         + [(j.label, j.fill(work, start, end, row, rows,
                                             outputs.get(j.label, j.out))) for j in pending]))
        else:
            remove(work)            # a killed run's leftovers of a chunk since finished
    return plan


def seconds_by_job(jobs, measured):
    """{job label: seconds} of a plan's run (the trunk's left out)."""
    return {j.label: measured.get(j.label, 0.0) for j in jobs}
