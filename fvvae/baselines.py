"""The representations FV-VAE is compared with (paper Table 1, Table 2), over
the same cached descriptor sets and activation maps:

| method | from | dimension | what |
| --- | --- | --- | --- |
| ga | the trunk's global activation | 4096 (VGG_19 fc7), C (global average) | section 5.1 |
| concat | the activation map | C x H x W (25,088 for pool5) | flattened map |
| ave | the activation map | C | the mean of the H x W positions |
| fv | descriptor sets | 2 x K x C (K = 128) | VLFeat GMM (diagonal) + vl_fisher, means and variances |
| vlad | descriptor sets | K x C (K = 256) | VLFeat k-means + vl_vlad |
| bp | descriptor sets | C^2 | bilinear pooling: sum over descriptors of x x^T |

FV is the plain vl_fisher output; the classifier stage applies the signed
square root and L2 normalisation once (fvvae/evaluation/svm.py), which is exactly
VLFeat's "improved" FV (tests/test_encodings.py checks it). VLAD is vl_vlad's
unnormalised output, normalised the same way. GMMs and codebooks are fitted on
a seeded sample of training descriptors only (VLFeat's own random generator
seeded too) and saved, so test-time encoding reuses them.
"""
import ctypes
import os

import numpy as np

from fvvae.methods import BY_KEY

# the codebook sizes of the paper (fvvae.methods): FV 128 Gaussians, VLAD 256 centres
DEFAULT_SIZE = {m.key: m.default_size for m in BY_KEY.values() if m.default_size}


def seed_vlfeat(seed):
    """Seeds VLFeat's global random generator (k-means++ and GMM start)."""
    vl = ctypes.CDLL("libvl.so.1")
    vl.vl_get_rand.restype = ctypes.c_void_p
    vl.vl_rand_seed.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
    vl.vl_rand_seed(vl.vl_get_rand(), int(seed))


def descriptors_of(x, what="descriptor set"):
    """A stored set C x 1 x T as T x C float32, checked for NaN/Inf."""
    d = np.ascontiguousarray(np.asarray(x, np.float32).reshape(x.shape[0], -1).T)
    if not np.isfinite(d).all():
        raise ValueError("%s holds NaN or Inf values" % what)
    return d


def fit_pca(sample, dims):
    """PCA of training descriptors (n x C) to `dims`: (mean, components dims x C)."""
    mean = sample.mean(axis=0, dtype=np.float64)
    _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
    return mean.astype(np.float32), np.ascontiguousarray(vt[:dims]).astype(np.float32)


def project(x, codebook):
    """A stored set C x 1 x T through the codebook's PCA, if it has one."""
    if codebook is None or "pca_components" not in codebook:
        return x
    d = descriptors_of(x) - codebook["pca_mean"]
    return as_stored_set(d @ codebook["pca_components"].T)


def as_stored_set(d):
    """T x C descriptors -> a stored set C x 1 x T."""
    return np.ascontiguousarray(np.asarray(d, np.float32).T[:, None, :])


def fit_codebook(method, sample, size, seed):
    """sample: (n x C) training descriptors. Returns a dict saved with np.savez."""
    seed_vlfeat(seed)
    if method == "bp":
        return {"method": "bp", "seed": seed}
    if method == "fv":
        from cyvlfeat.gmm import gmm
        means, covars, priors, _, _ = gmm(sample, n_clusters=size, init_mode="kmeans",
                                          max_num_iterations=100)
        return {"method": "fv", "means": means, "covars": covars, "priors": priors,
                "seed": seed}
    if method == "vlad":
        from cyvlfeat.kmeans import kmeans
        centers = kmeans(sample, size, initialization="PLUSPLUS", max_num_iterations=100)
        return {"method": "vlad", "centers": centers, "seed": seed}
    raise ValueError("%s needs no codebook" % method)


def encode(method, x, codebook=None):
    """One frame or image: x is a stored item (set C x 1 x T, map C x H x W, or
    global vector). Returns a float32 vector."""
    if method in ("fv", "vlad", "bp"):
        x = project(x, codebook)
    if method == "ga":
        v = np.asarray(x, np.float32).ravel()
    elif method == "concat":
        v = np.asarray(x, np.float32).ravel()
    elif method == "ave":
        v = np.asarray(x, np.float32).reshape(x.shape[0], -1).mean(axis=1)
    elif method == "bp":
        d = descriptors_of(x).astype(np.float64)
        v = (d.T @ d).ravel()
    elif method == "fv":
        from cyvlfeat.fisher import fisher
        v = fisher(descriptors_of(x), codebook["means"], codebook["covars"],
                   codebook["priors"], improved=False)
    elif method == "vlad":
        from cyvlfeat.kmeans import kmeans_quantize
        from cyvlfeat.vlad import vlad
        d = descriptors_of(x)
        centers = codebook["centers"]
        assign = np.zeros((d.shape[0], centers.shape[0]), np.float32)
        assign[np.arange(d.shape[0]), kmeans_quantize(d, centers)] = 1
        v = vlad(d, centers, assign, unnormalized=True)
    else:
        raise ValueError("unknown method %r (one of %s)" % (method, ", ".join(BY_KEY)))
    v = np.asarray(v, np.float32).ravel()
    if not np.isfinite(v).all():
        raise ValueError("%s produced NaN or Inf" % method)
    return v


def sample_descriptors(store, count, seed):
    """Up to `count` training descriptors (rows x C), drawn with a seeded RNG
    spread over all stored sets."""
    rng = np.random.default_rng(seed)
    indices = sorted(store.done_indices())
    per_set = max(1, -(-count // len(indices)))
    rows = []
    for i in rng.permutation(indices):
        d = descriptors_of(store.read(int(i))[0], "%s item %d" % (store.path, i))
        take = rng.choice(d.shape[0], min(per_set, d.shape[0]), replace=False)
        rows.append(d[take])
        if sum(r.shape[0] for r in rows) >= count:
            break
    return np.ascontiguousarray(np.concatenate(rows)[:count])


def codebook_for(method, out, size, pca, seed, sample, source, store, fit=True):
    """The codebook of `method` (FV's GMM, VLAD's centres, BP's PCA) in
    OUT/METHOD_codebook.npz: reused when fitted with these settings (size,
    PCA, seed, sample, the training store's path), else fitted on `sample`
    descriptors of the training `store` (fit=False: the test side, which
    must find the training side's codebook and never fits one). ValueError
    names the file when it is missing or was fitted otherwise."""
    import logging
    log = logging.getLogger("encode")
    path = os.path.join(out, "%s_codebook.npz" % method)
    if not fit:         # the codebook the training rows were encoded with
        if not os.path.exists(path):
            raise ValueError("%s: no codebook; run --only train first (it fits one on the "
                             "training descriptors)" % path)
        codebook = dict(np.load(path, allow_pickle=False))
        if int(codebook["size"]) != size or int(codebook["pca"]) != pca:
            raise ValueError("%s was fitted with size %s, pca %s; this run asks for size %d, "
                             "pca %d" % (path, codebook["size"], codebook["pca"], size, pca))
        return codebook
    meta = {"size": size, "seed": seed, "sample": sample, "pca": pca,
            "source": os.path.abspath(source or "")}
    if os.path.exists(path):
        saved = dict(np.load(path, allow_pickle=False))
        if all(str(saved.get(k)) == str(v) for k, v in meta.items()):
            log.info("reusing %s", path)
            return saved
    descriptors = sample_descriptors(store, sample, seed)
    log.info("fitting %s (%d) on %d training descriptors", method, size, len(descriptors))
    extra = {}
    if pca:
        mean, components = fit_pca(descriptors, pca)
        descriptors = (descriptors - mean) @ components.T
        extra = {"pca_mean": mean, "pca_components": components}
    codebook = fit_codebook(method, np.ascontiguousarray(descriptors, np.float32), size, seed)
    codebook.update(meta)
    codebook.update(extra)
    np.savez(path + ".tmp.npz", **codebook)
    os.replace(path + ".tmp.npz", path)
    return codebook


# ---- a method over stores, into representation files (tools/encode.py) ------
STORE_WHAT = {"sets": "descriptor sets", "global": "global activations", "maps": "maps"}


def open_stores(method, paths, root=""):
    """{split: (DescriptorStore, groups)} of the stores a method reads;
    paths {split: (LMDB folder, image list or None)}: with a list, one group
    a video (its frames' and crops' rows are averaged). Checks, before any
    work, that each store exists, holds items, that train and test items
    have one shape, and that it is the kind the method reads; raises
    OSError / ValueError naming the store."""
    from fvvae.data.descriptor_store import DescriptorStore
    from fvvae.data.image_list import groups_of, read_list
    stores, opened = {}, {}
    for split, (path, lst) in paths.items():
        if not os.path.isdir(path):
            raise FileNotFoundError("%s (--%s): no such LMDB folder" % (path, split))
        key = os.path.realpath(path)       # one handle per LMDB (it allows no second)
        store = opened.get(key) or DescriptorStore(path, readonly=True)
        opened[key] = store
        items = read_list(lst, root, check_files=False) if lst else None
        stores[split] = (store, groups_of(sorted(store.done_indices()), items))
        if not stores[split][1]:
            raise ValueError("%s (--%s) is empty" % (path, split))
    shapes = {s: first_item(*stores[s]).shape for s in stores}
    if len(shapes) == 2 and shapes["train"] != shapes["test"]:
        raise ValueError("train items are %s, test items %s: not the same trunk / mode"
                         % (shapes["train"], shapes["test"]))
    kind = BY_KEY[method].store
    split = next(iter(paths))
    t = int(np.prod(shapes[split][1:]))
    if kind == "sets" and t < 2 or kind == "global" and t != 1:
        raise ValueError("%s reads %s, but the items of %s are %s" % (
            method, STORE_WHAT[kind], paths[split][0], shapes[split]))
    return stores


def first_item(store, groups):
    return store.read(next(iter(groups.values()))[0])[0]


def encode_rows(method, store, groups, codebook, path, offset=0, rows_total=None,
                compact=False, desc=""):
    """Writes one row a group into the representation file `path` (rows from
    `offset` of `rows_total`): the mean of the method's encodings of the
    group's items, summed as they come (BP at C = 2048 is 16 MB a frame, 250
    crops a video). Resumes after the rows already written; returns the
    rows' dimension. An item the method cannot encode raises ValueError
    naming the store and the item."""
    from tqdm import tqdm
    from fvvae.data import representations
    dim = encode(method, first_item(store, groups), codebook).size
    h5 = representations.create(path, rows_total or offset + len(groups), dim,
                                compact=compact, symmetric=method == "bp")
    skip = representations.rows_to_skip(h5, path, offset, len(groups))
    with h5:
        for row, (key, indices) in enumerate(
                tqdm(list(groups.items())[skip:], initial=skip, total=len(groups), desc=desc),
                start=offset + skip):
            total, label = np.zeros(dim, np.float64), None
            for i in indices:
                x, label = store.read(i)
                try:
                    total += encode(method, x, codebook)
                except ValueError as e:
                    raise ValueError("%s item %d: %s" % (store.path, i, e)) from None
            representations.write_row(h5, row, key, label,
                                      (total / len(indices)).astype(np.float32))
    return dim
