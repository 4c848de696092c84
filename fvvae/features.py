"""Representation files: HDF5 with `features` (rows x dims, float32, as the
method gives them), `labels`, `ids`, and optionally `features_normalized`.
One file per split; extract_fv (FV-VAE) and encode (baselines) write them,
evaluate reads them. A file whose attribute `power_normalized` is set holds
rows that had their signed square root already (compressed FVs,
fvvae.compression): the classifier then only L2-normalises them."""
import h5py
import numpy as np

from fvvae.svm import check_features, l2_rows, normalize_rows


class FeatureFile:
    """Rows of a representation file, normalised on the fly (signed sqrt + L2),
    in blocks: a row source for fvvae.svm.linear_kernel."""

    def __init__(self, path):
        self.path = path
        with h5py.File(path, "r") as f:
            if "features" not in f:
                raise ValueError("%s: no dataset 'features'" % path)
            self.rows, self.dim = f["features"].shape
            self.labels = f["labels"][:].astype(np.int64)
            self.ids = list(f["ids"].asstr()[:])
            done = int(f.attrs.get("done", self.rows))
            self.power_normalized = bool(f.attrs.get("power_normalized", False))
        if done != self.rows:
            raise ValueError("%s: only %d of %d rows were written (an interrupted run? "
                             "re-run the tool that makes it)" % (path, done, self.rows))

    def __call__(self, rows):
        with h5py.File(self.path, "r") as f:
            x = check_features(f["features"][rows], "%s rows %s" % (self.path, rows))
        if self.power_normalized:
            return l2_rows(x)
        return normalize_rows(x)

    def all(self):
        return self(slice(0, self.rows))


def _allocated(f, name, rows, dim):
    """A rows x dim float32 dataset whose chunks are all on disk at once
    (HDF5's early allocation): a full disk shows when the file is made,
    before anything is computed, and never halfway through, where a failed
    chunk allocation can leave an HDF5 file unreadable."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((1, dim))
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    space = h5py.h5s.create_simple((rows, dim))
    h5py.h5d.create(f.id, name.encode(), h5py.h5t.IEEE_F32LE, space, dcpl=dcpl).close()


def create(path, rows, dim, with_normalized=False):
    """Opens (or reopens, to resume) a representation file for writing. A
    new file gets all its space at once; a disk too small for it raises
    OSError(ENOSPC) naming the path and the bytes needed, and leaves no file."""
    import errno
    import os
    new = not os.path.exists(path)
    f = h5py.File(path, "a")
    if "features" not in f:
        try:
            _allocated(f, "features", rows, dim)
            f.create_dataset("labels", (rows,), "i8")
            f.create_dataset("ids", (rows,), h5py.string_dtype())
            if with_normalized:
                _allocated(f, "features_normalized", rows, dim)
            f.attrs["done"] = 0
            f.flush()
        except Exception as e:
            from fvvae import diskspace
            f.close()
            need = rows * dim * 4 * (2 if with_normalized else 1)
            if not (diskspace.is_disk_full(e) or diskspace.free_bytes(path) < need):
                raise
            if new and os.path.exists(path):
                os.remove(path)
            raise OSError(errno.ENOSPC, "%s: disk full making the %d x %d representation "
                          "file: it needs %s, %s is free there" % (
                              path, rows, dim, diskspace.human(need),
                              diskspace.human(diskspace.free_bytes(path)))) from None
    elif f["features"].shape != (rows, dim):
        shape = f["features"].shape
        f.close()
        raise ValueError("%s holds %s features, this run makes %s; remove it or pick "
                         "another output" % (path, shape, (rows, dim)))
    return f


def write_row(f, row, key, label, vector):
    f["features"][row] = vector
    f["labels"][row] = label
    f["ids"][row] = key
    if "features_normalized" in f:
        f["features_normalized"][row] = normalize_rows(vector[None])[0]
    f.attrs["done"] = row + 1   # after the row: a crash re-does at most one
    f.flush()
