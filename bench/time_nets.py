#!/usr/bin/env python
"""Writes the nets the GPU check measures (bench/gpu_check.sh; the bundle of
scripts/gpu_bundle.sh carries them), all on Input blobs so that `caffe time`
needs no data back end:

- head_C{C}_T{T}_{columns,sets}.prototxt: the FV-VAE extraction head
  (descriptor sets N x C x 1 x T -> encoder C -> C -> 255 -> decoder ->
  FisherVector, eq. 11) in both layouts, at the four (C, T) of the paper's
  trunks (VGG_19 pool5 / ResNet_152 res5c; frame sets of 50, image sets of
  28 x 28), N x T = 6,400 descriptors a pass; heads.csv gives each net's
  descriptors a pass, FLOPs a descriptor and whether it is the nets' layout;
- train_C512_T50.prototxt: the paper's train net (eq. 8) at batch 128;
- trunk_{vgg19_pool5_224_b128, resnet152_res5c_224_b64,
  vgg19_conv5_4_448_b16}_{caffe,cudnn}.prototxt: the trunks at the issue's
  batches, every convolution, pooling, ReLU and softmax with Caffe's own engine
  or the default one (cuDNN in a cuDNN build);
- train/: `caffe train` of the paper's train net (C = 512, T = 50, batch 128)
  on a synthetic LMDB of 256 descriptor sets (two class-dependent Gaussian
  clusters, values rounded to 1/16 so the bundle compresses) for --iterations
  iterations, solver_mode GPU; run it from inside train/.

    .venv/bin/python bench/time_nets.py --out build-cuda/bundle/fvvae-gpu/nets
"""
import argparse
import csv
import os

from bench.encoding import head_flops  # noqa: E402  (FLOPs a descriptor of the extraction head)

# (C, T): VGG_19 pool5 / ResNet_152 res5c, frame (SPP, 50) and image (28 x 28) sets
SHAPES = ((512, 50), (512, 784), (2048, 50), (2048, 784))
# name, builder, input size, batch (the trunk timings)
TRUNKS = (("vgg19_pool5_224_b128", "vgg19", "pool5", 224, 128),
          ("resnet152_res5c_224_b64", "resnet152", "res5c", 224, 64),
          ("vgg19_conv5_4_448_b16", "vgg19", "conv5_4", 448, 16))
ENGINE_PARAMS = {"Convolution": "convolution_param", "Pooling": "pooling_param",
                 "ReLU": "relu_param", "Softmax": "softmax_param"}


def with_engine(net_param, engine):
    """Sets `engine` (CAFFE or CUDNN; DEFAULT leaves them) on every layer that has one."""
    from caffe.proto import caffe_pb2
    for layer in net_param.layer:
        field = ENGINE_PARAMS.get(layer.type)
        if field and engine != "DEFAULT":
            param = getattr(layer, field)
            param.engine = getattr(caffe_pb2.ConvolutionParameter, engine)
    return net_param


def trunk_net(caffe, builder, until, size, batch):
    from fvvae.trunks import zoo
    net = (zoo.vgg19(caffe, size, until) if builder == "vgg19"
           else zoo.resnet152(caffe, size))
    net = zoo.cut_net(net, until)
    net.layer[0].input_param.shape[0].dim[0] = batch
    for layer in net.layer:        # random weights: the timing does not need trained ones
        if layer.type == "Convolution":
            layer.convolution_param.weight_filler.type = "msra"
    return net


def synthetic_store(path, c, t, count, seed=0):
    """A descriptor store of `count` sets C x 1 x T in two classes whose means
    differ, so that the reconstruction and classification losses can fall."""
    import numpy as np
    from fvvae.data.descriptor_store import DescriptorStore
    rng = np.random.RandomState(seed)
    labels = np.arange(count) % 2
    means = rng.rand(2, c, 1, 1).astype(np.float32)
    sets = means[labels] + 0.25 * rng.randn(count, c, 1, t).astype(np.float32)
    sets = np.round(np.maximum(sets, 0) * 16) / 16        # ReLU'd, compressible
    store = DescriptorStore(path)
    store.put_batch(range(count), sets, labels)
    store.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder for the .prototxt files")
    ap.add_argument("--descriptors-per-pass", type=int, default=6400,
                    help="sets per pass = this / T: 128 frames of 50 (the paper's batch), "
                         "8 images of 784")
    ap.add_argument("--latent", type=int, default=255, help="K (the paper: 255)")
    ap.add_argument("--iterations", type=int, default=200, help="caffe train iterations")
    ap.add_argument("--train-sets", type=int, default=256,
                    help="descriptor sets in the synthetic LMDB")
    args = ap.parse_args(argv)

    import caffe
    from fvvae.model.config import FVVAEConfig
    from fvvae.model.nets import (columns_layout, extract_net, solver_text, train_net,
                            train_net_on_inputs)
    os.makedirs(args.out, exist_ok=True)

    def write(name, text):
        path = os.path.join(args.out, name)
        with open(path, "w") as f:
            f.write(text)
        print(path)

    rows = []
    for c, t in SHAPES:
        batch = max(1, args.descriptors_per_pass // t)
        cfg = FVVAEConfig(channels=c, descriptors=t, encoder=[c, args.latent],
                          batch=batch).validate()
        for layout in ("columns", "sets"):
            net = extract_net(caffe, cfg, input_shape=[batch, c, 1, t],
                              columns=layout == "columns")
            name = "head_C%d_T%d_%s" % (c, t, layout)
            write(name + ".prototxt", 'name: "%s"\n%s' % (name, net))
            rows.append({"net": name, "C": c, "T": t, "layout": layout,
                         "descriptors_per_pass": batch * t,
                         "flops_per_descriptor": head_flops(c, args.latent),
                         "nets_layout": int(columns_layout(cfg) == (layout == "columns"))})
    with open(os.path.join(args.out, "heads.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    cfg = FVVAEConfig(channels=512, descriptors=50, encoder=[512, args.latent],
                      batch=128).validate()
    write("train_C512_T50.prototxt", 'name: "train_C512_T50"\n%s'
          % train_net_on_inputs(caffe, cfg))
    for name, builder, until, size, batch in TRUNKS:
        for engine, tag in (("CAFFE", "caffe"), ("DEFAULT", "cudnn")):
            net = with_engine(trunk_net(caffe, builder, until, size, batch), engine)
            write("trunk_%s_%s.prototxt" % (name, tag), 'name: "%s_%s"\n%s' % (name, tag, net))

    # caffe train -gpu 0 of the paper's train net on a synthetic LMDB
    train = os.path.join(args.out, "train")
    os.makedirs(train, exist_ok=True)
    store = os.path.join(train, "sets_lmdb")
    if not os.path.exists(os.path.join(store, "data.mdb")):
        synthetic_store(store, 512, 50, args.train_sets)
    cfg = FVVAEConfig(channels=512, descriptors=50, encoder=[512, args.latent], batch=128,
                      source="sets_lmdb", iterations=args.iterations,
                      snapshot=args.iterations * 10).validate()
    with open(os.path.join(train, "train.prototxt"), "w") as f:
        f.write(str(train_net(caffe, cfg)))
    with open(os.path.join(train, "solver.prototxt"), "w") as f:
        f.write(solver_text(cfg, "train.prototxt", "snapshot", mode="GPU")
                .replace("display: %d" % max(1, min(100, args.iterations // 50)), "display: 10"))
    print(train)


if __name__ == "__main__":
    main()
