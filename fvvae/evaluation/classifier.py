"""A method's trained one-vs-all SVMs as a file a user takes away
(eval/NAME_svm.npz, written by tools/evaluate.py) and the scoring of new
representation rows with it (tools/predict.py).

Both SVM paths of fvvae.evaluation.classify end as one linear function of a
normalised row x (signed square root + L2, or only L2 for rows stored
normalised, fvvae.data.representations): score_c(x) = W_c . x + b_c.
* linear path: liblinear's weights on the rows themselves;
* kernel path: liblinear's weights v on the kernel map z = K(x, X) P (P
  from the training kernel's eigenvectors), so W = v P^T X: the map
  folded back onto the training rows X, one pass over them.

File: `W` (classes x stored columns, float32), `b` (classes), `classes`,
`names` (class names, or empty), `dimension` (the method's), `stored_dim`,
`compact` and `symmetric` (how the rows it reads are stored: a compact BP row
is the folded upper triangle), `method`.
"""
import os

import numpy as np


def primal_from_kernel_map(model, train_rows, block=256):
    """(W, b) of a fitted fvvae.evaluation.svm.KernelMapOneVsAll: W = v P^T X, with X
    the normalised training rows (an array, or a FeatureFile read in
    blocks)."""
    v = model.linear.w[:, :-1]                  # classes x kept directions
    coef = v @ model.proj.T                     # classes x training rows
    from fvvae.evaluation.svm import row_blocks
    array = isinstance(train_rows, np.ndarray)
    n, dim = train_rows.shape if array else (train_rows.rows, train_rows.dim)
    w = np.zeros((coef.shape[0], dim))
    for s in row_blocks(n, block):     # a block at a time: no float64 copy of all rows
        w += coef[:, s] @ np.asarray(train_rows[s] if array else train_rows(s), np.float64)
    return w, model.linear.w[:, -1].copy()


def save(path, w, b, info, method, names=None, train_path=None):
    """Writes the SVMs atomically."""
    attrs = {"compact": False, "symmetric": False}
    if train_path:
        import h5py
        with h5py.File(train_path, "r") as f:
            attrs = {k: bool(f.attrs.get(k, False)) for k in ("compact", "symmetric")}
    tmp = path + ".tmp.npz"
    np.savez(tmp, W=np.asarray(w, np.float32), b=np.asarray(b, np.float64),
             classes=int(info["classes"]), names=np.asarray(names or [], dtype=str),
             dimension=int(info["dim"]), stored_dim=int(info["stored_dim"]),
             compact=attrs["compact"], symmetric=attrs["symmetric"], method=str(method))
    os.replace(tmp, path)
    return path


class Classifier:
    """A saved method's SVMs: scores(rows) and predict(file)."""

    def __init__(self, path):
        if not os.path.isfile(path):
            raise FileNotFoundError("%s: no such file (a run's eval/NAME_svm.npz)" % path)
        try:
            with np.load(path, allow_pickle=False) as z:
                self.w, self.b = z["W"].astype(np.float64), z["b"]
                self.names = [str(n) for n in z["names"]]
                self.method = str(z["method"])
                self.stored_dim = int(z["stored_dim"])
                self.compact, self.symmetric = bool(z["compact"]), bool(z["symmetric"])
        except (OSError, ValueError, KeyError) as e:
            raise ValueError("%s: not a saved classifier (%s)" % (path, e)) from None
        self.path = path

    def scores(self, rows):
        """rows: normalised as the training rows were (FeatureFile does it)."""
        rows = np.asarray(rows, np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.w.shape[1]:
            raise ValueError("%s expects rows of %d columns, got %s" % (
                self.path, self.w.shape[1], rows.shape))
        return rows @ self.w.T + self.b

    def score_file(self, path):
        """(scores, ids, labels) of a representation file's rows; ValueError
        when it is stored otherwise than the training rows were."""
        import h5py
        from fvvae.data.representations import FeatureFile
        with h5py.File(path, "r") as f:
            compact = bool(f.attrs.get("compact", False))
        if compact != self.compact:
            raise ValueError("%s is %s, the classifier %s was trained on %s rows: make it as the "
                             "run made its files" % (path, "compact" if compact else "float32",
                                                     self.path,
                                                     "compact" if self.compact else "float32"))
        ff = FeatureFile(path)
        return self.scores(ff.all()), ff.ids, ff.labels

    def name(self, c):
        return self.names[c] if self.names else str(c)


def write_predictions(clf, features_path, out_csv, top=3):
    """Scores a representation file's rows with `clf` and writes each item's
    top classes (id, label, class_1, score_1, ...) to out_csv atomically;
    returns a one-line summary (top-1 on the items with labels >= 0)."""
    import csv
    scores, ids, labels = clf.score_file(features_path)
    best = np.argsort(-scores, axis=1)[:, :top]
    tmp = out_csv + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "label"] + [c for k in range(1, best.shape[1] + 1)
                                      for c in ("class_%d" % k, "score_%d" % k)])
        for i, row in enumerate(best):
            w.writerow([ids[i], int(labels[i])] + [v for c in row
                                                   for v in (clf.name(c), "%.6f" % scores[i, c])])
    os.replace(tmp, out_csv)
    known = labels >= 0
    msg = "%d items scored with %s (%s) into %s" % (len(ids), clf.method, clf.path, out_csv)
    if known.any():
        msg += "; top-1 %.2f%% on the %d with labels" % (
            100 * np.mean(best[known, 0] == labels[known]), known.sum())
    return msg
