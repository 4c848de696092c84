"""A small FV-VAE training net and its data, for the training tests.

The net is the paper's training graph (Figure 2a, Algorithm 1) at toy size:
descriptor sets N x C x 1 x T -> dropout on the encoder input -> encoder
C -> C (ReLU) -> K -> GaussianSample (+ L_reg) -> classifier on z (1x1 conv,
max over descriptors, softmax, weight lambda3) and decoder K -> C + ReLU ->
GaussianReconstructionLoss against the complete (not dropped-out) input.
"""
import h5py
import numpy as np


def make_descriptor_sets(path, n_sets=256, channels=32, descriptors=10,
                         latent=4, classes=4, seed=0):
    """Descriptor sets drawn from a class-conditional latent model:
    x = ReLU(W z + b) + noise, z ~ N(mean of the set's class, I)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 2, (classes, latent))
    w = rng.normal(0, 1, (channels, latent))
    b = rng.normal(0.5, 0.5, channels)
    labels = rng.integers(0, classes, n_sets)
    z = means[labels][:, :, None] + rng.normal(0, 1, (n_sets, latent, descriptors))
    x = np.maximum(np.einsum("ck,nkt->nct", w, z) + b[None, :, None], 0)
    x += rng.normal(0, 0.1, x.shape)
    with h5py.File(path, "w") as f:
        f["data"] = x[:, :, None, :].astype(np.float32)
        f["label"] = labels.astype(np.float32)
    return x, labels


def train_net(caffe, h5_list, channels, descriptors, latent, classes,
              lambda3=1.0, python_layers=False, batch=16):
    L, P = caffe.layers, caffe.params
    n = caffe.NetSpec()
    n.data, n.label = L.HDF5Data(source=h5_list, batch_size=batch, shuffle=True, ntop=2)
    n.data_drop = L.Dropout(n.data, dropout_ratio=0.5)
    filler = dict(type="xavier")
    n.enc1 = L.Convolution(n.data_drop, num_output=channels, kernel_size=1, weight_filler=filler)
    n.enc1_relu = L.ReLU(n.enc1, in_place=True)
    n.mu_z = L.Convolution(n.enc1, num_output=latent, kernel_size=1, weight_filler=filler)
    if python_layers:
        n.z, n.loss_reg = L.Python(n.mu_z, ntop=2, loss_weight=[0, 1],
                                   python_param=dict(module="gaussian_sample_layer",
                                                     layer="GaussianSampleLayer",
                                                     param_str='{"seed": 1}'))
    else:
        n.z, n.loss_reg = L.GaussianSample(n.mu_z, ntop=2)
    n.cls = L.Convolution(n.z, num_output=classes, kernel_size=1, weight_filler=filler)
    n.cls_max = L.Pooling(n.cls, pool=P.Pooling.MAX, kernel_h=1, kernel_w=descriptors)
    n.loss_cls = L.SoftmaxWithLoss(n.cls_max, n.label, loss_weight=lambda3)
    n.mu_x = L.Convolution(n.z, num_output=channels, kernel_size=1, weight_filler=filler)
    n.mu_x_relu = L.ReLU(n.mu_x, in_place=True)
    sigma_x = dict(name="log_sigma_x")
    if python_layers:
        n.loss_rec = L.Python(n.data, n.mu_x, loss_weight=1, param=[sigma_x],
                              python_param=dict(module="gaussian_reconstruction_loss_layer",
                                                layer="GaussianReconstructionLossLayer"))
    else:
        n.loss_rec = L.GaussianReconstructionLoss(n.data, n.mu_x, param=[sigma_x])
    return n.to_proto()


def adadelta_solver(net_path, iterations, snapshot_prefix):
    """The paper's optimiser (section 5.2): AdaDelta with base_lr 1."""
    return "\n".join([
        'net: "%s"' % net_path,
        'type: "AdaDelta"', "base_lr: 1.0", "momentum: 0.95", "delta: 1e-6",
        'lr_policy: "fixed"', "max_iter: %d" % iterations, "display: 10",
        "average_loss: 1", "snapshot: %d" % iterations,
        'snapshot_prefix: "%s"' % snapshot_prefix, "solver_mode: CPU",
        "random_seed: 1701", ""])
