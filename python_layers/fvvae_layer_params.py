"""Shared parsing of the Python FV-VAE layers' ``param_str`` (JSON).

Keys: ``normalization`` (the loss divisor, as the C++ layers' loss_param:
"BATCH_SIZE", the default, divides by N; "VALID"/"FULL" by N*T; "NONE" by 1)
and, for GaussianSample, ``seed`` (NumPy noise seed).
"""
import json

import numpy as np

NORMALIZATIONS = ("BATCH_SIZE", "VALID", "FULL", "NONE")


def parse_param_str(layer):
    text = (layer.param_str or "").strip()
    params = json.loads(text) if text else {}
    mode = params.get("normalization", "BATCH_SIZE")
    if mode not in NORMALIZATIONS:
        raise ValueError("%s: normalization %r is not one of %s"
                         % (type(layer).__name__, mode, NORMALIZATIONS))
    params["normalization"] = mode
    return params


def loss_normalizer(mode, num, descriptors):
    if mode == "BATCH_SIZE":
        return float(num)
    if mode in ("VALID", "FULL"):
        return float(num) * descriptors
    return 1.0


def descriptor_set(layer, what, blob):
    """The (N, C, T) view of an N x C x 1 x T blob, with the C++ layers' checks."""
    shape = tuple(blob.data.shape)
    name = type(layer).__name__
    if len(shape) < 3:
        raise ValueError("%s: %s %s must be a descriptor set N x C x 1 x T"
                         % (name, what, shape))
    t = int(np.prod(shape[2:]))
    if t == 0:
        raise ValueError("%s: %s %s holds no descriptors (T = 0)" % (name, what, shape))
    return shape[0], shape[1], t


def check_same_shape(layer, what_a, a, what_b, b):
    if a.data.shape != b.data.shape:
        raise ValueError("%s: %s %s and %s %s must have the same shape"
                         % (type(layer).__name__, what_a, tuple(a.data.shape),
                            what_b, tuple(b.data.shape)))


def check_param(layer, what, blob, expected):
    if blob.data.size != expected:
        raise ValueError("%s: parameter %s has shape %s but the bottoms need %d values"
                         % (type(layer).__name__, what, tuple(blob.data.shape), expected))
