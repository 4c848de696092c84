"""Random caffemodels of the public trunks' shapes, for tests and `caffe time`.

The paper's trunks (VGG_19, its optical-flow twin, ResNet_152) are public
caffemodels a user brings; the tests and benchmarks need the same nets
without them. A random model here has the layer names and blob shapes of
the public file, so every tool loads it where it loads the real one:

| model | layers | as |
| --- | --- | --- |
| vgg19 | conv1_1 .. conv5_4, fc6, fc7 | VGG_ILSVRC_19_layers.caffemodel (less fc8) |
| vgg19_flow | the same, conv1_1 on 20 channels | a VGG_19 trained on optical flow |
| resnet152 | conv1 .. res5c: convolutions, BatchNorm (mean, variance, factor), Scale | ResNet-152-model.caffemodel (less fc1000) |

Initialisation keeps the activations' scale through the depth: every
convolution and inner product is He-normal (std sqrt(2 / fan_in), zero bias)
and, where no BatchNorm follows it (VGG_19), rescaled so that its output has
unit std on a batch of pixel-like inputs (data-dependent, as LSUV does), so
every layer's activations are O(1) as in a trained net; each BatchNorm's
stored mean and variance are the statistics of its input over a batch of
pixel-like inputs, measured layer by layer in one forward pass, so it
normalises its channels; the Scale after the last convolution of a residual
branch is 1/sqrt(blocks in the stage), so a stage of identity shortcuts adds
up to a variance of about 2 rather than one per block.
"""
import os

import numpy as np

# model -> (trunk whose definition it covers, in_channels)
MODELS = {"vgg19": "vgg19_pool5", "vgg19_flow": "vgg19_flow_pool5",
          "resnet152": "resnet152_res5c"}
# trunk -> model (the two VGG_19 RGB trunks share the public file)
FOR_TRUNK = {"vgg19_pool5": "vgg19", "vgg19_conv5_4": "vgg19",
             "vgg19_flow_pool5": "vgg19_flow", "resnet152_res5c": "resnet152"}


def model_definition(caffe, model):
    """NetParameter text of everything the public caffemodel holds that our
    tools use: the trunk at 224 and, for VGG_19, its fc6 -> fc7 head."""
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format
    from fvvae.trunks.zoo import global_layers, resolve_trunk, trunk_definition
    trunk = resolve_trunk(MODELS[model])
    net = caffe_pb2.NetParameter()
    text_format.Merge(trunk_definition(caffe, trunk.name), net)
    if model.startswith("vgg19"):
        net.layer.extend(global_layers(caffe, trunk)[0].layer)
    return text_format.MessageToString(net)


def _blocks_per_stage(names):
    """{'2': 3, '3': 8, ...}: residual blocks of each ResNet stage."""
    stages = {}
    for name in names:
        if name.startswith("res") and name.endswith("_branch2a"):
            stages[name[3]] = stages.get(name[3], 0) + 1
    return stages


def fill(caffe, net, seed=0, batch=2):
    """Fills net's parameters in place (see the module's doc); returns
    {layer: std of its top} of the pass that measured them."""
    rng = np.random.default_rng(seed)
    names = list(net._layer_names)
    blocks = _blocks_per_stage(names)
    data = net.blobs["data"]
    data.reshape(batch, *data.data.shape[1:])
    net.reshape()
    # pixel-like input: 0-255 values less a mean of 128, smooth over a few pixels
    img = rng.uniform(0, 255, data.data.shape).astype(np.float32)
    k = np.ones(5, np.float32) / 5
    for axis in (2, 3):
        img = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), axis, img)
    data.data[...] = (img - 128.0) * 2.0
    scales = {}
    for i, name in enumerate(names):
        layer = net.layers[i]
        kind = layer.type
        if kind in ("Convolution", "InnerProduct"):
            w = net.params[name][0].data
            fan_in = int(np.prod(w.shape[1:]))
            w[...] = rng.standard_normal(w.shape, dtype=np.float32) * np.sqrt(2.0 / fan_in)
            if len(net.params[name]) > 1:
                net.params[name][1].data[...] = 0
        elif kind == "BatchNorm":
            bottom = net.blobs[net.bottom_names[name][0]].data
            axes = (0,) + tuple(range(2, bottom.ndim))
            net.params[name][0].data[...] = bottom.mean(axis=axes)
            net.params[name][1].data[...] = bottom.var(axis=axes) + 1e-5
            net.params[name][2].data[...] = 1.0
        elif kind == "Scale":
            gamma = 1.0
            if name.endswith("_branch2c"):
                gamma = 1.0 / np.sqrt(blocks[name[len("scale")]])
            net.params[name][0].data[...] = gamma
            if len(net.params[name]) > 1:
                net.params[name][1].data[...] = 0
        if kind != "Input":
            net.forward(start=name, end=name)
        nxt = net.layers[i + 1].type if i + 1 < len(names) else None
        if kind in ("Convolution", "InnerProduct") and nxt != "BatchNorm":
            # no BatchNorm to normalise it (VGG_19): scale the weights so this
            # layer's output has unit std on the batch, as a trained net's
            # activations stay O(1) (a softmax on O(100) features diverges)
            top = net.blobs[net.top_names[name][0]].data
            net.params[name][0].data[...] /= max(float(top.std()), 1e-12)
            net.forward(start=name, end=name)
        top = net.top_names[name]
        if top:
            scales[name] = float(net.blobs[top[0]].data.std())
    return scales


def write(caffe, model, out, seed=0):
    """Writes the random caffemodel of `model` to out (atomically); returns
    {layer: std of its top} of the filling pass."""
    import tempfile
    if model not in MODELS:
        raise ValueError("unknown model %r (one of %s)" % (model, ", ".join(MODELS)))
    caffe.set_mode_cpu()
    with tempfile.NamedTemporaryFile("w", suffix=".prototxt", delete=False) as f:
        f.write(model_definition(caffe, model))
        proto = f.name
    try:
        net = caffe.Net(proto, caffe.TEST)
        scales = fill(caffe, net, seed)
    finally:
        os.unlink(proto)
    os.makedirs(os.path.dirname(os.path.abspath(out)) or ".", exist_ok=True)
    net.save(out + ".partial")
    os.replace(out + ".partial", out)
    return scales


def cached(caffe, trunk, seed=0):
    """The random caffemodel for a trunk, made once into the cache
    ($FVVAE_CACHE_DIR/random_weights/MODEL_seedS.caffemodel)."""
    from fvvae.trunks.zoo import cache_dir
    model = FOR_TRUNK[trunk]
    path = os.path.join(cache_dir(), "random_weights", "%s_seed%d.caffemodel" % (model, seed))
    if not os.path.exists(path):
        write(caffe, model, path, seed)
    return path
