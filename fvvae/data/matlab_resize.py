"""MATLAB's `imresize(A, [H W], 'bilinear')`, the resize of the authors'
extraction code (fv-vae/fv-vae: +utils/matlab_image_convert.m), written from
MATLAB's documented algorithm (Image Processing Toolbox, imresize.m):

* separable: one dimension at a time, the one with the smaller scale
  (out / in) first (a stable sort of the two scales);
* output pixel x (1-based) sits at input coordinate u = x / s + (1 - 1 / s) / 2
  (pixel centres aligned, as OpenCV's INTER_LINEAR);
* the kernel is the triangle t(d) = max(0, 1 - |d|); when shrinking (s < 1)
  MATLAB antialiases by default: the kernel becomes s * t(s * d), 2 / s
  input pixels wide, so every input pixel under the output pixel's footprint
  contributes (OpenCV's INTER_LINEAR takes the two nearest only);
* each output pixel's weights are divided by their sum; input indices outside
  the image are mirrored with the edge pixel repeated (imresize.m's
  aux = [1:n, n:-1:1], indices taken modulo 2n: index 0 reads pixel 1,
  index -1 pixel 2). Releases before R2007 clamped instead (every index
  below 1 reads pixel 1); the two agree whenever s >= 1/3 in that dimension,
  where no tap reaches beyond index 0 (the authors' 568 x 320 frames to
  240 x 320 are at s = 0.56 and 0.75); below it they differ;
* a uint8 image stays uint8 after *each* dimension (imresizemex returns its
  input's class): the intermediate is rounded half away from zero and
  saturated, then the second dimension is resized from it.

Ties: the weights are often dyadic fractions (1/8, 3/8 at s = 1/2), so a
weighted sum of 8-bit pixels lands on an exact half in exact arithmetic; in
floating point it lands 1e-13 to either side, depending on the order of the
additions. A value within 1e-9 of a half is taken as the half and rounded
away from zero, as exact arithmetic would (MATLAB's own sum may fall either
way by round-off; no implementation can follow it there without its code).
"""
import numpy as np


def triangle(d):
    """The bilinear kernel: 1 - |d| on [-1, 1], 0 elsewhere."""
    d = np.asarray(d, np.float64)
    return np.where(np.abs(d) <= 1, 1 - np.abs(d), 0.0)


def contributions(in_length, out_length, scale, antialiasing=True):
    """(weights, indices), each out_length x P: output pixel i is
    sum_p weights[i, p] * input[indices[i, p]] (0-based indices)."""
    width = 2.0
    if scale < 1 and antialiasing:
        def kernel(d):
            return scale * triangle(scale * d)
        width /= scale
    else:
        kernel = triangle
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(np.ceil(width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]
    weights = kernel(u[:, None] - indices)
    weights /= weights.sum(axis=1, keepdims=True)
    period = np.int64(2 * in_length)       # aux = [1:n, n:-1:1]
    k = np.mod(indices.astype(np.int64) - 1, period)
    indices = np.where(k < in_length, k, period - 1 - k)
    used = np.any(weights != 0, axis=0)
    return weights[:, used], indices[:, used]


def _along(img, axis, weights, indices):
    out = np.zeros(img.shape[:axis] + (weights.shape[0],) + img.shape[axis + 1:], np.float64)
    shape = [1] * img.ndim
    shape[axis] = weights.shape[0]
    for p in range(weights.shape[1]):
        out += np.take(img, indices[:, p], axis=axis) * weights[:, p].reshape(shape)
    return out


TIE = 1e-9


def _as_uint8(values):
    """MATLAB's conversion to an integer class: round half away from zero
    (a value within TIE of a half counts as the half), saturate."""
    return np.clip(np.floor(values + 0.5 + TIE), 0, 255).astype(np.uint8)


def imresize_bilinear(img, size_hw, antialiasing=True):
    """img (H x W or H x W x C, uint8 or float) resized to size_hw = (H', W')
    as MATLAB's imresize(img, [H' W'], 'bilinear') does; uint8 in, uint8 out
    (rounded after each dimension, as MATLAB), float in, float64 out."""
    img = np.asarray(img)
    integer = img.dtype == np.uint8
    if not integer and not np.issubdtype(img.dtype, np.floating):
        raise ValueError("imresize_bilinear: uint8 or float images, not %s" % img.dtype)
    out_hw = tuple(int(v) for v in size_hw)
    if len(out_hw) != 2 or min(out_hw) < 1:
        raise ValueError("imresize_bilinear: size (H, W) of positive integers, not %r"
                         % (size_hw,))
    scale = [out_hw[d] / img.shape[d] for d in (0, 1)]
    out = img
    for axis in np.argsort(scale, kind="stable"):
        if out.shape[axis] == out_hw[axis] and scale[axis] == 1:
            continue
        weights, indices = contributions(out.shape[axis], out_hw[axis], scale[axis],
                                         antialiasing)
        out = _along(out.astype(np.float64), axis, weights, indices)
        if integer:
            out = _as_uint8(out)
    return out if integer or out is not img else img.astype(np.float64)
