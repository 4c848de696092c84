"""Representation files: HDF5 with `features` (rows x dims, float32, as the
method gives them), `labels`, `ids`, and optionally `features_normalized`.
One file per split; extract_fv (FV-VAE) and encode (baselines) write them,
evaluate reads them. A file whose attribute `power_normalized` is set holds
rows that had their signed square root already (compressed FVs,
fvvae.model.compression, and compact files): the classifier then only
L2-normalises them.

Compact files (attribute `compact`, tools' --compact) hold each row as the
classifier reads it, in half the bytes: signed square root and L2 applied
when the row is written, float16; a bilinear (BP) row, the symmetric C x C
matrix sum x x^T, keeps its upper triangle with the off-diagonal entries
times sqrt(2), so dot products and norms, and the linear SVM on them, are
those of the full C^2 vector (fold_symmetric). The attribute `dimension`
keeps the method's own dimension (C^2 for BP) for the tables.
"""
import h5py
import numpy as np


# The classifier stage's normalisation (section 5.2): signed square root, then
# L2 per row. A compact file stores its rows so; FeatureFile applies it on reading.
FLOOR = 1e-10


def normalize_rows(x):
    """Signed square root, then L2 per row (float64; one copy of x, the rest in
    place, so that a block of wide rows costs little more than itself)."""
    x = np.array(x, np.float64)
    negative = x < 0
    np.abs(x, out=x)
    np.sqrt(x, out=x)
    np.negative(x, out=x, where=negative)
    del negative
    return l2_rows(x, copy=False)


def l2_rows(x, copy=True):
    """Each row divided by its L2 norm (rows of zeros stay zero)."""
    x = np.array(x, np.float64) if copy else np.asarray(x, np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
    x /= np.maximum(norms, FLOOR)
    return x


def check_features(x, what):
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError("%s: expected a non-empty (rows x dims) matrix, got shape %s"
                         % (what, x.shape))
    bad = ~np.isfinite(x)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise ValueError("%s: %d rows hold NaN or Inf (first: row %d)" % (what, rows.size, rows[0]))
    return x


COMPACT_DTYPE = np.float16


def fold_symmetric(v):
    """A flattened symmetric C x C matrix -> its upper triangle (C(C+1)/2
    values, row by row) with the off-diagonal entries times sqrt(2): the
    same dot product with any other folded matrix as the full vectors."""
    v = np.asarray(v)
    c = int(round(np.sqrt(v.shape[-1])))
    if c * c != v.shape[-1]:
        raise ValueError("fold_symmetric: %d values are not a square matrix" % v.shape[-1])
    iu = np.triu_indices(c)
    m = v.reshape(v.shape[:-1] + (c, c))[..., iu[0], iu[1]].astype(np.float64)
    m[..., iu[0] != iu[1]] *= np.sqrt(2.0)
    return m


def compact_row(vector, symmetric=False):
    """Eq. 13's per-video FV (or a baseline's row) as a compact file stores it:
    signed sqrt + L2 (what the classifier applies), BP folded, float16."""
    x = normalize_rows(np.asarray(vector, np.float64)[None])   # power + L2 on the full row
    if symmetric:
        x = fold_symmetric(x)
    return x[0].astype(COMPACT_DTYPE)


class FeatureFile:
    """Rows of a representation file, normalised on the fly (signed sqrt + L2),
    in blocks: a row source for fvvae.evaluation.svm.linear_kernel."""

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
            self.dimension = int(f.attrs.get("dimension", self.dim))   # BP folded: C^2
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


def _allocated(f, name, rows, dim, h5type=h5py.h5t.IEEE_F32LE):
    """A rows x dim float32 (or float16) dataset whose chunks are all on disk at once
    (HDF5's early allocation): a full disk shows when the file is made,
    before anything is computed, and never halfway through, where a failed
    chunk allocation can leave an HDF5 file unreadable."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((1, dim))
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    space = h5py.h5s.create_simple((rows, dim))
    h5py.h5d.create(f.id, name.encode(), h5type, space, dcpl=dcpl).close()


def stored_dim(dim, compact=False, symmetric=False):
    """The columns a file holds for rows of `dim` values."""
    if compact and symmetric:
        c = int(round(np.sqrt(dim)))
        return c * (c + 1) // 2
    return dim


def create(path, rows, dim, with_normalized=False, compact=False, symmetric=False):
    """Opens (or reopens, to resume) a representation file for writing. A
    new file gets all its space at once; a disk too small for it raises
    OSError(ENOSPC) naming the path and the bytes needed, and leaves no file.
    compact: rows stored the compact way (see the module's doc); symmetric:
    the rows are flattened symmetric matrices (BP), folded when compact."""
    import errno
    import os
    if compact and with_normalized:
        raise ValueError("%s: a compact file holds its rows normalised already" % path)
    new = not os.path.exists(path)
    f = h5py.File(path, "a")
    cols = stored_dim(dim, compact, symmetric)
    if "features" not in f:
        try:
            _allocated(f, "features", rows, cols,
                       h5py.h5t.IEEE_F16LE if compact else h5py.h5t.IEEE_F32LE)
            f.create_dataset("labels", (rows,), "i8")
            f.create_dataset("ids", (rows,), h5py.string_dtype())
            if with_normalized:
                _allocated(f, "features_normalized", rows, dim)
            f.attrs["done"] = 0
            f.attrs["dimension"] = dim
            if compact:
                f.attrs["compact"] = True
                f.attrs["power_normalized"] = True
                f.attrs["symmetric"] = bool(symmetric)
            f.flush()
        except Exception as e:
            from fvvae.data import diskspace
            f.close()
            need = rows * cols * (2 if compact else 4) * (2 if with_normalized else 1)
            if not (diskspace.is_disk_full(e) or diskspace.free_bytes(path) < need):
                raise
            if new and os.path.exists(path):
                os.remove(path)
            raise OSError(errno.ENOSPC, "%s: disk full making the %d x %d representation "
                          "file: it needs %s, %s is free there" % (
                              path, rows, dim, diskspace.human(need),
                              diskspace.human(diskspace.free_bytes(path)))) from None
    elif (f["features"].shape != (rows, cols)
          or bool(f.attrs.get("compact", False)) != bool(compact)):
        shape, was = f["features"].shape, bool(f.attrs.get("compact", False))
        f.close()
        raise ValueError("%s holds %s features%s, this run makes %s%s; remove it or pick "
                         "another output" % (path, shape, " (compact)" if was else "",
                                             (rows, cols), " (compact)" if compact else ""))
    return f


def rows_to_skip(f, path, offset, rows):
    """How many of the rows offset..offset+rows-1 an open file has already
    (rows are written in order: `done` counts the file's first rows). A
    streamed run writes a file chunk by chunk; a chunk whose earlier rows
    are missing is refused, naming the file (and f is closed)."""
    done = int(f.attrs["done"])
    if done < offset:
        f.close()
        raise ValueError("%s: rows %d..%d come next, but only its first %d rows are written: "
                         "the chunks before must be finished first" % (
                             path, offset, offset + rows - 1, done))
    return min(rows, done - offset)


def write_row(f, row, key, label, vector):
    """Row `row` of an open representation file; a compact file stores the
    row normalised, folded (BP) and in float16 (compact_row)."""
    if f.attrs.get("compact", False):
        vector = compact_row(vector, bool(f.attrs.get("symmetric", False)))
    f["features"][row] = vector
    f["labels"][row] = label
    f["ids"][row] = key
    if "features_normalized" in f:
        f["features_normalized"][row] = normalize_rows(vector[None])[0]
    f.attrs["done"] = row + 1   # after the row: a crash re-does at most one
    f.flush()
