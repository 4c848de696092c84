"""liblinear on the empirical kernel map takes the same decisions as liblinear
on the features themselves (-s 3, hinge loss, C = 100, -B 1), and bad inputs
are named."""
import numpy as np
import pytest

from fvvae.data.representations import check_features, normalize_rows
from fvvae.evaluation.svm import KernelMapOneVsAll, LiblinearOneVsAll, check_classes, linear_kernel


pytestmark = pytest.mark.quick     # scripts/test.sh --quick


def problem(seed, n_train=600, n_test=600, dims=2000, classes=6, separation=0.08):
    """Non-negative features (like pooled activations) from class prototypes,
    more dimensions than rows as at UCF101 scale."""
    rng = np.random.default_rng(seed)
    protos = rng.gamma(1.0, 1.0, (classes, dims))
    def draw(n):
        y = rng.integers(0, classes, n)
        x = (separation * protos[y] * rng.gamma(2.0, 0.5, (n, dims))
             + rng.gamma(1.0, 1.5, (n, dims)))
        return x, y
    (xtr, ytr), (xte, yte) = draw(n_train), draw(n_test)
    return normalize_rows(xtr), ytr, normalize_rows(xte), yte, classes


@pytest.mark.parametrize("seed", [0, 1])
def test_kernel_svm_agrees_with_liblinear(seed):
    xtr, ytr, xte, yte, classes = problem(seed)
    ker = KernelMapOneVsAll().fit(linear_kernel(xtr), ytr, classes)
    s_ker = ker.decision(linear_kernel(xte, xtr))
    lin = LiblinearOneVsAll().fit(xtr, ytr, classes)
    s_lin = lin.decision(xte)
    pred_ker, pred_lin = s_ker.argmax(1), s_lin.argmax(1)
    agreement = np.mean(pred_ker == pred_lin)
    acc_ker, acc_lin = np.mean(pred_ker == yte), np.mean(pred_lin == yte)
    assert 0.3 < acc_lin < 0.99, acc_lin        # a problem that is neither trivial nor hopeless
    assert agreement >= 0.99, (agreement, acc_ker, acc_lin)
    assert abs(acc_ker - acc_lin) <= 0.005, (acc_ker, acc_lin)
    # the binary one-vs-all decisions agree too
    assert np.mean(np.sign(s_ker) == np.sign(s_lin)) >= 0.99


def test_streamed_kernel_equals_in_memory_product():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((70, 9)), rng.standard_normal((50, 9))

    class Rows:
        rows = 70
        def __call__(self, s):
            return a[s]

    np.testing.assert_allclose(linear_kernel(Rows(), block=16), a @ a.T, rtol=1e-12)
    np.testing.assert_allclose(linear_kernel(a, b, block=16), a @ b.T, rtol=1e-12)


def test_normalize_rows_is_signed_sqrt_then_l2():
    x = np.array([[4.0, -9.0, 0.0], [0.0, 0.0, 0.0]])
    y = normalize_rows(x)
    np.testing.assert_allclose(y[0], np.array([2.0, -3.0, 0.0]) / np.sqrt(13.0))
    assert np.all(y[1] == 0)                   # an all-zero row stays zero, no NaN


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="train features: 1 rows hold NaN or Inf"):
        check_features(np.array([[1.0, np.nan], [0.0, 1.0]]), "train features")
    with pytest.raises(ValueError, match=r"classes \[2\] have no training example"):
        check_classes(np.array([0, 1, 1, 3]), np.array([0, 2]), 4)
    with pytest.raises(ValueError, match=r"test labels \[5\] are outside 0..3"):
        check_classes(np.array([0, 1, 2, 3]), np.array([5]), 4)


def test_classify_with_training_rows_in_memory_takes_the_streamed_decisions(tmp_path):
    """fvvae.evaluation.classify.classify's kernel path: the training rows held in
    memory with float32 products (the default) against both sides streamed
    from disk in float64, and against liblinear on the rows: same decisions,
    on compact files as the protocol writes them."""
    from fvvae.data import representations
    from fvvae.evaluation.classify import classify
    xtr, ytr, xte, yte, classes = problem(4, n_train=300, n_test=300, dims=3000)
    for name, x, y in (("train", xtr, ytr), ("test", xte, yte)):
        with representations.create(str(tmp_path / ("%s.h5" % name)), len(y), x.shape[1],
                             compact=True) as f:
            for r in range(len(y)):
                representations.write_row(f, r, "%s%d" % (name, r), y[r], x[r] ** 2)  # sqrt undoes it
    args = (str(tmp_path / "train.h5"), str(tmp_path / "test.h5"), classes, "kernel")
    s_mem, labels, _ = classify(*args, block=64)
    s_disk, _, _ = classify(*args, block=64, memory=0)
    s_lin, _, _ = classify(*args[:3], "linear")
    assert np.array_equal(labels, yte)
    np.testing.assert_allclose(s_mem, s_disk, atol=0.02)   # liblinear stops at -e 0.01
    assert np.mean(s_mem.argmax(1) == s_disk.argmax(1)) >= 0.995
    assert np.mean(s_mem.argmax(1) == s_lin.argmax(1)) >= 0.99
    assert 0.3 < np.mean(s_mem.argmax(1) == yte) < 0.99


def test_saved_svms_score_as_the_evaluation(tmp_path):
    """Each SVM path's (W, b) (fvvae.evaluation.classifier: the kernel path's SVMs folded
    onto the training rows) gives the evaluation's scores on the test rows,
    read back from the saved file."""
    from fvvae.evaluation import classifier
    from fvvae.data import representations
    from fvvae.evaluation.classify import classify
    xtr, ytr, xte, yte, classes = problem(4, n_train=200, n_test=100, dims=1500)
    for name, x, y in (("train", xtr, ytr), ("test", xte, yte)):
        with representations.create(str(tmp_path / ("%s.h5" % name)), len(y), x.shape[1],
                             compact=True) as f:
            for r in range(len(y)):
                representations.write_row(f, r, "%s%d" % (name, r), y[r], x[r] ** 2)
    files = (str(tmp_path / "train.h5"), str(tmp_path / "test.h5"))
    for solver, memory in (("kernel", 4 << 30), ("kernel", 0), ("linear", 0)):
        scores, _, info = classify(*files, classes, solver, block=64, memory=memory)
        path = classifier.save(str(tmp_path / "svm.npz"), *info["svm"], info, "m",
                               ["a", "b", "c", "d"], files[0])
        clf = classifier.Classifier(path)
        got, ids, labels = clf.score_file(files[1])
        np.testing.assert_allclose(got, scores, atol=1e-4 * np.abs(scores).max())
        assert clf.compact and clf.name(2) == "c" and list(labels) == list(yte)
    with pytest.raises(ValueError, match="expects rows of 1500 columns"):
        clf.scores(np.zeros((2, 7)))


def test_an_svm_does_not_depend_on_what_ran_before_it_in_the_process():
    # liblinear's dual solver permutes with libc's rand(): without a seed per
    # problem, rand() calls made earlier in the process (another method's SVMs,
    # any library) change the solution and the test decisions
    import ctypes
    import ctypes.util
    rng = np.random.RandomState(0)
    def draw(n):      # hard, overlapping classes: the optimum is reached loosely (-e 0.01)
        y = rng.randint(0, 10, n)
        x = rng.randn(n, 40)
        x[np.arange(n), y] += 1.0
        return x / np.linalg.norm(x, axis=1, keepdims=True), y
    (xtr, ytr), (xte, _) = draw(600), draw(400)
    first = LiblinearOneVsAll().fit(xtr, ytr, 10)
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    for _ in range(1000):
        libc.rand()
    after = LiblinearOneVsAll().fit(xtr, ytr, 10)
    assert np.array_equal(first.w, after.w)
    assert np.array_equal(first.decision(xte).argmax(1), after.decision(xte).argmax(1))
