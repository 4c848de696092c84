"""MATLAB's imresize bilinear (fvvae.data.matlab_resize, the authors' extraction
resize) on cases computed by hand from MATLAB's documented algorithm, and
against OpenCV where the two must agree (enlarging: no antialiasing)."""
import cv2
import numpy as np
import pytest

from fvvae.data.matlab_resize import contributions, imresize_bilinear


pytestmark = pytest.mark.quick     # scripts/test.sh --quick


@pytest.mark.parametrize("size", [(240, 320), (37, 500), (600, 700)])
def test_a_flat_image_stays_flat(size):
    img = np.full((320, 568, 3), 77, np.uint8)
    out = imresize_bilinear(img, size)
    assert out.shape == size + (3,) and out.dtype == np.uint8
    assert np.all(out == 77)
    out = imresize_bilinear(img.astype(np.float32) + 0.25, size)
    np.testing.assert_allclose(out, 77.25, rtol=0, atol=1e-9)


def test_scale_one_half_by_hand():
    """1 x 4 -> 1 x 2, s = 1/2: the antialiased kernel is 0.5 * t(0.5 d), 4
    pixels wide. Output 1 sits at u = 1.5: taps at input -1, 0, 1, 2, 3, 4
    (1-based) with kernel values 0, 1/8, 3/8, 3/8, 1/8, 0 (sum 1), indices
    0 mirrored to 1: 1/2 a1 + 3/8 a2 + 1/8 a3; output 2 mirrors it."""
    a = np.array([[10.0, 20.0, 30.0, 40.0]])
    np.testing.assert_allclose(imresize_bilinear(a, (1, 2)), [[16.25, 33.75]], atol=1e-12)
    # the same down a column, and uint8 rounded half away from zero
    np.testing.assert_allclose(imresize_bilinear(a.T, (2, 1)), [[16.25], [33.75]], atol=1e-12)
    assert imresize_bilinear(a.astype(np.uint8), (1, 2)).tolist() == [[16, 34]]
    # OpenCV's INTER_LINEAR takes only the two nearest pixels: (a1 + a2) / 2
    assert cv2.resize(a.astype(np.float32), (2, 1), interpolation=cv2.INTER_LINEAR
                      ).tolist() == [[15.0, 35.0]]


def test_edges_mirrored_beyond_the_first_pixel():
    """1 x 8 -> 1 x 2, s = 1/4: the kernel 0.25 * t(0.25 d) is 8 pixels wide.
    Output 1 sits at u = 2.5: taps at -1 .. 6 (1-based) with values 1, 3, 5,
    7, 7, 5, 3, 1 (/ 32). MATLAB's mirror reads index 0 as pixel 1 and -1 as
    pixel 2, so pixel 2 gets (7 + 1) / 32 = 1/4; clamping would give it 7/32
    (and pixel 1 9/32). With 80 at pixel 2 only: 20 mirrored, 17.5 clamped."""
    a = np.zeros((1, 8))
    a[0, 1] = 80.0
    np.testing.assert_allclose(imresize_bilinear(a, (1, 2)), [[20.0, 0.0]], atol=1e-12)
    b = np.zeros((1, 8))
    b[0, 0] = 32.0                       # pixel 1: (5 + 3) / 32 mirrored, 9 / 32 clamped
    np.testing.assert_allclose(imresize_bilinear(b, (1, 2)), [[8.0, 0.0]], atol=1e-12)


def test_a_ramp_is_reproduced_at_the_mapped_coordinates():
    """A linear ramp f(j) = 3 j (j the 1-based column) shrunk from 100 to 50
    and to 25 columns (s = 1/2, 1/4: u = x / s + (1 - 1 / s) / 2 falls half-way
    between two columns, so the taps sit symmetrically about u): away from
    the edges every output pixel is f(u)."""
    n_in = 100
    ramp = np.tile(3.0 * np.arange(1, n_in + 1), (5, 1))
    for n_out in (50, 25):
        s = n_out / n_in
        out = imresize_bilinear(ramp, (5, n_out))
        u = np.arange(1, n_out + 1) / s + 0.5 * (1 - 1 / s)
        inside = (u - 1 / s >= 1) & (u + 1 / s <= n_in)       # kernel half-width 1 / s
        assert inside.sum() >= n_out - 4
        np.testing.assert_allclose(out[:, inside], np.tile(3 * u[inside], (5, 1)), atol=1e-9)
    # and enlarging (no antialiasing, half-width 1)
    out = imresize_bilinear(ramp[:, :20], (5, 50))
    u = np.arange(1, 51) / 2.5 + 0.5 * (1 - 1 / 2.5)
    inside = (u >= 1) & (u <= 20)
    np.testing.assert_allclose(out[:, inside], np.tile(3 * u[inside], (5, 1)), atol=1e-9)


def test_enlarging_agrees_with_opencv_bilinear():
    """Without antialiasing (s > 1) MATLAB's and OpenCV's bilinear are the
    same interpolation: at most one grey level apart (rounding)."""
    img = np.random.default_rng(0).integers(0, 256, (40, 50, 3)).astype(np.uint8)
    ours = imresize_bilinear(img, (97, 123)).astype(int)
    theirs = cv2.resize(img, (123, 97), interpolation=cv2.INTER_LINEAR).astype(int)
    assert np.abs(ours - theirs).max() <= 1


def test_shrinking_antialiases_where_opencv_aliases():
    """A one-pixel checkerboard shrunk to 0.4: the antialiased kernel
    averages it to mid grey, OpenCV's two-tap bilinear does not."""
    board = (np.indices((200, 200)).sum(axis=0) % 2 * 255).astype(np.uint8)
    ours = imresize_bilinear(board, (80, 80)).astype(float)
    theirs = cv2.resize(board, (80, 80), interpolation=cv2.INTER_LINEAR).astype(float)
    assert np.abs(ours[2:-2, 2:-2] - 127.5).max() < 20
    assert theirs.std() > 3 * ours[2:-2, 2:-2].std()


def test_weights_sum_to_one_and_taps_stay_inside():
    for n_in, n_out in ((568, 320), (320, 240), (10, 3), (7, 30)):
        w, idx = contributions(n_in, n_out, n_out / n_in)
        np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
        assert idx.min() >= 0 and idx.max() < n_in


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="uint8 or float"):
        imresize_bilinear(np.zeros((4, 4), np.int32), (2, 2))
    with pytest.raises(ValueError, match="positive"):
        imresize_bilinear(np.zeros((4, 4), np.uint8), (0, 2))
