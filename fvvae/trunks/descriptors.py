"""Descriptor sets from convolutional activations, as Caffe layers (NetSpec).

A descriptor set is an N x C x 1 x T blob: T local descriptors of width C per
image or frame (paper section 4, Figure 3).

* frame mode (videos, section 4): the whole C x 7 x 7 map of each frame is
  L2-normalised and scaled (the authors' ``norm_scale`` 158), then spatial
  pyramid max pooling gives 50 descriptors: windows 2x2 stride 1 (36),
  3x3 stride 2 (9), 4x4 stride 3 (4) and the whole map (1), in that order.
* image mode (CUB, section 4): every position of the 28 x 28 conv5_4 map is a
  descriptor (784), each L2-normalised on its own (section 5.2).
"""

# (kernel, stride) of the pyramid levels of frame mode; None: the whole map.
SPP_LEVELS = ((2, 1), (3, 2), (4, 3), (None, None))


def spp_output_size(map_size, kernel, stride):
    """Caffe's pooled size (ceil mode, no padding) of one pyramid level."""
    if kernel is None:
        return 1
    size = -(-(map_size - kernel) // stride) + 1
    if (size - 1) * stride >= map_size:
        size -= 1
    return size


def frame_descriptor_count(map_size=7):
    return sum(spp_output_size(map_size, k, s) ** 2 for k, s in SPP_LEVELS)


def frame_descriptor_set(caffe, net, bottom, map_size=7, norm_scale=158.0, prefix="spp"):
    """Normalize (whole map, x norm_scale) + SPP -> N x C x 1 x 50 blob."""
    L, P = caffe.layers, caffe.params
    normed = L.Normalize(bottom, normalize_param=dict(across_spatial=True, scale=norm_scale))
    setattr(net, prefix + "_norm", normed)
    levels = []
    for i, (kernel, stride) in enumerate(SPP_LEVELS):
        k = map_size if kernel is None else kernel
        s = 1 if stride is None else stride
        pooled = L.Pooling(normed, pool=P.Pooling.MAX, kernel_size=k, stride=s)
        setattr(net, "%s_pool%d" % (prefix, i), pooled)
        flat = L.Reshape(pooled, reshape_param=dict(shape=dict(dim=[0, 0, 1, -1])))
        setattr(net, "%s_flat%d" % (prefix, i), flat)
        levels.append(flat)
    return L.Concat(*levels, axis=3)


def image_descriptor_set(caffe, bottom):
    """Every position of the map, each L2-normalised -> N x C x 1 x (H*W)."""
    L = caffe.layers
    flat = L.Reshape(bottom, reshape_param=dict(shape=dict(dim=[0, 0, 1, -1])))
    return flat, L.Normalize(flat, normalize_param=dict(across_spatial=False, scale=1.0))


def descriptor_net_text(caffe, trunk_text, trunk, mode, norm_scale=158.0, with_global=False):
    """A trunk's definition followed by the descriptor-set layers; the output
    blob `descriptors` is N x C x 1 x T. with_global adds the trunk's global
    activation layers (fvvae.trunks.zoo.global_layers)."""
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format
    L = caffe.layers
    n = caffe.NetSpec()
    map_blob = L.Input(shape=dict(dim=[1, trunk.channels, trunk.map_size, trunk.map_size]))
    setattr(n, trunk.cut_blob, map_blob)
    if mode == "frame":
        n.descriptors = frame_descriptor_set(caffe, n, map_blob, trunk.map_size, norm_scale)
    elif mode == "image":
        n.descriptors_flat, n.descriptors = image_descriptor_set(caffe, map_blob)
    else:
        raise ValueError("descriptor mode must be frame or image, not %r" % mode)
    head = n.to_proto()
    del head.layer[0]                     # the Input stand-in for the trunk's map
    net = caffe_pb2.NetParameter()
    text_format.Merge(trunk_text, net)
    net.layer.extend(head.layer)
    if with_global:
        from fvvae.trunks.zoo import global_layers
        net.layer.extend(global_layers(caffe, trunk)[0].layer)
    return text_format.MessageToString(net)
