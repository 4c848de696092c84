"""Caffe nets from prototxt text, for tests and benchmarks."""
import os
import tempfile


def net_from_text(caffe_module, text, phase=None, weights=None):
    """A caffe.Net from prototxt text (written to a temporary file)."""
    with tempfile.NamedTemporaryFile("w", suffix=".prototxt", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        phase = caffe_module.TEST if phase is None else phase
        if weights:
            return caffe_module.Net(path, weights, phase)
        return caffe_module.Net(path, phase)
    finally:
        os.unlink(path)
