"""Caffe nets kept loaded between the calls of a long-lived process.

A streamed side runs every chunk's tools in one process (tools/run_tools.py
with a plan): the trunk's net, its weights check and the FV-VAE extract nets
are the same for every chunk, and loading them is the chunk's fixed cost
(VGG_19: 1.5 s to check the 558 MB caffemodel's shapes, 1.7 s to load it, on
the development machine). A net is reused when its definition's text, its
weights file (path, size, modification time) and the device are the same."""
import os
from collections import OrderedDict

KEEP = 6            # nets kept at most (a trunk, its GA net, two FV-VAE nets ...)
_nets = OrderedDict()
_checked = set()


def _key(prototxt, weights, gpu):
    with open(prototxt) as f:
        text = f.read()
    st = os.stat(weights) if weights else None
    return (text, weights and os.path.abspath(weights), st and (st.st_size, st.st_mtime_ns), gpu)


def net(caffe, prototxt, weights, gpu=None):
    """caffe.Net(prototxt, weights=weights, phase=TEST), or the one loaded
    before with the same definition, weights and device."""
    key = _key(prototxt, weights, gpu)
    if key in _nets:
        _nets.move_to_end(key)
        return _nets[key]
    n = caffe.Net(prototxt, weights=weights, phase=caffe.TEST) if weights else \
        caffe.Net(prototxt, caffe.TEST)
    _nets[key] = n
    while len(_nets) > KEEP:
        _nets.popitem(last=False)
    return n


def forward(n):
    """The whole forward pass of a loaded net with the GIL released (patch
    0012: Net._forward_nogil), so that fvvae.data.loader's threads read the next
    batches meanwhile."""
    n._forward_nogil(0, len(n.layers) - 1)


def check_weights(caffe, prototxt, weights):
    """fvvae.trunks.zoo.check_weights, once per definition and weights file."""
    from fvvae.trunks.zoo import check_weights as check
    key = _key(prototxt, weights, None)
    if key not in _checked:
        check(caffe, prototxt, weights)
        _checked.add(key)
    return True


def clear():
    _nets.clear()
    _checked.clear()
