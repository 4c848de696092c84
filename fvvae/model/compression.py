"""Compressing a learned FV (the paper's section 5.4, Figure 4c): PCA and
Random Maclaurin features of the normalised FV, against FV-VAE with a smaller
latent (fewer decoder parameters, so a shorter FV by construction).

Both compressors work on the classifier's rows, the signed square root and
L2 of each FV (section 5.2), fitted on training rows only:

* PCA: the top d principal directions of the centred training rows, through
  the N x N Gram matrix (N << D); at most N - 1 directions exist, so for
  d >= N - 1 PCA keeps every direction the training rows span.
* Random Maclaurin (Kar & Karnick 2012) for the linear kernel k(x, y) = x.y:
  its Maclaurin series has the single coefficient a_1 = 1, so every feature
  is one Rademacher projection, z_i(x) = w_i.x / sqrt(d), w_i in {-1, +1}^D,
  and E[z(x).z(y)] = x.y. The projection is drawn block by block from a
  seeded generator, so D x d is never held.
"""
import os

import numpy as np

from fvvae.data.representations import l2_rows, normalize_rows


def pca_fit(train_rows, d):
    """(mean, components d' x D) of the top d' = min(d, N - 1) directions."""
    x = np.asarray(train_rows, np.float64)
    mean = x.mean(axis=0)
    xc = x - mean
    gram = xc @ xc.T
    vals, vecs = np.linalg.eigh(gram)
    order = np.argsort(vals)[::-1][:min(d, len(x) - 1)]
    vals, vecs = vals[order], vecs[:, order]
    keep = vals > vals[0] * 1e-12
    comps = (xc.T @ (vecs[:, keep] / np.sqrt(vals[keep]))).T
    return mean, comps


def pca_apply(rows, mean, comps):
    return (np.asarray(rows, np.float64) - mean) @ comps.T


def random_maclaurin(rows, d, seed=0, block=4096):
    """Random Maclaurin features (linear kernel) of rows: N x d."""
    x = np.asarray(rows, np.float64)
    rng = np.random.default_rng(seed)
    out = np.zeros((len(x), d))
    for start in range(0, x.shape[1], block):
        w = rng.integers(0, 2, size=(min(block, x.shape[1] - start), d)) * 2.0 - 1.0
        out += x[:, start:start + block] @ w
    return out / np.sqrt(d)


def compress_files(train_h5, test_h5, method, d, out_train, out_test, seed=0):
    """Writes the compressed representation files (attribute power_normalized
    set: the classifier only L2-normalises them). Returns the dimension."""
    import h5py
    rows = {}
    for split, path in (("train", train_h5), ("test", test_h5)):
        with h5py.File(path, "r") as f:   # compact files: signed sqrt applied already
            norm = l2_rows if f.attrs.get("power_normalized", False) else normalize_rows
            rows[split] = (norm(f["features"][:]), f["labels"][:],
                           list(f["ids"].asstr()[:]))
    if method == "pca":
        mean, comps = pca_fit(rows["train"][0], d)
        z = {s: pca_apply(rows[s][0], mean, comps) for s in rows}
    elif method == "rm":
        z = {s: random_maclaurin(rows[s][0], d, seed) for s in rows}
    else:
        raise ValueError("compression must be pca or rm, not %r" % method)
    for split, path in (("train", out_train), ("test", out_test)):
        _, labels, ids = rows[split]
        with h5py.File(path + ".tmp", "w") as f:
            f.create_dataset("features", data=z[split].astype(np.float32))
            f.create_dataset("labels", data=labels)
            f.create_dataset("ids", data=np.array(ids, dtype=object), dtype=h5py.string_dtype())
            f.attrs["done"] = len(labels)
            f.attrs["power_normalized"] = True
        os.replace(path + ".tmp", path)
    return z["train"].shape[1]
