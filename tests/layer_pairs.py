"""Runs one layer, C++ or Python twin, in a tiny net and collects everything:
tops, bottom gradients and parameter gradients."""
import numpy as np

from conftest import input_layers, net_from_text

PYTHON_TWINS = {
    "GaussianSample": ("gaussian_sample_layer", "GaussianSampleLayer"),
    "GaussianReconstructionLoss": ("gaussian_reconstruction_loss_layer",
                                   "GaussianReconstructionLossLayer"),
    "FisherVector": ("fisher_vector_layer", "FisherVectorLayer"),
}


def layer_text(layer_type, bottoms, tops, python, loss_weights=(), extra="", param_str=""):
    lines = ['layer { name: "under_test"']
    if python:
        module, cls = PYTHON_TWINS[layer_type]
        lines.append('  type: "Python" python_param { module: "%s" layer: "%s" param_str: \'%s\' }'
                     % (module, cls, param_str))
    else:
        lines.append('  type: "%s" %s' % (layer_type, extra))
    lines += ['  bottom: "%s"' % b for b in bottoms]
    lines += ['  top: "%s"' % t for t in tops]
    lines += ["  loss_weight: %g" % w for w in loss_weights]
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_layer(caffe, layer_type, python, inputs, params, top_diffs, phase,
              loss_weights=(), extra="", param_str="", tops=("out",)):
    """inputs: {name: array}; params: [array]; top_diffs: {top: array} for the
    non-loss tops. Returns (tops, bottom diffs, param diffs) as dicts/lists."""
    text = "force_backward: true\n" + input_layers(**{k: v.shape for k, v in inputs.items()})
    text += layer_text(layer_type, list(inputs), list(tops), python, loss_weights,
                       extra, param_str)
    net = net_from_text(caffe, text, phase)
    for name, value in inputs.items():
        net.blobs[name].data[...] = value
    layer = net.layers[list(net._layer_names).index("under_test")]
    assert len(layer.blobs) == len(params)
    for blob, value in zip(layer.blobs, params):
        blob.data[...] = value.reshape(blob.data.shape)
        blob.diff[...] = 0
    net.forward()
    out = {t: net.blobs[t].data.copy() for t in tops}
    for t, d in top_diffs.items():
        net.blobs[t].diff[...] = d
    net.backward()
    bottom_diffs = {name: net.blobs[name].diff.copy() for name in inputs}
    param_diffs = [b.diff.copy().ravel() for b in layer.blobs]
    return out, bottom_diffs, param_diffs


def assert_close(a, b, what, rtol=2e-4, atol=2e-5):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * max(1.0, np.abs(b).max()),
                               err_msg=what)
