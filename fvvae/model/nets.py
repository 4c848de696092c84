"""The FV-VAE nets and solver, written with pycaffe's NetSpec from a config.

Train net (Figure 2a, Algorithm 1, eq. 8):
  descriptor sets x (N x C x 1 x T) -> Dropout -> encoder MLP (1x1 convs) ->
  mu_z -> GaussianSample -> z  [+ L_reg, weight lambda2]
  z -> 1x1 conv to classes -> max over descriptors -> softmax loss (lambda3)
  z -> decoder (1x1 Deconvolution K -> C) + ReLU -> mu_x ->
  GaussianReconstructionLoss(x, mu_x)  (lambda1)

Extract net (Figure 2b, eq. 13): the same layer names without sampling
(z = mu_z), the reconstruction loss kept with weight 0 (it owns log sigma_x
in the caffemodel) and FisherVector(x, mu_x, mu_z) sharing log sigma_x with it
by parameter name; its second parameter is the FIM scale.

The encoder, decoder and class layers act on every descriptor alike, so for
small sets (T < COLUMNS_BELOW_T: frames) both nets run them on the batch's
descriptors laid side by side as the columns of one C x (N T) matrix
(SetsToColumns): Caffe's 1x1 convolution then makes one large GEMM per layer
instead of N products of T = 50 columns. In training, ColumnsToSets splits the
columns back into sets before the layers that work per set (the GaussianSample
and reconstruction losses, which are per-set means, and the max over a set's
class scores); at extraction FisherVector reads the columns itself, given the
sets as a fourth bottom for their N and T. Layer names and parameter shapes
are those of the per-set layout, so caffemodels of either layout load into
both.
"""
LOG_SIGMA_X = "log_sigma_x"
COLUMNS_BELOW_T = 256
FIM_SCALE = "fim_scale"


def _lr(cfg, train):
    """The training nets' param specs of a layer with weights and bias: lr_mult
    1 and bias_lr_mult (2, the authors'); none in the extraction net."""
    return dict(param=[dict(lr_mult=1), dict(lr_mult=cfg.bias_lr_mult)]) if train else {}


def _encoder(caffe, n, bottom, cfg, train=False):
    L = caffe.layers
    filler = dict(type="xavier")
    top = bottom
    for i, width in enumerate(cfg.encoder):
        last = i == len(cfg.encoder) - 1
        name = "mu_z" if last else "enc%d" % (i + 1)
        conv = L.Convolution(top, num_output=int(width), kernel_size=1,
                             weight_filler=filler, bias_filler=dict(type="constant"),
                             **_lr(cfg, train))
        setattr(n, name, conv)
        if not last and cfg.encoder_relu:
            setattr(n, name + "_relu", L.ReLU(conv, in_place=True))
        top = conv
    return top


def _decoder(caffe, n, z, cfg, train=False):
    L = caffe.layers
    n.mu_x = L.Deconvolution(z, convolution_param=dict(
        num_output=cfg.channels, kernel_size=1, weight_filler=dict(type="xavier"),
        bias_filler=dict(type="constant")), **_lr(cfg, train))
    n.mu_x_relu = L.ReLU(n.mu_x, in_place=True)
    return n.mu_x


def columns_layout(cfg):
    """Whether the nets lay the batch's descriptors out as columns: for small
    sets (frames, T = 50), where one large product beats N small ones; sets of
    T >= COLUMNS_BELOW_T (images, 28 x 28) are large products already, and the
    layout changes would only cost time (bench/encoding.py measures both)."""
    return cfg.descriptors < COLUMNS_BELOW_T


def _layout(caffe, n, x, columns):
    """(as_columns, as_sets) for net n with reference sets x: each adds a
    SetsToColumns / ColumnsToSets layer of the given top name when the net
    uses the columns layout, and returns its input unchanged when not."""
    L = caffe.layers

    def as_columns(name, sets):
        if not columns:
            return sets
        setattr(n, name, L.SetsToColumns(sets))
        return getattr(n, name)

    def as_sets(name, cols):
        if not columns:
            return cols
        setattr(n, name, L.ColumnsToSets(cols, x))
        return getattr(n, name)
    return as_columns, as_sets


def _train_head(caffe, n, x, label, cfg, columns=None):
    """The FV-VAE training layers on descriptor sets x with labels; columns:
    the layout (None: columns_layout(cfg))."""
    L, P = caffe.layers, caffe.params
    as_columns, as_sets = _layout(caffe, n, x, columns_layout(cfg) if columns is None
                                  else columns)

    bottom = as_columns("x_cols", x)
    if cfg.dropout > 0:
        n.x_drop = L.Dropout(bottom, dropout_ratio=cfg.dropout)
        bottom = n.x_drop
    mu_z = _encoder(caffe, n, bottom, cfg, train=True)
    n.z, n.loss_reg = L.GaussianSample(as_sets("mu_z_sets", mu_z), ntop=2,
                                       loss_weight=[0, cfg.lambda2],
                                       param=[dict(lr_mult=cfg.log_sigma_lr_mult)])
    z = as_columns("z_cols", n.z)
    if cfg.lambda3 > 0:
        n.cls = L.Convolution(z, num_output=cfg.classes, kernel_size=1,
                              weight_filler=dict(type="xavier"), **_lr(cfg, True))
        n.cls_max = L.Pooling(as_sets("cls_sets", n.cls), pool=P.Pooling.MAX, kernel_h=1,
                              kernel_w=cfg.descriptors)
        n.loss_cls = L.SoftmaxWithLoss(n.cls_max, label, loss_weight=cfg.lambda3)
    else:
        n.label_unused = L.Silence(label, ntop=0)
    mu_x = _decoder(caffe, n, z, cfg, train=True)
    # the decoder rebuilds the complete input x, not the dropped-out one (5.2)
    n.loss_rec = L.GaussianReconstructionLoss(x, as_sets("mu_x_sets", mu_x),
                                              loss_weight=cfg.lambda1,
                                              param=[dict(name=LOG_SIGMA_X,
                                                          lr_mult=cfg.log_sigma_lr_mult)])


def train_net(caffe, cfg, columns=None):
    """Training on cached descriptor sets (tools/extract_descriptors.py);
    columns: the layout (None: columns_layout(cfg))."""
    L, P = caffe.layers, caffe.params
    n = caffe.NetSpec()
    if cfg.backend == "HDF5":
        n.data, n.label = L.HDF5Data(source=cfg.source, batch_size=cfg.batch,
                                     shuffle=True, ntop=2)
    else:
        n.data, n.label = L.Data(source=cfg.source, backend=P.Data.LMDB,
                                 batch_size=cfg.batch, ntop=2)
    _train_head(caffe, n, n.data, n.label, cfg, columns)
    return n.to_proto()


def train_net_on_inputs(caffe, cfg, columns=None):
    """The train net with Input blobs in place of the data layer (descriptor
    sets N x C x 1 x T and labels N): for `caffe time`, which needs no data."""
    L = caffe.layers
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[cfg.batch, cfg.channels, 1, cfg.descriptors]))
    n.label = L.Input(shape=dict(dim=[cfg.batch]))
    _train_head(caffe, n, n.data, n.label, cfg, columns)
    return n.to_proto()


def frozen(net_param):
    """Sets lr_mult and decay_mult 0 on every learnable blob of every layer:
    the trunk's convolutions stay as trained on ImageNet."""
    def blobs(layer):
        """How many parameter blobs the layer has (its bias term counted)."""
        if layer.type in ("Convolution", "Deconvolution"):
            return 1 + int(layer.convolution_param.bias_term)
        if layer.type == "InnerProduct":
            return 1 + int(layer.inner_product_param.bias_term)
        if layer.type == "Scale":       # bias_term defaults to false here
            return 1 + int(layer.scale_param.bias_term)
        return {"BatchNorm": 3, "PReLU": 1, "Bias": 1}.get(layer.type, 0)
    for layer in net_param.layer:
        if layer.type == "BatchNorm":     # its stored statistics, also in TRAIN
            layer.batch_norm_param.use_global_stats = True
        if blobs(layer):
            del layer.param[:]
            for _ in range(blobs(layer)):
                layer.param.add(lr_mult=0, decay_mult=0)
    return net_param


def train_net_with_trunk(caffe, cfg, trunk_text, trunk, mode, image_list, root="",
                         resize=None, crop=None, norm_scale=158.0):
    """Training from images with the trunk in the graph, its parameters frozen
    (lr_mult 0), as the authors trained: ImageData (shuffled every epoch, a
    random crop, mirrored at random: cfg.resize, cfg.crop, cfg.mirror) -> trunk
    -> descriptor set -> the FV-VAE training layers. mode None: frame sets for
    7 x 7 maps, image sets otherwise."""
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format
    from fvvae.trunks.descriptors import descriptor_net_text
    from fvvae.trunks.zoo import default_resize
    L = caffe.layers
    mode = mode or ("frame" if trunk.map_size == 7 else "image")
    resize = resize or (tuple(cfg.resize) if cfg.resize else default_resize(trunk))
    crop = crop or cfg.crop or trunk.input_size
    n = caffe.NetSpec()
    n.data, n.label = L.ImageData(
        source=image_list, root_folder=root, batch_size=cfg.batch, shuffle=True,
        new_height=resize[0], new_width=resize[1], ntop=2,
        transform_param=dict(crop_size=crop, mirror=bool(cfg.mirror),
                             mean_value=list(trunk.mean_bgr)))
    net = n.to_proto()
    body = caffe_pb2.NetParameter()
    text_format.Merge(descriptor_net_text(caffe, trunk_text, trunk, mode, norm_scale), body)
    frozen(body)
    net.layer.extend(l for l in body.layer if l.type != "Input")
    head = caffe.NetSpec()
    head.descriptors = L.Input(shape=dict(dim=[1, cfg.channels, 1, cfg.descriptors]))
    head.label = L.Input(shape=dict(dim=[1]))
    _train_head(caffe, head, head.descriptors, head.label, cfg)
    net.layer.extend(l for l in head.to_proto().layer if l.type != "Input")
    return net


def extract_net(caffe, cfg, input_blob="data", input_shape=None, prefix_layers=None,
                columns=None):
    """The extraction net. By default its input is a descriptor set blob
    `data` (1 x C x 1 x T); prefix_layers(n) may instead build the input (a
    trunk's map with SPP, say) and return the descriptor-set blob. columns:
    the layout (None: columns_layout(cfg))."""
    L = caffe.layers
    n = caffe.NetSpec()
    if prefix_layers is None:
        shape = input_shape or [1, cfg.channels, 1, cfg.descriptors]
        setattr(n, input_blob, L.Input(shape=dict(dim=list(shape))))
        x = getattr(n, input_blob)
    else:
        x = prefix_layers(n)
    columns = columns_layout(cfg) if columns is None else columns
    bottom = _layout(caffe, n, x, columns)[0]("x_cols", x)
    mu_z = _encoder(caffe, n, bottom, cfg)
    mu_x = _decoder(caffe, n, mu_z, cfg)       # no sampling at extraction: z = mu_z
    # weight 0: it only owns log sigma_x (on the columns its value is a sum
    # over the batch rather than a per-set mean; nothing reads it)
    n.loss_rec = L.GaussianReconstructionLoss(bottom, mu_x, loss_weight=0,
                                              param=[dict(name=LOG_SIGMA_X)])
    reference = [x] if columns else []   # the sets' N and T
    n.fv = L.FisherVector(bottom, mu_x, mu_z, *reference,
                          param=[dict(name=LOG_SIGMA_X, lr_mult=0),
                                 dict(name=FIM_SCALE, lr_mult=0)])
    return n.to_proto()


def solver_text(cfg, train_net_path, snapshot_prefix, mode="CPU"):
    """AdaDelta with the paper's settings (section 5.2)."""
    lines = [
        'net: "%s"' % train_net_path,
        'type: "AdaDelta"',
        "base_lr: %g" % cfg.base_lr,
        "momentum: %g" % cfg.momentum,
        "delta: %g" % cfg.delta,
        'lr_policy: "fixed"',
        "max_iter: %d" % cfg.iterations,
        "display: %d" % max(1, min(100, cfg.iterations // 50)),
        "average_loss: 1",
        "snapshot: %d" % cfg.snapshot,
        'snapshot_prefix: "%s"' % snapshot_prefix,
        "random_seed: %d" % cfg.seed,
        "solver_mode: %s" % mode,
    ]
    return "\n".join(lines) + "\n"


# The NumPy twins of python_layers/ (pycaffe Python layers, same blobs and
# parameters) of the layers the train and extract nets use.
PYTHON_TWINS = {
    "GaussianSample": ("gaussian_sample_layer", "GaussianSampleLayer"),
    "GaussianReconstructionLoss": ("gaussian_reconstruction_loss_layer",
                                   "GaussianReconstructionLossLayer"),
    "FisherVector": ("fisher_vector_layer", "FisherVectorLayer"),
}


def with_python_twins(net_param):
    """A per-set net (columns=False) with our C++ layers replaced by their
    NumPy twins: for a pycaffe without our layers (PYTHONPATH=python_layers).
    The twins have no columns layout: a net with SetsToColumns /
    ColumnsToSets, or any other layer of ours, is refused."""
    for layer in net_param.layer:
        if layer.type in PYTHON_TWINS:
            module, name = PYTHON_TWINS[layer.type]
            layer.type = "Python"
            layer.python_param.module = module
            layer.python_param.layer = name
        elif layer.type in ("SetsToColumns", "ColumnsToSets", "Normalize", "SignedSqrt",
                            "L2Normalize"):
            raise ValueError("layer %s (%s) has no Python twin (write the net with the "
                             "per-set layout: columns=False)" % (layer.name, layer.type))
    return net_param
