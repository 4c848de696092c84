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


def create(path, rows, dim, with_normalized=False):
    """Opens (or reopens, to resume) a representation file for writing."""
    f = h5py.File(path, "a")
    if "features" not in f:
        f.create_dataset("features", (rows, dim), "f4", chunks=(1, dim))
        f.create_dataset("labels", (rows,), "i8")
        f.create_dataset("ids", (rows,), h5py.string_dtype())
        if with_normalized:
            f.create_dataset("features_normalized", (rows, dim), "f4", chunks=(1, dim))
        f.attrs["done"] = 0
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
