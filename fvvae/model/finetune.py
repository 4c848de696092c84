"""Fine-tuning a trunk on a data set's frames or images with SGD (the
paper's Table 3 "pool5 fine-tuned" and Table 6 "w/ ft" columns).

Train net: ImageData (random mirror, the trunk's mean) -> the trunk cut at
its map, every layer learnable (BatchNorm on its stored statistics, as is
usual for small fine-tuning batches) -> the trunk's own global head (VGG_19:
fc6 -> fc7 with dropout, names of the public caffemodel so they start from
it; others: global average pooling) -> a new classifier `fc_ft` (10x the
base learning rate) -> SoftmaxWithLoss. The fine-tuned caffemodel holds the
trunk's layers under their own names, so it replaces the trunk's weights in
every tool (the extra fc_ft is ignored there).
"""
import os

from fvvae.files import atomic


def train_net(caffe, trunk_name, image_list, classes, batch, resize, crop):
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format
    from fvvae.trunks.zoo import global_layers, resolve_trunk, trunk_definition
    L = caffe.layers
    t = resolve_trunk(trunk_name)
    if t.in_channels != 3:
        raise ValueError("fine-tuning reads images: trunk %s takes flow stacks" % trunk_name)
    n = caffe.NetSpec()
    n.data, n.label = L.ImageData(
        source=image_list, batch_size=batch, shuffle=True, new_height=resize[0],
        new_width=resize[1], ntop=2,
        transform_param=dict(crop_size=crop, mirror=True, mean_value=list(t.mean_bgr)))
    net = n.to_proto()
    body = caffe_pb2.NetParameter()
    text_format.Merge(trunk_definition(caffe, trunk_name), body)
    head, blob = global_layers(caffe, t)
    for layer in list(body.layer) + list(head.layer):
        if layer.type == "Input":
            continue
        if layer.type == "BatchNorm":
            layer.batch_norm_param.use_global_stats = True
            del layer.param[:]
            for _ in range(3):
                layer.param.add(lr_mult=0, decay_mult=0)
        net.layer.add().CopyFrom(layer)
        if layer.name in ("relu6", "relu7"):       # VGG's dropout after fc6 and fc7
            drop = net.layer.add(name=layer.name.replace("relu", "drop"), type="Dropout",
                                 bottom=[layer.top[0]], top=[layer.top[0]])
            drop.dropout_param.dropout_ratio = 0.5
    top = caffe.NetSpec()
    top.feature = L.Input(shape=dict(dim=[1, 1]))
    top.fc_ft = L.InnerProduct(top.feature, num_output=classes,
                               weight_filler=dict(type="gaussian", std=0.01),
                               bias_filler=dict(type="constant"),
                               param=[dict(lr_mult=10, decay_mult=1),
                                      dict(lr_mult=20, decay_mult=0)])
    top.label = L.Input(shape=dict(dim=[1]))
    top.loss = L.SoftmaxWithLoss(top.fc_ft, top.label)
    for layer in top.to_proto().layer:
        if layer.type == "Input":
            continue
        layer.bottom[:] = [blob if b == "feature" else b for b in layer.bottom]
        net.layer.add().CopyFrom(layer)
    return net


def solver_text(train_net_path, snapshot_prefix, iterations, base_lr=0.001, gpu=False):
    """SGD, momentum 0.9, weight decay 5e-4, the rate divided by 10 halfway."""
    return "\n".join([
        'net: "%s"' % train_net_path, 'type: "SGD"', "base_lr: %g" % base_lr,
        "momentum: 0.9", "weight_decay: 0.0005", 'lr_policy: "step"',
        "stepsize: %d" % max(1, iterations // 2), "gamma: 0.1",
        "max_iter: %d" % iterations, "display: %d" % max(1, iterations // 20),
        "snapshot: %d" % iterations, 'snapshot_prefix: "%s"' % snapshot_prefix,
        "random_seed: 1701", "solver_mode: %s" % ("GPU" if gpu else "CPU"), ""])


def write(caffe, trunk_name, items, classes, out, iterations, batch, resize, crop,
          base_lr=0.001, gpu=False):
    """Writes OUT/{finetune_images.txt, finetune_train.prototxt,
    finetune_solver.prototxt}; returns (solver path, final caffemodel path)."""
    os.makedirs(os.path.join(out, "snapshots"), exist_ok=True)
    image_list = os.path.join(out, "finetune_images.txt")
    from fvvae.data.image_list import imagedata_lines
    files = {"finetune_images.txt": imagedata_lines(items)}
    net = train_net(caffe, trunk_name, image_list, classes, batch, resize, crop)
    files["finetune_train.prototxt"] = 'name: "finetune_%s"\n%s' % (trunk_name, net)
    prefix = os.path.join(out, "snapshots", "finetune")
    files["finetune_solver.prototxt"] = solver_text(
        os.path.join(out, "finetune_train.prototxt"), prefix, iterations, base_lr, gpu)
    for name, text in files.items():
        with atomic(os.path.join(out, name)) as f:
            f.write(text)
    return os.path.join(out, "finetune_solver.prototxt"), "%s_iter_%d.caffemodel" % (prefix,
                                                                                   iterations)
