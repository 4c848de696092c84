"""One-vs-all linear SVMs with C = 100 (paper section 5.2), liblinear's own
solver, at UCF101's scale (9.5K training vectors of 131,584 dims) in a 24 GB
machine.

Every representation is first power- and L2-normalised: x <- sign(x) sqrt|x|,
x <- x / ||x||_2 (section 5.2).

The objective, for each class c (y_i = +1 for class c, -1 otherwise), is
liblinear's -s 3 -B 1 -c 100 (L2-regularised L1-loss SVM, solved in the dual;
the bias is a constant feature 1 and so regularised with w):
    min_{w,b} 1/2 (||w||^2 + b^2) + C sum_i max(0, 1 - y_i (w.x_i + b)).
Solver tolerance -e 0.01 (liblinear's default for it is 0.1; tighter so that
the two paths below reach the same optimum).

Two ways to give liblinear the data, with the same objective:
* ``linear``: the normalised rows themselves (N x D); liblinear's sparse nodes
  (an index and a double per value) need 16 N D bytes: 20 GB at UCF101 scale.
* ``kernel`` (default for large D): the empirical kernel map. The solution w
  lies in the span of the training rows, so the problem only depends on
  K = X X^T (N x N). With K = U S U^T, the rows of Z = U S^(1/2) have the same
  inner products as the rows of X, and liblinear on Z solves the same problem;
  a test row x maps to z = (X x) U S^(-1/2). Memory: K, U and Z (8 N^2 bytes
  each) and liblinear's nodes (16 N^2): about 3.6 GB at N = 9.5K, whatever D;
  X is streamed from disk in row blocks to build K. tests/test_svm.py shows
  the two paths take the same decisions.
"""
import functools

import numpy as np


C_SVM = 100.0
# What the solver is, for the keys of stages that keep its results
# (fvvae.run.protocol.evaluate_each): a change here classifies them again.
SOLVER = "liblinear -s 3 -B 1 -c %g -e 0.01, rand() seeded per problem" % C_SVM
def check_classes(train_labels, test_labels, classes):
    """Every class needs positives in the training split."""
    present = set(np.unique(train_labels).tolist())
    missing = sorted(set(range(classes)) - present)
    if missing:
        raise ValueError("classes %s have no training example: a one-vs-all SVM cannot be "
                         "trained for them (fix the split or the class count)" % missing)
    extra = sorted(set(np.unique(test_labels).tolist()) - set(range(classes)))
    if extra:
        raise ValueError("test labels %s are outside 0..%d" % (extra, classes - 1))


def row_blocks(rows, block):
    for start in range(0, rows, block):
        yield slice(start, min(rows, start + block))


def load_rows(src, block=256, dtype=np.float32):
    """All rows of a row source (a callable slice -> normalised rows) in one
    array of `dtype`, read block by block."""
    x = np.empty((src.rows, src.dim), dtype)
    for s in row_blocks(src.rows, block):
        x[s] = src(s)
    return x


def linear_kernel(a_rows, b_rows=None, block=1024, dtype=np.float64):
    """K = A B^T (float64) from two row sources: callables slice ->
    normalised rows (streamed from disk) or arrays; the products in `dtype`
    (float32: single-precision GEMM, twice the rate; the rows are unit
    vectors, so an entry's error is about 1e-7)."""
    def get(src, s):
        return np.asarray(src(s) if callable(src) else src[s], dtype)
    b_rows = a_rows if b_rows is None else b_rows
    n_a = a_rows.rows if callable(a_rows) else a_rows.shape[0]
    n_b = b_rows.rows if callable(b_rows) else b_rows.shape[0]
    k = np.empty((n_a, n_b))
    for sa in row_blocks(n_a, block):
        xa = get(a_rows, sa)
        for sb in row_blocks(n_b, block):
            if b_rows is a_rows and sb.start < sa.start:
                k[sa, sb] = k[sb, sa].T
                continue
            k[sa, sb] = xa @ get(b_rows, sb).T
    return k


class KernelMapOneVsAll:
    """liblinear on the empirical kernel map of a precomputed linear kernel."""

    def __init__(self, c=C_SVM, eps=0.01, rel_floor=1e-10):
        self.c, self.eps, self.rel_floor = c, eps, rel_floor

    def fit(self, k_train, labels, classes):
        s, u = np.linalg.eigh(k_train)
        keep = s > s.max() * self.rel_floor       # the rank of X, numerically
        s, u = s[keep], u[:, keep]
        self.proj = u / np.sqrt(s)                # maps kernel rows to Z
        z = u * np.sqrt(s)                        # = k_train @ self.proj
        del u
        self.linear = LiblinearOneVsAll(self.c, self.eps).fit(z, labels, classes)
        return self

    def decision(self, k_test):
        """k_test: (n_test x n_train) kernel; returns (n_test x classes) scores."""
        return self.linear.decision(k_test @ self.proj)


def seed_liblinear(seed=1):
    """liblinear's dual coordinate descent (-s 3) visits the examples in an
    order drawn with the C library's rand(), whose state is the process's:
    unseeded, a problem's solution (within -e) depends on every rand() call
    made before it in the process (the classes before it, another method's
    SVMs, any library). Seeding before each problem makes the solution a
    function of the problem alone, whatever ran before (tests/test_svm.py)."""
    import ctypes
    _libc().srand(ctypes.c_uint(seed))


@functools.lru_cache(maxsize=None)
def _libc():
    import ctypes
    import ctypes.util
    return ctypes.CDLL(ctypes.util.find_library("c"))


class LiblinearOneVsAll:
    """liblinear -s 3 -B 1 -c 100 -e 0.01, one binary problem per class, on
    normalised rows in memory (one liblinear problem, its labels rewritten
    for each class)."""

    def __init__(self, c=C_SVM, eps=0.01):
        self.c, self.eps = c, eps

    def fit(self, x, labels, classes):
        from liblinear import liblinear, liblinearutil
        from scipy import sparse
        prob = liblinear.problem(np.zeros(x.shape[0]), sparse.csr_matrix(x), bias=1)
        param = liblinear.parameter("-s 3 -B 1 -c %g -e %g -q" % (self.c, self.eps))
        y = np.ctypeslib.as_array(prob.y, (x.shape[0],))
        self.w = np.zeros((classes, x.shape[1] + 1))
        for c in range(classes):
            y[:] = np.where(labels == c, 1.0, -1.0)
            seed_liblinear()
            model = liblinearutil.train(prob, param)
            w = np.ctypeslib.as_array(model.w, (x.shape[1] + 1,)).copy()
            self.w[c] = w if model.get_labels()[0] == 1 else -w
        return self

    def decision(self, x):
        return x @ self.w[:, :-1].T + self.w[:, -1]
